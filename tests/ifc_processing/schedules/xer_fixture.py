"""A Primavera P6 XER writer for tests: realistic exports built from plain data, no binary fixtures.

``harbour_office()`` is a small but complete project (three WBS levels, ten activities with
start and finish milestones, all four relationship types with lags and a lead, two
calendars with different hours per day, progress on some activities); ``xer_text`` writes
any ``XerProject`` list the way P6 19 does: an ERMHDR line, then ``%T``/``%F``/``%R`` blocks
with tab-separated values, ``%E`` at the end, and calendar data with DEL (0x7F) for line
breaks. Tests compare what the reader returns with this input data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

EXCEL_EPOCH = dt.date(1899, 12, 30)
DEL = "\x7f"


@dataclass
class XerCalendar:
    clndr_id: str
    name: str
    day_hours: float
    weekdays: tuple[int, ...]  # ISO, 1 = Monday
    holidays: tuple[dt.date, ...] = ()
    worked_days_off: tuple[dt.date, ...] = ()  # exceptions with hours on non-working weekdays
    data: str | None = None  # raw clndr_data instead of the generated one


@dataclass
class XerWbs:
    wbs_id: str
    parent_wbs_id: str
    short_name: str
    name: str
    seq_num: int


@dataclass
class XerActivity:
    task_id: str
    code: str
    name: str
    wbs_id: str
    start: dt.datetime
    finish: dt.datetime
    duration_hours: float
    task_type: str = "TT_Task"
    calendar: str = "1"
    actual_start: dt.datetime | None = None
    actual_finish: dt.datetime | None = None
    percent: float = 0.0
    float_hours: float | None = 0.0
    driving: bool = False


@dataclass
class XerRelationship:
    predecessor: str
    successor: str
    pred_type: str  # PR_FS, PR_SS, PR_FF, PR_SF
    lag_hours: float = 0.0
    pred_proj_id: str | None = None  # defaults to the successor's project


@dataclass
class XerProject:
    proj_id: str
    short_name: str
    name: str
    data_date: dt.datetime
    project_wbs_id: str
    wbs: list[XerWbs] = field(default_factory=list)
    activities: list[XerActivity] = field(default_factory=list)
    relationships: list[XerRelationship] = field(default_factory=list)


def _when(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def clndr_data(calendar: XerCalendar) -> str:
    """P6's nested calendar notation: days 1 (Sunday) … 7 (Saturday), exceptions as day numbers."""
    days = []
    for p6_day in range(1, 8):
        iso = 7 if p6_day == 1 else p6_day - 1
        if iso in calendar.weekdays:
            afternoon_end = 13 + calendar.day_hours - 4
            morning = "(0||0(s|08:00|f|12:00)())"
            slots = f"({DEL}{morning}{DEL}(0||1(s|13:00|f|{afternoon_end:02.0f}:00)()))"
        else:
            slots = "()"
        days.append(f"(0||{p6_day}(){slots})")
    exceptions = [f"(0||{i}(d|{(day - EXCEL_EPOCH).days})())" for i, day in enumerate(calendar.holidays)]
    exceptions += [
        f"(0||{len(calendar.holidays) + i}(d|{(day - EXCEL_EPOCH).days})({DEL}(0||0(s|08:00|f|12:00)())))"
        for i, day in enumerate(calendar.worked_days_off)
    ]
    return (
        f"(0||CalendarData()({DEL}(0||DaysOfWeek()({DEL}{DEL.join(days)}))"
        f"{DEL}(0||VIEW(ShowTotal|Y)()){DEL}(0||Exceptions()({DEL}{DEL.join(exceptions)}))))"
    )


def _table(name: str, fields: list[str], rows: list[list[object]]) -> list[str]:
    lines = [f"%T\t{name}", "%F\t" + "\t".join(fields)]
    lines += ["%R\t" + "\t".join("" if v is None else str(v) for v in row) for row in rows]
    return lines


def xer_text(projects: list[XerProject], calendars: list[XerCalendar]) -> str:
    """The XER export of ``projects`` (CRLF line ends, as P6 writes them)."""
    lines = [
        "ERMHDR\t19.12\t2024-04-15\tProject\tplanner\tSite Planner\tdbxDatabaseNoName\t"
        "Project Management\tEUR"
    ]
    lines += _table(
        "CURRTYPE",
        ["curr_id", "decimal_digit_cnt", "curr_symbol", "curr_short_name", "curr_type"],
        [["1", "2", "€", "EUR", "Euro"]],
    )
    lines += _table(
        "PROJECT",
        [
            "proj_id",
            "fy_start_month_num",
            "proj_short_name",
            "clndr_id",
            "plan_start_date",
            "last_recalc_date",
        ],
        [
            [p.proj_id, "1", p.short_name, "1", _when(min(a.start for a in p.activities)), _when(p.data_date)]
            for p in projects
        ],
    )
    lines += _table(
        "CALENDAR",
        [
            "clndr_id",
            "default_flag",
            "clndr_name",
            "proj_id",
            "base_clndr_id",
            "clndr_type",
            "day_hr_cnt",
            "week_hr_cnt",
            "clndr_data",
        ],
        [
            [
                c.clndr_id,
                "Y" if i == 0 else "N",
                c.name,
                "",
                "",
                "CA_Base",
                f"{c.day_hours:g}",
                f"{c.day_hours * len(c.weekdays):g}",
                c.data if c.data is not None else clndr_data(c),
            ]
            for i, c in enumerate(calendars)
        ],
    )
    wbs_rows = []
    for p in projects:
        wbs_rows.append([p.project_wbs_id, p.proj_id, "1", "Y", p.short_name, p.name, ""])
        wbs_rows += [
            [w.wbs_id, p.proj_id, w.seq_num, "N", w.short_name, w.name, w.parent_wbs_id] for w in p.wbs
        ]
    lines += _table(
        "PROJWBS",
        ["wbs_id", "proj_id", "seq_num", "proj_node_flag", "wbs_short_name", "wbs_name", "parent_wbs_id"],
        wbs_rows,
    )
    task_fields = [
        "task_id",
        "proj_id",
        "wbs_id",
        "clndr_id",
        "phys_complete_pct",
        "complete_pct_type",
        "task_type",
        "status_code",
        "task_code",
        "task_name",
        "total_float_hr_cnt",
        "remain_drtn_hr_cnt",
        "target_drtn_hr_cnt",
        "act_start_date",
        "act_end_date",
        "early_start_date",
        "early_end_date",
        "target_start_date",
        "target_end_date",
        "driving_path_flag",
    ]
    task_rows = []
    for p in projects:
        for a in p.activities:
            status = "TK_Complete" if a.actual_finish else "TK_Active" if a.actual_start else "TK_NotStart"
            task_rows.append(
                [
                    a.task_id,
                    p.proj_id,
                    a.wbs_id,
                    a.calendar,
                    f"{a.percent:g}",
                    "CP_Phys",
                    a.task_type,
                    status,
                    a.code,
                    a.name,
                    "" if a.float_hours is None else f"{a.float_hours:g}",
                    f"{a.duration_hours * (1 - a.percent / 100):g}",
                    f"{a.duration_hours:g}",
                    _when(a.actual_start),
                    _when(a.actual_finish),
                    _when(a.start),
                    _when(a.finish),
                    _when(a.start),
                    _when(a.finish),
                    "Y" if a.driving else "N",
                ]
            )
    lines += _table("TASK", task_fields, task_rows)
    pred_rows = []
    for p in projects:
        for i, r in enumerate(p.relationships):
            pred_rows.append(
                [
                    f"{p.proj_id}{i:03d}",
                    r.successor,
                    r.predecessor,
                    p.proj_id,
                    r.pred_proj_id or p.proj_id,
                    r.pred_type,
                    f"{r.lag_hours:g}",
                ]
            )
    lines += _table(
        "TASKPRED",
        ["task_pred_id", "task_id", "pred_task_id", "proj_id", "pred_proj_id", "pred_type", "lag_hr_cnt"],
        pred_rows,
    )
    lines.append("%E")
    return "\r\n".join(lines) + "\r\n"


def _at(day: str, hour: int) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour))


STANDARD = XerCalendar(
    "1",
    "Standard 5 Day Workweek",
    8,
    (1, 2, 3, 4, 5),
    holidays=(dt.date(2024, 5, 9), dt.date(2024, 5, 20), dt.date(2024, 12, 25), dt.date(2024, 5, 18)),
    worked_days_off=(dt.date(2024, 6, 8),),
)
SIX_DAY = XerCalendar("2", "Piling 6 Day 10h", 10, (1, 2, 3, 4, 5, 6))


def harbour_office() -> XerProject:
    """Harbour Office Block: substructure and a two-storey frame, in progress at 2024-04-15."""
    wbs = [
        XerWbs("101", "100", "SUB", "Substructure", 10),
        XerWbs("103", "101", "EXC", "Excavation & piling", 10),
        XerWbs("104", "101", "FND", "Foundations", 20),
        XerWbs("102", "100", "SUP", "Superstructure", 20),
        XerWbs("106", "102", "L2", "Level 2 frame", 20),  # listed before L1: seq_num decides
        XerWbs("105", "102", "L1", "Level 1 frame", 10),
    ]
    activities = [
        XerActivity(
            "2001",
            "A1000",
            "Notice to proceed",
            "100",
            _at("2024-04-01", 8),
            _at("2024-04-01", 8),
            0,
            task_type="TT_Mile",
            actual_start=_at("2024-04-01", 8),
            percent=100,
            float_hours=None,
        ),
        XerActivity(
            "2002",
            "A1010",
            "Site clearance",
            "103",
            _at("2024-04-01", 8),
            _at("2024-04-05", 17),
            40,
            actual_start=_at("2024-04-01", 8),
            actual_finish=_at("2024-04-05", 17),
            percent=100,
            float_hours=None,
        ),
        XerActivity(
            "2003",
            "A1020",
            "Bored piling",
            "103",
            _at("2024-04-03", 8),
            _at("2024-04-24", 19),
            180,
            calendar="2",
            actual_start=_at("2024-04-03", 8),
            percent=40,
            float_hours=0,
            driving=True,
        ),
        XerActivity(
            "2004",
            "A1030",
            "Pile caps",
            "104",
            _at("2024-04-18", 8),
            _at("2024-04-25", 17),
            48,
            float_hours=-8,
            driving=True,
        ),
        XerActivity(
            "2005",
            "A1040",
            "Ground beams",
            "104",
            _at("2024-04-18", 8),
            _at("2024-05-02", 17),
            88,
            float_hours=12,
        ),
        XerActivity(
            "2006",
            "A1050",
            "Columns level 1",
            "105",
            _at("2024-05-03", 8),
            _at("2024-05-10", 17),
            40,
            float_hours=0,
        ),
        XerActivity(
            "2007",
            "A1060",
            "Slab level 1",
            "105",
            _at("2024-05-06", 8),
            _at("2024-05-17", 17),
            64,
            float_hours=4,
        ),
        XerActivity(
            "2008",
            "A1070",
            "Columns level 2",
            "106",
            _at("2024-05-21", 8),
            _at("2024-05-28", 17),
            40,
            float_hours=16,
        ),
        XerActivity(
            "2009",
            "A1080",
            "Slab level 2",
            "106",
            _at("2024-05-23", 8),
            _at("2024-06-05", 17),
            72,
            float_hours=16,
        ),
        XerActivity(
            "2010",
            "A1090",
            "Frame complete",
            "102",
            _at("2024-06-05", 17),
            _at("2024-06-05", 17),
            0,
            task_type="TT_FinMile",
            float_hours=16,
        ),
    ]
    relationships = [
        XerRelationship("2001", "2002", "PR_FS"),
        XerRelationship("2002", "2003", "PR_SS", 16),  # 2 days on the standard calendar
        XerRelationship("2003", "2004", "PR_FF", 10),  # 1 day on the 10 h piling calendar
        XerRelationship("2004", "2005", "PR_SS"),
        XerRelationship("2005", "2006", "PR_FS", 8),
        XerRelationship("2006", "2007", "PR_SS", 8),
        XerRelationship("2004", "2006", "PR_SF", -4),  # a lead of half a day
        XerRelationship("2007", "2008", "PR_FS"),
        XerRelationship("2008", "2009", "PR_SS", 16),
        XerRelationship("2009", "2010", "PR_FS"),
    ]
    return XerProject(
        "100", "HOB", "Harbour Office Block", _at("2024-04-15", 8), "100", wbs, activities, relationships
    )
