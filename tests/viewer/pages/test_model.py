"""The model page's pure parts: which tasks are active on a day, the element panel."""

from __future__ import annotations

import datetime as dt

from viewer.client import ElementDetail, PropertyGroup, TaskRow
from viewer.i18n import text
from viewer.pages.model import active_tasks, day_number, element_html, iso_date

D = dt.date


def _task(index, planned, actual=(None, None), summary=False, status=None) -> TaskRow:
    return TaskRow(
        index=index,
        key=f"T{index}",
        wbs_code=f"1.{index}",
        name=f"task {index}",
        is_summary=summary,
        planned_start=planned[0],
        planned_finish=planned[1],
        actual_start=actual[0],
        actual_finish=actual[1],
        status=status,
        delay_days=None,
    )


def test_active_tasks_are_work_in_their_window_or_started_and_unfinished() -> None:
    tasks = [
        _task(0, (D(2025, 3, 1), D(2025, 3, 10))),  # planned window covers the day
        _task(1, (D(2025, 2, 1), D(2025, 2, 5)), actual=(D(2025, 2, 1), None)),  # running late
        _task(2, (D(2025, 2, 1), D(2025, 2, 5)), actual=(D(2025, 2, 1), D(2025, 2, 6))),  # done before
        _task(3, (D(2025, 3, 20), D(2025, 3, 30)), actual=(D(2025, 3, 3), None)),  # started early
        _task(4, (D(2025, 1, 1), D(2025, 12, 31)), summary=True),  # summaries are not work
        _task(5, (None, None)),  # undated
        _task(6, (D(2025, 3, 5), None)),  # a milestone on the day
    ]
    assert [t.index for t in active_tasks(tasks, D(2025, 3, 5))] == [0, 1, 3, 6]
    assert [t.index for t in active_tasks(tasks, D(2025, 3, 11))] == [1, 3]


def test_day_numbers_match_the_4d_engine() -> None:
    assert day_number(D(1970, 1, 2)) == 1
    assert iso_date(day_number(D(2025, 3, 20))) == "2025-03-20"


def test_element_panel_groups_properties_and_escapes_everything() -> None:
    detail = ElementDetail(
        global_id="2O2Fr$t4X7Zf8NOew3FLOH",
        ifc_class="IfcWall",
        name="<script>alert(1)</script>",
        type_name=None,
        storey_name="1F",
        groups=(
            PropertyGroup(name="Pset_WallCommon", kind="pset", values={"IsExternal": True, "Note": "a & b"}),
            PropertyGroup(
                name="Qto_WallBaseQuantities", kind="qto", values={"Length": 4.5}, units={"Length": "m"}
            ),
        ),
        classifications=("GB/T 51269 14-20.10.30",),
        materials=("C30",),
    )
    tasks = [_task(0, (D(2025, 3, 1), D(2025, 3, 10)), actual=(D(2025, 3, 2), None), status="in_progress")]
    page = element_html(detail, tasks, lambda key: text(key, "en"))
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "a &amp; b" in page and "4.5 m" in page
    assert page.index("Pset_WallCommon") < page.index("Qto_WallBaseQuantities")
    assert "<details open><summary>Pset_WallCommon" in page  # the first group open, the rest folded
    assert "In progress" in page and "2025-03-01 → 2025-03-10" in page
    assert "data-role='global-id'>2O2Fr$t4X7Zf8NOew3FLOH<" in page
    chinese = element_html(detail, [], lambda key: text(key, "zh"))
    assert "该构件未关联任务" in chinese and "工程量" in chinese
    assert "点击模型中的构件" in element_html(None, [], lambda key: text(key, "zh"))


def test_pins_are_the_listed_issues_with_a_point() -> None:
    from viewer.client import IssueRow
    from viewer.pages.issues import pins_for

    def row(n, point):
        return IssueRow(
            n, n, "quality", f"问题 {n}", "major", "open", False, None, None, None, (), point, None
        )

    pins = pins_for([row(1, (1.0, 2.0, 3.0)), row(2, None)])
    assert pins == [
        {
            "id": 1,
            "number": 1,
            "point_m": [1.0, 2.0, 3.0],
            "severity": "major",
            "status": "open",
            "title": "问题 1",
        }
    ]


def test_issue_detail_escapes_everything_and_speaks_both_languages() -> None:
    from viewer.client import CommentItem, IssueDetail, IssueRow, PhotoItem
    from viewer.pages.issues import issue_detail_html

    row = IssueRow(
        7, 12, "safety", "<img src=x onerror=alert(1)>", "major", "ready_for_review", True,
        D(2026, 12, 9), 3, "项目经理", ("2O2Fr$t4X7Zf8NOew3FLOH",), None, D(2025, 3, 20),
    )  # fmt: skip
    detail = IssueDetail(
        row=row,
        description="a & b",
        creator="质量检查员",
        verifier=None,
        reopened_count=1,
        allowed_actions=("reinspect_pass",),
        camera=None,
        comments=(CommentItem("site", "<b>done</b>", dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)),),
        photos=(PhotoItem("a" * 64, "after", "x'.jpg", None, 1),),
    )
    page = issue_detail_html(detail, lambda key: text(key, "zh"), lambda sha: f"/photos/{sha}")
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert "a &amp; b" in page and "&lt;b&gt;done&lt;/b&gt;" in page and "x&#x27;.jpg" in page
    assert "待复查" in page and "已逾期" in page and "整改后" in page and "2025-03-20" in page
    english = issue_detail_html(detail, lambda key: text(key, "en"), lambda sha: f"/photos/{sha}")
    assert "Ready for review" in english and "overdue" in english
    assert "Choose an issue" in issue_detail_html(None, lambda key: text(key, "en"), str)
