"""MS Project XML: the Schependomlaan corpus schedule and the MSPDI features it lacks."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ifc_processing.schedules import read_schedule

from .support import reason, write

NS = "{http://schemas.microsoft.com/project}"
SCHEPENDOMLAAN = "schedule/Schependomlaan_Uitvoering_18-02-2015.xml"


# --------------------------------------------------------------------------- the corpus file


@pytest.fixture(scope="module")
def corpus_xml(corpus: Path) -> tuple[Path, ET.Element]:
    path = corpus / SCHEPENDOMLAAN
    return path, ET.parse(path).getroot()


def _text(element: ET.Element, name: str) -> str | None:
    return element.findtext(NS + name)


@pytest.mark.corpus
def test_schependomlaan_has_its_157_tasks_in_file_order(corpus_xml) -> None:
    path, root = corpus_xml
    uids = [_text(t, "UID") for t in root.iter(NS + "Task") if _text(t, "UID") != "0"]
    record = read_schedule(path)
    assert len(uids) == 157
    assert [t.key for t in record.tasks] == uids
    assert record.source_format == "mspdi"
    assert record.name == _text(root, "Name") == "Schependomlaan Nijmegen"
    assert record.warnings == ()


@pytest.mark.corpus
@pytest.mark.parametrize("uid", ["10", "126", "155", "201", "211"])
def test_schependomlaan_tasks_match_the_xml(corpus_xml, uid: str) -> None:
    path, root = corpus_xml
    element = next(t for t in root.iter(NS + "Task") if _text(t, "UID") == uid)
    task = {t.key: t for t in read_schedule(path).tasks}[uid]
    assert task.name == (_text(element, "Name") or "").strip()
    assert task.planned_start == dt.date.fromisoformat(_text(element, "Start")[:10])
    assert task.planned_finish == dt.date.fromisoformat(_text(element, "Finish")[:10])
    hours = float(_text(element, "Duration").removeprefix("PT").split("H")[0])
    assert task.duration_days == pytest.approx(hours / 8)  # MinutesPerDay is 480
    assert task.wbs_code == (_text(element, "WBS") or _text(element, "OutlineNumber"))
    assert task.calendar_key == (
        None if _text(element, "CalendarUID") == "-1" else _text(element, "CalendarUID")
    )
    assert task.parent_key is None  # the whole schedule is at outline level 1


@pytest.mark.corpus
def test_schependomlaan_links_match_the_predecessor_links(corpus_xml) -> None:
    path, root = corpus_xml
    kinds = {"0": "FF", "1": "FS", "2": "SF", "3": "SS"}
    expected = {
        (
            _text(link, "PredecessorUID"),
            _text(task, "UID"),
            kinds[_text(link, "Type")],
            int(_text(link, "LinkLag")),
        )
        for task in root.iter(NS + "Task")
        for link in task.iter(NS + "PredecessorLink")
    }
    record = read_schedule(path)
    # LinkLag is in tenths of minutes: 4800 is one 8-hour day (only day and % formats occur).
    assert {
        (lk.predecessor_key, lk.successor_key, lk.kind, round(lk.lag_days * 4800)) for lk in record.links
    } == (expected)
    assert len(record.links) == 48
    assert ("197", "201", "SS", 4800) in expected  # the one link with a lag: SS + 1 day


@pytest.mark.corpus
def test_schependomlaan_calendar_holidays_are_the_non_working_exceptions(corpus_xml) -> None:
    path, root = corpus_xml
    calendar = next(c for c in root.iter(NS + "Calendar") if _text(c, "UID") == "1")
    expected = set()
    for day in calendar.iter(NS + "WeekDay"):
        if _text(day, "DayType") == "0" and _text(day, "DayWorking") == "0":
            period = day.find(NS + "TimePeriod")
            first = dt.date.fromisoformat(_text(period, "FromDate")[:10])
            last = dt.date.fromisoformat(_text(period, "ToDate")[:10])
            expected |= {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
    record = {c.key: c for c in read_schedule(path).calendars}
    assert set(record) == {"1", "2", "3", "4"}
    assert record["1"].working_weekdays == (1, 2, 3, 4, 5)
    assert set(record["1"].holidays) == {d for d in expected if d.isoweekday() <= 5}
    assert dt.date(2015, 7, 28) in record["1"].holidays  # the builders' summer holiday
    assert record["3"].holidays == ()


# --------------------------------------------------------------------------- built files


def mspdi(tasks: str, *, project: str = "", calendars: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Project xmlns="http://schemas.microsoft.com/project"><Name>Test</Name>'
        f"{project}<Calendars>{calendars}</Calendars><Tasks>{tasks}</Tasks></Project>"
    )


def task(uid: int, level: int = 1, extra: str = "", name: str | None = None) -> str:
    return (
        f"<Task><UID>{uid}</UID><ID>{uid}</ID><Name>{name or f'T{uid}'}</Name>"
        f"<OutlineNumber>{uid}</OutlineNumber><OutlineLevel>{level}</OutlineLevel>{extra}</Task>"
    )


def link(predecessor: int, kind: int = 1, lag: int = 0, lag_format: int = 7, extra: str = "") -> str:
    return (
        f"<PredecessorLink><PredecessorUID>{predecessor}</PredecessorUID><Type>{kind}</Type>"
        f"<LinkLag>{lag}</LinkLag><LagFormat>{lag_format}</LagFormat>{extra}</PredecessorLink>"
    )


def test_outline_levels_give_the_tree_and_the_project_summary_task_is_skipped(tmp_path: Path) -> None:
    tasks = (
        "<Task><UID>0</UID><Name>Project</Name><OutlineLevel>0</OutlineLevel><Summary>1</Summary></Task>"
        + task(1, 1, "<Summary>1</Summary><WBS>A</WBS>")
        + task(2, 2, "<Summary>1</Summary>")
        + task(3, 3)
        + "<Task><UID>9</UID><IsNull>1</IsNull><OutlineLevel>3</OutlineLevel></Task>"
        + task(4, 3, "<Milestone>1</Milestone>")
        + task(5, 2)
        + task(6, 1)
    )
    record = read_schedule(write(tmp_path / "s.xml", mspdi(tasks)))
    assert [(t.key, t.parent_key) for t in record.tasks] == [
        ("1", None),
        ("2", "1"),
        ("3", "2"),
        ("4", "2"),
        ("5", "1"),
        ("6", None),
    ]
    by_key = {t.key: t for t in record.tasks}
    assert by_key["1"].wbs_code == "A" and by_key["2"].wbs_code == "2"  # WBS first, else OutlineNumber
    assert by_key["1"].is_summary and not by_key["3"].is_summary
    assert by_key["4"].is_milestone


def test_outline_level_without_a_parent_is_a_root_with_a_warning(tmp_path: Path) -> None:
    record = read_schedule(write(tmp_path / "s.xml", mspdi(task(1, 2))))
    assert record.tasks[0].parent_key is None
    assert any("task UID 1: outline level 2" in w for w in record.warnings)


def test_durations_slack_baseline_actuals_and_data_date(tmp_path: Path) -> None:
    extra = (
        "<Start>2024-03-04T08:00:00</Start><Finish>2024-03-05T18:00:00</Finish>"
        "<Duration>PT20H0M0S</Duration><PercentComplete>40</PercentComplete><Critical>1</Critical>"
        "<TotalSlack>4800</TotalSlack><CalendarUID>7</CalendarUID>"
        "<ActualStart>2024-03-04T09:00:00</ActualStart>"
        "<Baseline><Number>1</Number><Start>2023-01-01T08:00:00</Start><Finish>2023-01-02T08:00:00</Finish></Baseline>"
        "<Baseline><Number>0</Number><Start>2024-02-26T08:00:00</Start><Finish>2024-02-27T18:00:00</Finish></Baseline>"
    )
    project = "<StatusDate>2024-03-04T18:00:00</StatusDate><CurrentDate>2024-01-01T08:00:00</CurrentDate>"
    project += "<MinutesPerDay>600</MinutesPerDay>"
    record = read_schedule(write(tmp_path / "s.xml", mspdi(task(1, extra=extra), project=project)))
    (t,) = record.tasks
    assert (t.planned_start, t.planned_finish) == (dt.date(2024, 3, 4), dt.date(2024, 3, 5))
    assert (t.baseline_start, t.baseline_finish) == (dt.date(2024, 2, 26), dt.date(2024, 2, 27))
    assert (t.actual_start, t.actual_finish) == (dt.date(2024, 3, 4), None)
    assert t.duration_days == pytest.approx(2.0)  # 20 h of 10-hour days
    assert t.total_float_days == pytest.approx(0.8)  # 480 min of a 600-minute day
    assert (t.percent_complete, t.is_critical, t.calendar_key) == (40, True, "7")
    assert record.data_date == dt.date(2024, 3, 4)  # StatusDate wins over CurrentDate
    assert any("calendars the file does not define: 7" in w for w in record.warnings)


def test_current_date_is_the_data_date_without_a_status_date(tmp_path: Path) -> None:
    project = "<CurrentDate>2024-01-02T08:00:00</CurrentDate>"
    assert read_schedule(write(tmp_path / "s.xml", mspdi(task(1), project=project))).data_date == dt.date(
        2024, 1, 2
    )


def test_link_types_and_lag_units(tmp_path: Path) -> None:
    tasks = (
        task(1, extra="<Duration>PT32H0M0S</Duration>")
        + task(2, extra=link(1, 0, 9600))  # FF, 2 working days
        + task(3, extra=link(1, 1, 14400, 8))  # FS, 1 elapsed day (24 h)
        + task(4, extra=link(1, 2, 50, 19))  # SF, 50 % of the predecessor's 4 days
        + task(5, extra=link(1, 3, -2400))  # SS, half a day lead
    )
    record = read_schedule(write(tmp_path / "s.xml", mspdi(tasks)))
    assert [(lk.successor_key, lk.kind, lk.lag_days) for lk in record.links] == [
        ("2", "FF", 2.0),
        ("3", "FS", 1.0),
        ("4", "SF", 2.0),
        ("5", "SS", -0.5),
    ]


def test_cross_project_links_are_skipped_with_a_warning(tmp_path: Path) -> None:
    extra = link(99, extra="<CrossProject>1</CrossProject><CrossProjectName>Other.mpp\\7</CrossProjectName>")
    record = read_schedule(write(tmp_path / "s.xml", mspdi(task(1, extra=extra))))
    assert record.links == ()
    assert any("Other.mpp" in w and "skipped" in w for w in record.warnings)


def test_derived_calendar_inherits_from_its_base_and_exceptions_apply(tmp_path: Path) -> None:
    def weekday(day_type: int, working: int) -> str:
        return f"<WeekDay><DayType>{day_type}</DayType><DayWorking>{working}</DayWorking></WeekDay>"

    def period(first: str, last: str, working: int = 0, kind: str = "") -> str:
        return (
            f"<DayWorking>{working}</DayWorking>{kind}"
            f"<TimePeriod><FromDate>{first}T00:00:00</FromDate><ToDate>{last}T23:59:00</ToDate></TimePeriod>"
        )

    def exception(name: str, body: str) -> str:
        return f"<Exception><Name>{name}</Name>{body}</Exception>"

    base = (
        "<Calendar><UID>1</UID><Name>Standard</Name><BaseCalendarUID>-1</BaseCalendarUID><WeekDays>"
        + "".join(weekday(d, 0 if d in (1, 7) else 1) for d in range(1, 8))
        + f"<WeekDay><DayType>0</DayType>{period('2024-12-24', '2024-12-27')}</WeekDay>"
        + "</WeekDays></Calendar>"
    )
    derived = (
        "<Calendar><UID>2</UID><Name>Saturdays</Name><BaseCalendarUID>1</BaseCalendarUID><WeekDays>"
        + weekday(7, 1)
        + "</WeekDays><Exceptions>"
        + exception("Carnival", period("2024-02-12", "2024-02-13", kind="<Type>1</Type>"))
        + exception("Kingsday", period("2024-04-27", "2030-04-27", kind="<Type>2</Type>"))  # yearly
        + exception("Boxing day on", period("2024-12-26", "2024-12-26", working=1))
        + "</Exceptions></Calendar>"
    )
    record = read_schedule(write(tmp_path / "s.xml", mspdi(task(1), calendars=base + derived)))
    calendars = {c.key: c for c in record.calendars}
    assert calendars["1"].working_weekdays == (1, 2, 3, 4, 5)
    assert calendars["1"].holidays == tuple(dt.date(2024, 12, d) for d in (24, 25, 26, 27))
    assert calendars["2"].name == "Saturdays"
    assert calendars["2"].working_weekdays == (1, 2, 3, 4, 5, 6)
    assert calendars["2"].holidays == (
        dt.date(2024, 2, 12),
        dt.date(2024, 2, 13),
        dt.date(2024, 12, 24),
        dt.date(2024, 12, 25),
        dt.date(2024, 12, 27),
    )
    assert any("calendar UID 2: recurring exception 'Kingsday' skipped" in w for w in record.warnings)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "<Project xmlns='http://schemas.microsoft.com/project'><Tasks><Task><UID>1</UID>",
            "not well-formed XML",
        ),
        ("<html><body>hello</body></html>", "not an MS Project XML file: the root element is <html>"),
        (
            '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><Project>&a;</Project>',
            "XML entity declarations are not allowed",
        ),
        (mspdi("<Task><ID>4</ID><Name>x</Name></Task>"), "task #1 (ID 4) has no UID"),
        (mspdi(task(3, extra="<Start>tomorrow</Start>")), "task UID 3: Start 'tomorrow' is not a date"),
        (
            mspdi(task(3, extra="<Duration>16 hours</Duration>")),
            "task UID 3: Duration '16 hours' is not an ISO",
        ),
        (
            mspdi(task(3) + task(4, extra=link(3, kind=7))),
            "task UID 4: PredecessorLink from UID 3 has Type '7'",
        ),
        (mspdi(task(3, extra=link(8))), "link 8 → 3: predecessor 8 is not a task"),
        (
            mspdi(task(3, extra="<Start>2024-01-05T08:00:00</Start><Finish>2024-01-04T17:00:00</Finish>")),
            "task UID 3 ('T3'): planned finish 2024-01-04 is before planned start 2024-01-05",
        ),
        (
            mspdi(task(3, extra="<PercentComplete>120</PercentComplete>")),
            "percent complete 120 is outside 0–100",
        ),
    ],
)
def test_bad_files_raise_one_line_errors(tmp_path: Path, content: str, expected: str) -> None:
    assert expected in reason(read_schedule, write(tmp_path / "bad.xml", content))
