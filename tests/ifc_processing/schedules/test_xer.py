"""Primavera P6 XER: a generated export round-trips into records, and broken exports fail clearly."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from ifc_processing.schedules import read_schedule

from .support import reason, write
from .xer_fixture import (
    SIX_DAY,
    STANDARD,
    XerActivity,
    XerCalendar,
    XerProject,
    XerRelationship,
    XerWbs,
    harbour_office,
    xer_text,
)

KINDS = {"PR_FS": "FS", "PR_SS": "SS", "PR_FF": "FF", "PR_SF": "SF"}
HOURS = {STANDARD.clndr_id: STANDARD.day_hours, SIX_DAY.clndr_id: SIX_DAY.day_hours}


def _write_xer(
    path: Path, projects: list[XerProject], calendars=(STANDARD, SIX_DAY), encoding="cp1252"
) -> Path:
    return write(path, xer_text(projects, list(calendars)), encoding)


@pytest.fixture()
def harbour(tmp_path: Path):
    project = harbour_office()
    return project, read_schedule(_write_xer(tmp_path / "harbour.xer", [project]))


def test_activities_round_trip(harbour) -> None:
    project, record = harbour
    wbs = {w.wbs_id: w for w in project.wbs}
    tasks = {t.key: t for t in record.tasks}
    for activity in project.activities:
        task = tasks[activity.task_id]
        hours = HOURS[activity.calendar]
        path = []
        node = activity.wbs_id
        while node in wbs:
            path.insert(0, wbs[node].short_name)
            node = wbs[node].parent_wbs_id
        assert task.wbs_code == ".".join([*path, activity.code])
        assert task.name == activity.name
        assert task.parent_key == (f"wbs:{activity.wbs_id}" if activity.wbs_id in wbs else None)
        assert task.is_milestone == (activity.task_type in ("TT_Mile", "TT_FinMile"))
        assert not task.is_summary
        assert (task.planned_start, task.planned_finish) == (activity.start.date(), activity.finish.date())
        assert task.actual_start == (activity.actual_start.date() if activity.actual_start else None)
        assert task.actual_finish == (activity.actual_finish.date() if activity.actual_finish else None)
        assert task.duration_days == pytest.approx(activity.duration_hours / hours)
        assert task.percent_complete == activity.percent
        expected_float = None if activity.float_hours is None else activity.float_hours / hours
        assert task.total_float_days == pytest.approx(expected_float)
        assert task.is_critical == (
            activity.driving or (activity.float_hours is not None and activity.float_hours <= 0)
        )
        assert task.calendar_key == activity.calendar
        assert task.baseline_start is None and task.baseline_finish is None


def test_ten_hour_calendar_converts_hours_with_its_own_day_length(harbour) -> None:
    _, record = harbour
    piling = next(t for t in record.tasks if t.name == "Bored piling")
    assert piling.duration_days == 18.0  # 180 h on the 10 h/day piling calendar, not 22.5 days of 8 h


def test_wbs_nodes_become_summary_tasks_in_seq_order_with_rolled_up_dates(harbour) -> None:
    _, record = harbour
    summaries = [t for t in record.tasks if t.key.startswith("wbs:")]
    assert [(t.key, t.wbs_code, t.name, t.parent_key) for t in summaries] == [
        ("wbs:101", "SUB", "Substructure", None),
        ("wbs:103", "SUB.EXC", "Excavation & piling", "wbs:101"),
        ("wbs:104", "SUB.FND", "Foundations", "wbs:101"),
        ("wbs:102", "SUP", "Superstructure", None),
        ("wbs:105", "SUP.L1", "Level 1 frame", "wbs:102"),  # seq_num 10, though listed after L2
        ("wbs:106", "SUP.L2", "Level 2 frame", "wbs:102"),
    ]
    assert all(t.is_summary for t in summaries)
    tasks = {t.key: t for t in record.tasks}
    assert (tasks["wbs:101"].planned_start, tasks["wbs:101"].planned_finish) == (
        dt.date(2024, 4, 1),
        dt.date(2024, 5, 2),
    )
    assert tasks["wbs:103"].actual_start == dt.date(2024, 4, 1)
    assert tasks["wbs:103"].actual_finish is None  # piling is still going
    # the project's own WBS node is the schedule, not a task; its milestone is a root task
    assert tasks["2001"].parent_key is None and tasks["2001"].wbs_code == "A1000"


def test_tasks_follow_their_parents(harbour) -> None:
    _, record = harbour
    position = {t.key: i for i, t in enumerate(record.tasks)}
    assert all(position[t.parent_key] < position[t.key] for t in record.tasks if t.parent_key)


def test_relationships_round_trip_with_lags_in_the_predecessors_calendar_days(harbour) -> None:
    project, record = harbour
    calendar = {a.task_id: a.calendar for a in project.activities}
    expected = [
        (r.predecessor, r.successor, KINDS[r.pred_type], r.lag_hours / HOURS[calendar[r.predecessor]])
        for r in project.relationships
    ]
    assert [(lk.predecessor_key, lk.successor_key, lk.kind, lk.lag_days) for lk in record.links] == expected
    assert {lk.kind for lk in record.links} == {"FS", "SS", "FF", "SF"}
    assert any(lk.lag_days < 0 for lk in record.links)


def test_project_name_data_date_and_calendars(harbour) -> None:
    _, record = harbour
    assert record.source_format == "xer"
    assert record.name == "Harbour Office Block"
    assert record.data_date == dt.date(2024, 4, 15)
    standard, six_day = record.calendars
    assert (standard.key, standard.name, standard.working_weekdays) == ("1", STANDARD.name, (1, 2, 3, 4, 5))
    # the Saturday "holiday" changes nothing on a Monday–Friday calendar and is dropped
    assert standard.holidays == (dt.date(2024, 5, 9), dt.date(2024, 5, 20), dt.date(2024, 12, 25))
    assert six_day.working_weekdays == (1, 2, 3, 4, 5, 6) and six_day.holidays == ()
    assert record.warnings == (
        "line 10: calendar 1 ('Standard 5 Day Workweek'): 1 worked days outside the weekly pattern "
        "(first 2024-06-08) cannot be represented and are ignored",
    )


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_text_encodings(tmp_path: Path, encoding: str) -> None:
    project = harbour_office()
    project.activities[1].name = "Débroussaillage – zone € 2"
    record = read_schedule(_write_xer(tmp_path / "p.xer", [project], encoding=encoding))
    assert {t.name for t in record.tasks} >= {"Débroussaillage – zone € 2"}


def _two_projects() -> list[XerProject]:
    first = harbour_office()
    at = dt.datetime(2024, 7, 1, 8)
    second = XerProject(
        "200",
        "FITOUT",
        "Harbour Office fit-out",
        dt.datetime(2024, 7, 1, 8),
        "200",
        [XerWbs("201", "200", "FO", "Fit-out", 10)],
        [
            XerActivity("3001", "B1000", "Partitions", "201", at, at + dt.timedelta(days=4, hours=9), 40),
            XerActivity("3002", "B1010", "Ceilings", "201", at, at + dt.timedelta(days=4, hours=9), 40),
        ],
        [
            XerRelationship("3001", "3002", "PR_SS", 8),
            XerRelationship("2010", "3001", "PR_FS", pred_proj_id="100"),  # from the frame milestone
        ],
    )
    return [first, second]


def test_several_projects_default_to_the_first_and_schedule_picks_one(tmp_path: Path) -> None:
    path = _write_xer(tmp_path / "two.xer", _two_projects())
    first = read_schedule(path)
    assert first.name == "Harbour Office Block" and len(first.tasks) == 16
    fitout = read_schedule(path, schedule="FITOUT")
    assert fitout.name == "Harbour Office fit-out"
    assert [t.key for t in fitout.tasks] == ["wbs:201", "3001", "3002"]
    assert [(lk.predecessor_key, lk.successor_key) for lk in fitout.links] == [("3001", "3002")]
    assert "1 links from activities of other projects skipped" in fitout.warnings
    assert read_schedule(path, schedule="Harbour Office fit-out").tasks == fitout.tasks
    assert (
        reason(read_schedule, path, schedule="Nope") == "no project named 'Nope' (projects: 'HOB', 'FITOUT')"
    )


def test_unreadable_calendar_data_is_monday_to_friday_with_a_warning(tmp_path: Path) -> None:
    broken = dataclasses.replace(STANDARD, data="(0||CalendarData()((0||DaysOfWeek()(")
    record = read_schedule(_write_xer(tmp_path / "p.xer", [harbour_office()], calendars=(broken, SIX_DAY)))
    assert record.calendars[0].working_weekdays == (1, 2, 3, 4, 5)
    assert record.calendars[0].holidays == ()
    assert any("calendar 1" in w and "taken as Monday–Friday" in w for w in record.warnings)


# --------------------------------------------------------------------------- bad exports


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.split("\r\n"), start=1) if fragment in line)


def test_a_bad_date_names_its_line(tmp_path: Path) -> None:
    text = xer_text([harbour_office()], [STANDARD, SIX_DAY]).replace("2024-05-06 08:00", "2024-13-06 08:00")
    path = write(tmp_path / "p.xer", text)
    line = _line_of(text, "2024-13-06")
    assert reason(read_schedule, path) == f"line {line}: target_start_date '2024-13-06 08:00' is not a date"


def test_a_relationship_cycle_names_the_activities(tmp_path: Path) -> None:
    project = harbour_office()
    project.relationships.append(XerRelationship("2007", "2006", "PR_FS"))
    message = reason(read_schedule, _write_xer(tmp_path / "p.xer", [project]))
    assert message == (
        "link cycle: task_id 2006 ('Columns level 1') → task_id 2007 ('Slab level 1') → "
        "task_id 2006 ('Columns level 1')"
    )


def test_a_link_to_a_missing_activity_of_the_same_project_is_an_error(tmp_path: Path) -> None:
    project = harbour_office()
    project.relationships.append(XerRelationship("2999", "2006", "PR_FS"))
    assert "predecessor 2999 is not a task" in reason(
        read_schedule, _write_xer(tmp_path / "p.xer", [project])
    )


def _xer(*lines: str) -> str:
    return "\r\n".join(["ERMHDR\t19.12\t2024-04-15\tProject", *lines, "%E"]) + "\r\n"


TASK_F = "%F\ttask_id\tproj_id\ttask_code\ttask_name\ttarget_start_date\ttarget_end_date"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%T\tTASK\r\n" + TASK_F, "not a Primavera XER file: it does not start with ERMHDR"),
        (_xer("%T\tPROJECT", "%F\tproj_id", "%R\t1"), "no TASK table: the export holds no activities"),
        (_xer("%T\tTASK", "%F\tproj_id\ttask_name", "%R\t1\tx"), "line 2: table TASK lacks field task_id"),
        (_xer("%T\tTASK", "%R\t1\t1\tA\tx"), "line 3: %R before the table's %F line"),
        (_xer("%F\ttask_id"), "line 2: %F before any %T"),
        (_xer("%T\tTASK", TASK_F, "garbage"), "line 4: expected %T, %F, %R or %E, found 'garbage'"),
        (
            _xer("%T\tTASK", TASK_F, "%R\t1\t1\tA\tx\t\t\tsurplus"),
            "line 4: 7 values for the 6 fields of table TASK",
        ),
        (_xer("%T\tTASK", TASK_F, "%T\tTASK"), "line 4: table TASK appears twice"),
        (_xer("%T\tTASK", TASK_F, "%R\t\t1\tA\tx"), "line 4: TASK row without task_id"),
        (
            _xer("%T\tTASK", TASK_F, "%R\t1\t1\tA\tx", "%R\t1\t1\tB\ty"),
            "duplicate task_id 1 ('y')",
        ),
        (
            _xer(
                "%T\tTASK",
                TASK_F,
                "%R\t1\t1\tA\tx",
                "%R\t2\t1\tB\ty",
                "%T\tTASKPRED",
                "%F\ttask_id\tpred_task_id\tproj_id\tpred_proj_id\tpred_type\tlag_hr_cnt",
                "%R\t2\t1\t1\t1\tPR_XX\t0",
            ),
            "line 8: pred_type 'PR_XX' is not PR_FS, PR_SS, PR_FF or PR_SF",
        ),
        (
            _xer("%T\tTASK", TASK_F, "%R\t1\t1\tA\tx\t2024-05-02 08:00\t2024-05-01 17:00"),
            "task_id 1 ('x'): planned finish 2024-05-01 is before planned start 2024-05-02",
        ),
        ("ERMHDR\x00\x01\x02" + "\x00" * 100, "binary data, not a Primavera XER file"),
    ],
)
def test_bad_exports_raise_one_line_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert reason(read_schedule, write(tmp_path / "bad.xer", text)) == expected


def test_minimal_export_without_project_wbs_or_calendar_tables(tmp_path: Path) -> None:
    text = _xer("%T\tTASK", TASK_F, "%R\t1\t1\tA\tDig\t2024-05-02 08:00\t2024-05-03 17:00")
    record = read_schedule(write(tmp_path / "min.xer", text))
    assert record.name == "min"
    assert [(t.key, t.wbs_code, t.name, t.planned_finish) for t in record.tasks] == [
        ("1", "A", "Dig", dt.date(2024, 5, 3))
    ]
    assert record.calendars == () and record.links == ()


def test_generated_calendar_with_a_custom_week(tmp_path: Path) -> None:
    compressed = XerCalendar("1", "Tue-Sat", 8, (2, 3, 4, 5, 6), holidays=(dt.date(2024, 5, 11),))
    record = read_schedule(
        _write_xer(tmp_path / "p.xer", [harbour_office()], calendars=(compressed, SIX_DAY))
    )
    assert record.calendars[0].working_weekdays == (2, 3, 4, 5, 6)
    assert record.calendars[0].holidays == (dt.date(2024, 5, 11),)
