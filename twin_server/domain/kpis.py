"""The regional centre's numbers: KPIs per project and period, rework trends, the traffic
light, the composite score and the ranking within a region (domain.md §3.6, §3.8).

Pure: no I/O and no clock. The service gathers a project's facts (tasks with their delays
already resolved by ``domain.fourd``, issues, inspection-lot attempts, alarm counts) into a
``ProjectFacts`` and everything here is a function of it, so a period's KPI values can be
stored, frozen once the period closes, and the ranking recomputed from them identically.

Dates. A period is ``period_start … period_end``, both inclusive (a calendar month). ``as_of``
is the day the facts describe: ``min(today, period_end)`` — today while the period runs,
its last day once it has closed. Everything counted "in the period" happened in
``period_start … as_of`` (nothing can have happened after ``as_of``; a date is reached at
the end of that day, as in ``domain.fourd``). Statuses in the facts are the statuses on
``as_of``.

Chain: ``compute_kpis(facts)`` → ``{code: value}`` (what is stored) →
``project_health(kpis)`` → ``rank_in_regions`` → ``bottom_three``. Health and ranking read
only the stored values, never the facts, which is what makes a re-run reproducible.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import pairwise

from .issues import LIVE, IssueKind, Severity, Status

__all__ = [
    "DEFAULT_HEALTH_POLICY",
    "KPI_CODES",
    "KPI_DEFINITIONS",
    "Dimension",
    "HealthPolicy",
    "HealthThresholds",
    "IssueFact",
    "KpiDefinition",
    "Light",
    "LotFact",
    "ProjectFacts",
    "ProjectHealth",
    "RankedProject",
    "Reason",
    "ReworkCell",
    "ReworkTrend",
    "ScorePenalties",
    "TaskFact",
    "Weights",
    "bottom_three",
    "compute_kpis",
    "dimension_lights",
    "dimension_scores",
    "iso_week",
    "project_health",
    "rank_in_regions",
    "rework_by_zone_week",
    "rework_rising",
    "worst",
]


class Light(StrEnum):
    """Traffic light. Ordered GREEN < YELLOW < RED by ``rank`` (not by the strings)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        """0 (green) … 2 (red): larger is worse."""
        return _LIGHT_RANK[self]


_LIGHT_RANK = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}


def worst(lights: Iterable[Light]) -> Light:
    """The worst of ``lights``; GREEN when there are none (nothing known to be wrong)."""
    return max(lights, key=lambda light: light.rank, default=Light.GREEN)


class Dimension(StrEnum):
    """The four health dimensions, in display order. OTHER is domain.md's fourth weight
    (labour there); today it holds the sensor alarms."""

    SCHEDULE = "schedule"
    QUALITY = "quality"
    SAFETY = "safety"
    OTHER = "other"


# --- facts --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskFact:
    """One leaf task on ``as_of``, its delay already resolved with ``domain.fourd``
    (``task_delay_days``: max(0, forecast or actual finish − baseline finish), in days).

    ``finished_on`` (added to the contract, optional) is the actual finish date of a finished
    task. With it, a task that finished late in an earlier period stops counting in later
    ones; without it (``None``) a finished late task counts in every period, forever.
    """

    key: str
    name: str
    wbs_code: str | None
    is_milestone: bool
    is_critical: bool
    delay_days: float
    total_float_days: float | None
    finished: bool
    finished_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class IssueFact:
    """One issue of the project — pass all of them; the functions pick by dates.

    ``kind``, ``severity`` and ``status`` take the values of ``domain.issues`` (``IssueKind``,
    ``Severity``, ``Status``); ``status`` is the status on ``as_of``. ``closed_on`` is the day
    it reached CLOSED. ``title`` (added, optional) is for alert messages only.
    """

    number: int
    kind: str
    severity: str
    status: str
    created_on: dt.date
    closed_on: dt.date | None
    due_date: dt.date | None
    zone: str | None
    category: str | None
    reopened_count: int
    title: str = ""


@dataclass(frozen=True, slots=True)
class LotFact:
    """One acceptance attempt of an inspection lot (检验批, GB 50300). A lot rejected and
    accepted after 返工 has two rows: attempt 1 not accepted, attempt 2 accepted."""

    code: str
    zone: str
    trade: str
    inspected_on: dt.date
    attempt_no: int
    accepted: bool


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """Everything the KPIs of one project and period are computed from.

    ``spi`` is the element-weighted SPI on ``as_of`` (``domain.fourd.schedule_performance_index``),
    ``None`` when nothing was due yet. ``lots`` should reach back at least as many ISO weeks
    before ``as_of`` as the rework-rising rule looks at (3), not only into the period.
    ``open_alarms`` / ``control_alarms_unacked`` come from the sensors module; the latter
    should count control-level (控制) alarms unacknowledged for more than 30 minutes
    (domain.md §3.8), and each of them is also counted in ``open_alarms``.
    """

    project_id: int
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    spi: float | None
    tasks: tuple[TaskFact, ...] = ()
    issues: tuple[IssueFact, ...] = ()
    lots: tuple[LotFact, ...] = ()
    open_alarms: int = 0
    control_alarms_unacked: int = 0
    # Whether the project works to a schedule with leaf tasks (None: whether ``tasks`` is
    # non-empty). Set it when ``tasks`` leaves out non-milestone tasks that finished before
    # the period (no KPI counts them; a portfolio of large schedules need not build them):
    # ``max_delay_days`` is then 0, not "undefined", when none is left.
    has_schedule: bool | None = None

    def __post_init__(self) -> None:
        if self.period_start > self.period_end:
            raise ValueError(f"the period starts ({self.period_start}) after it ends ({self.period_end})")
        if self.as_of > self.period_end:
            raise ValueError(
                f"as_of ({self.as_of}) is after the period's end ({self.period_end}): "
                "use min(today, period_end)"
            )
        # Callers build these from query results; tuples keep the facts immutable.
        for name in ("tasks", "issues", "lots"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


# --- KPIs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KpiDefinition:
    """What a KPI code means. ``unit``: ``""`` (a plain index), ``"%"`` (a fraction 0..1,
    shown as a percentage), ``"days"`` or ``"count"``. ``better``: ``"higher"`` or ``"lower"``."""

    code: str
    dimension: Dimension
    unit: str
    better: str
    label_zh: str = ""
    label_en: str = ""


_S, _Q, _F, _O = Dimension.SCHEDULE, Dimension.QUALITY, Dimension.SAFETY, Dimension.OTHER
# fmt: off
_DEFINITIONS = tuple(KpiDefinition(*row) for row in (
    # code                      dimension unit   better    label_zh          label_en
    ("spi",                      _S, "",      "higher", "进度绩效指数",    "Schedule performance index"),
    ("late_tasks",               _S, "count", "lower",  "滞后任务",        "Late tasks"),
    ("max_delay_days",           _S, "days",  "lower",  "最大滞后天数",    "Largest delay"),
    ("milestones_at_risk",       _S, "count", "lower",  "风险里程碑",      "Milestones at risk"),
    ("max_milestone_delay_days", _S, "days",  "lower",  "里程碑最大滞后",  "Largest milestone delay"),
    # More issues raised is not plainly worse (it is also diligent inspection); "lower"
    # because each one is a defect found.
    ("issues_raised",            _Q, "count", "lower",  "新增质量问题",    "Quality issues raised"),
    ("issues_closed",            _Q, "count", "higher", "闭合质量问题",    "Quality issues closed"),
    ("closure_rate",             _Q, "%",     "higher", "问题闭合率",      "Closure rate"),
    ("on_time_rate",             _Q, "%",     "higher", "按期整改率",      "On-time rectification rate"),
    ("overdue_issues",           _Q, "count", "lower",  "逾期未整改问题",  "Overdue issues"),
    ("rework_rate",              _Q, "%",     "lower",  "返工率",          "Rework rate"),
    ("hazards_open_minor",       _F, "count", "lower",  "未闭合一般隐患",  "Open minor hazards"),
    ("hazards_open_major",       _F, "count", "lower",  "未闭合重大隐患",  "Open major hazards"),
    ("major_hazards_overdue",    _F, "count", "lower",  "逾期重大隐患",    "Overdue major hazards"),
    ("open_alarms",              _O, "count", "lower",  "未关闭报警",      "Open alarms"),
    ("control_alarms_unacked",   _O, "count", "lower",  "未确认控制级报警", "Unacknowledged control alarms"),
))
# fmt: on

#: Every code ``compute_kpis`` returns, in display order (grouped by dimension).
KPI_CODES: tuple[str, ...] = tuple(d.code for d in _DEFINITIONS)
KPI_DEFINITIONS: dict[str, KpiDefinition] = {d.code: d for d in _DEFINITIONS}

#: A milestone is "at risk" from this many days of delay (days). One day, as the default
#: milestone alert rule (domain.md §3.8: milestones use stricter defaults than tasks).
MILESTONE_AT_RISK_FROM_DAYS = 1.0

#: A safety hazard is minor (一般隐患) or major (重大隐患); "critical" is refused for hazards
#: by ``domain.issues``, but should one slip in it is certainly not minor.
_MAJOR = frozenset({Severity.MAJOR, Severity.CRITICAL})


def compute_kpis(facts: ProjectFacts) -> dict[str, float | None]:
    """Every KPI of ``KPI_CODES`` (in that order) for one project and period, as floats;
    rates are fractions 0..1. ``None`` means undefined (a rate with nothing to divide by,
    a delay with no schedule), never "zero".

    ``W`` below is ``period_start … as_of``. Issues in DRAFT (not yet raised) or VOID
    (withdrawn, e.g. a duplicate) are not counted anywhere.

    Schedule, over the tasks that matter in the period — unfinished on ``as_of``, or finished
    in ``W`` (or finished on an unknown day, ``finished_on is None``):

    * ``spi``: ``facts.spi``.
    * ``late_tasks``: those with ``delay_days > 0``.
    * ``max_delay_days``: the largest ``delay_days`` (0 when none is late; ``None`` without tasks).
    * ``milestones_at_risk``: milestones with ``delay_days ≥ 1``.
    * ``max_milestone_delay_days`` (added to the contract): the largest milestone delay (0 when
      none is late; ``None`` without milestones) — what the milestone threshold of the light reads.

    Quality (kind ``quality`` only):

    * ``issues_raised``: created in ``W``.  ``issues_closed``: reached CLOSED in ``W`` (whenever raised).
    * ``closure_rate``: of the issues raised in ``W``, the share CLOSED by ``as_of`` — a cohort
      ratio, so it stays within 0..1 (domain.md's "closed / raised" as a flow can exceed 1 when
      old issues are cleared; that flow is ``issues_closed`` / ``issues_raised``). ``None`` when
      none was raised.
    * ``on_time_rate``: of the issues due in ``W`` (``due_date`` in ``W``), the share CLOSED on
      or before their due date. One due on ``as_of`` itself and not closed yet still has the
      day (it is not overdue either) and is not counted. ``None`` when none fell due.
    * ``overdue_issues``: status OPEN and ``due_date < as_of`` (``domain.issues.is_overdue``: the
      ball is with the assignee; an issue waiting for re-inspection is not overdue).
    * ``rework_rate``: of the lots accepted in ``W``, the share accepted on an attempt after the
      first (a 返工 before acceptance). ``None`` when no lot was accepted.

    Safety (kind ``safety``), on ``as_of``:

    * ``hazards_open_minor`` / ``hazards_open_major``: created by ``as_of``, status OPEN,
      READY_FOR_REVIEW or DISPUTED, by grade.
    * ``major_hazards_overdue``: major, status OPEN, ``due_date < as_of``.

    Other: ``open_alarms`` and ``control_alarms_unacked``, copied from the facts.
    """
    start, as_of = facts.period_start, facts.as_of

    def in_window(day: dt.date | None) -> bool:
        return day is not None and start <= day <= as_of

    tasks = [t for t in facts.tasks if not t.finished or t.finished_on is None or in_window(t.finished_on)]
    milestones = [t for t in tasks if t.is_milestone]
    has_milestones = any(t.is_milestone for t in facts.tasks)
    scheduled = bool(facts.tasks) if facts.has_schedule is None else facts.has_schedule

    raised_at_all = [i for i in facts.issues if i.status not in (Status.DRAFT, Status.VOID)]
    quality = [i for i in raised_at_all if i.kind == IssueKind.QUALITY and i.created_on <= as_of]
    safety = [i for i in raised_at_all if i.kind == IssueKind.SAFETY and i.created_on <= as_of]

    def closed_by(issue: IssueFact, day: dt.date) -> bool:
        return issue.status == Status.CLOSED and issue.closed_on is not None and issue.closed_on <= day

    def overdue(issue: IssueFact) -> bool:
        return issue.status == Status.OPEN and issue.due_date is not None and issue.due_date < as_of

    raised = [i for i in quality if in_window(i.created_on)]
    due = [i for i in quality if in_window(i.due_date) and (i.due_date < as_of or closed_by(i, i.due_date))]
    accepted = [lot for lot in facts.lots if lot.accepted and in_window(lot.inspected_on)]
    live_hazards = [i for i in safety if i.status in LIVE]
    major = [i for i in safety if i.severity in _MAJOR]

    kpis: dict[str, float | None] = {
        "spi": facts.spi,
        "late_tasks": float(sum(t.delay_days > 0 for t in tasks)),
        "max_delay_days": max((t.delay_days for t in tasks), default=0.0) if scheduled else None,
        "milestones_at_risk": float(sum(t.delay_days >= MILESTONE_AT_RISK_FROM_DAYS for t in milestones)),
        "max_milestone_delay_days": max((t.delay_days for t in milestones), default=0.0)
        if has_milestones
        else None,
        "issues_raised": float(len(raised)),
        "issues_closed": float(sum(i.status == Status.CLOSED and in_window(i.closed_on) for i in quality)),
        "closure_rate": _share(sum(closed_by(i, as_of) for i in raised), len(raised)),
        "on_time_rate": _share(sum(closed_by(i, i.due_date) for i in due), len(due)),
        "overdue_issues": float(sum(overdue(i) for i in quality)),
        "rework_rate": _share(sum(lot.attempt_no > 1 for lot in accepted), len(accepted)),
        "hazards_open_minor": float(sum(i.severity == Severity.MINOR for i in live_hazards)),
        "hazards_open_major": float(sum(i.severity in _MAJOR for i in live_hazards)),
        "major_hazards_overdue": float(sum(overdue(i) for i in major)),
        "open_alarms": float(facts.open_alarms),
        "control_alarms_unacked": float(facts.control_alarms_unacked),
    }
    return kpis


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


# --- rework by zone and week ----------------------------------------------------------------


def iso_week(day: dt.date) -> str:
    """ISO 8601 week of ``day``, e.g. ``"2025-W23"`` (weeks start on Monday; the first week
    of a year holds its first Thursday, so 2025-12-29 is in ``"2026-W01"``)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _week_monday(week: str) -> dt.date:
    year, number = week.split("-W")
    return dt.date.fromisocalendar(int(year), int(number), 1)


@dataclass(frozen=True, slots=True)
class ReworkCell:
    """Accepted lots of one zone in one ISO week, and how many of them were reworked first."""

    zone: str
    week: str  # ISO week, "2026-W23"
    accepted: int
    reworked: int
    rate: float | None  # reworked / accepted
    trades: tuple[str, ...]  # trades of the reworked lots, sorted, each once


def rework_by_zone_week(lots: Iterable[LotFact]) -> dict[tuple[str, str], ReworkCell]:
    """Rework rate per (zone, ISO week of acceptance), domain.md §3.8: only accepted attempts
    count; one accepted on attempt 2 or later was reworked (scenario 9: rejected 06-03,
    accepted 06-05 on attempt 2 → one rework in that zone, 2025-W23). Rejected attempts are
    ignored: the lot counts once, in the week it was finally accepted. Keys sorted."""
    accepted: dict[tuple[str, str], int] = defaultdict(int)
    reworked: dict[tuple[str, str], int] = defaultdict(int)
    trades: dict[tuple[str, str], set[str]] = defaultdict(set)
    for lot in lots:
        if not lot.accepted:
            continue
        key = (lot.zone, iso_week(lot.inspected_on))
        accepted[key] += 1
        if lot.attempt_no > 1:
            reworked[key] += 1
            trades[key].add(lot.trade)
    return {
        key: ReworkCell(
            zone=key[0],
            week=key[1],
            accepted=accepted[key],
            reworked=reworked[key],
            rate=reworked[key] / accepted[key],
            trades=tuple(sorted(trades[key])),
        )
        for key in sorted(accepted)
    }


@dataclass(frozen=True, slots=True)
class ReworkTrend:
    """A run of consecutive ISO weeks in one zone whose rework rate rose every week.
    ``weeks``, ``rates`` and ``lots`` (accepted lots per week) have one entry per week of the
    run (3 by default); ``trades`` are the trades of the run's reworked lots, sorted."""

    zone: str
    weeks: tuple[str, ...]
    rates: tuple[float, ...]
    lots: tuple[int, ...]
    trades: tuple[str, ...]


def rework_rising(
    cells: Mapping[tuple[str, str], ReworkCell] | Iterable[ReworkCell], *, min_lots: int = 5, weeks: int = 3
) -> list[ReworkTrend]:
    """The latest run per zone of ``weeks`` consecutive ISO weeks (no gap; 2025-W52 → 2026-W01
    is consecutive) in which the rework rate rose strictly every week, r₁ < r₂ < r₃ ("rose two
    weeks in a row", domain.md §3.8), each week with at least ``min_lots`` accepted lots (a few
    lots make any rate jump; five a week is the issue's floor). Sorted by zone.

    ``cells`` is what ``rework_by_zone_week`` returns (or its values). Whether a run is recent
    enough to act on is the caller's question (see ``alerts.evaluate_rules``).
    """
    if weeks < 2:
        raise ValueError("a rising trend needs at least two weeks")
    if min_lots < 1:
        raise ValueError("min_lots must be at least 1")
    values = cells.values() if isinstance(cells, Mapping) else cells
    by_zone: dict[str, list[tuple[dt.date, ReworkCell]]] = defaultdict(list)
    for cell in values:
        by_zone[cell.zone].append((_week_monday(cell.week), cell))
    trends = []
    for zone in sorted(by_zone):
        series = sorted(by_zone[zone], key=lambda item: item[0])
        for end in range(len(series) - 1, weeks - 2, -1):  # latest run first
            run = series[end - weeks + 1 : end + 1]
            consecutive = all((b[0] - a[0]).days == 7 for a, b in pairwise(run))
            if not consecutive or any(c.accepted < min_lots for _, c in run):
                continue
            rates = [c.reworked / c.accepted for _, c in run]
            if all(a < b for a, b in pairwise(rates)):
                trends.append(
                    ReworkTrend(
                        zone=zone,
                        weeks=tuple(c.week for _, c in run),
                        rates=tuple(rates),
                        lots=tuple(c.accepted for _, c in run),
                        trades=tuple(sorted({t for _, c in run for t in c.trades})),
                    )
                )
                break
    return trends


# --- health: lights, scores, ranking --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    """Where each dimension's light turns, domain.md §3.8; every one configurable.

    Besides these numbers, two dimensions follow rules (counts, not thresholds): safety is
    at least YELLOW with any open major hazard (重大隐患) and RED with any overdue one
    (scenario 7); other is YELLOW with any open alarm and RED with an unacknowledged
    control-level alarm. A KPI that is ``None`` or missing never changes a light.
    """

    # SPI (earned / planned, dimensionless): GREEN ≥ 0.95, YELLOW 0.90–0.95, RED < 0.90.
    spi_yellow_below: float = 0.95
    spi_red_below: float = 0.90
    # Days of the largest task delay: RED beyond 5 (the seed example, scenario 4: 6 → RED).
    delay_red_over_days: float = 5.0
    # Days of the largest milestone delay: YELLOW from one day (milestones are stricter).
    milestone_yellow_from_days: float = 1.0
    # On-time rectification rate (fraction 0..1): a fifth rectified late is a warning, two
    # fifths a failure of the 整改 loop.
    on_time_yellow_below: float = 0.8
    on_time_red_below: float = 0.6
    # Overdue quality issues (count): one is a warning, five a pattern.
    overdue_issues_yellow_from: int = 1
    overdue_issues_red_from: int = 5


def dimension_lights(
    kpis: Mapping[str, float | None], thresholds: HealthThresholds = HealthThresholds()
) -> dict[Dimension, Light]:
    """The light of every dimension (in ``Dimension`` order) from stored KPI values.

    * schedule: RED if ``spi < spi_red_below`` or ``max_delay_days > delay_red_over_days``;
      YELLOW if ``spi < spi_yellow_below`` or ``max_milestone_delay_days ≥ milestone_yellow_from_days``
      (without that KPI: any ``milestones_at_risk``).
    * quality: RED if ``on_time_rate < on_time_red_below`` or ``overdue_issues ≥ overdue_issues_red_from``;
      YELLOW below / from the yellow thresholds.
    * safety: RED if ``major_hazards_overdue ≥ 1``; YELLOW if ``hazards_open_major ≥ 1``.
    * other: RED if ``control_alarms_unacked ≥ 1``; YELLOW if ``open_alarms ≥ 1``.
    """
    t = thresholds
    spi = kpis.get("spi")
    delay = kpis.get("max_delay_days")
    milestone = kpis.get("max_milestone_delay_days")
    at_risk = kpis.get("milestones_at_risk")
    on_time = kpis.get("on_time_rate")
    overdue = kpis.get("overdue_issues")

    def light(red: bool, yellow: bool) -> Light:
        return Light.RED if red else Light.YELLOW if yellow else Light.GREEN

    milestone_late = (
        milestone >= t.milestone_yellow_from_days if milestone is not None else bool(at_risk and at_risk >= 1)
    )
    return {
        Dimension.SCHEDULE: light(
            red=(spi is not None and spi < t.spi_red_below)
            or (delay is not None and delay > t.delay_red_over_days),
            yellow=(spi is not None and spi < t.spi_yellow_below) or milestone_late,
        ),
        Dimension.QUALITY: light(
            red=(on_time is not None and on_time < t.on_time_red_below)
            or (overdue is not None and overdue >= t.overdue_issues_red_from),
            yellow=(on_time is not None and on_time < t.on_time_yellow_below)
            or (overdue is not None and overdue >= t.overdue_issues_yellow_from),
        ),
        Dimension.SAFETY: light(
            red=(kpis.get("major_hazards_overdue") or 0) >= 1,
            yellow=(kpis.get("hazards_open_major") or 0) >= 1,
        ),
        Dimension.OTHER: light(
            red=(kpis.get("control_alarms_unacked") or 0) >= 1,
            yellow=(kpis.get("open_alarms") or 0) >= 1,
        ),
    }


@dataclass(frozen=True, slots=True)
class ScorePenalties:
    """Points a dimension's 0..100 score loses per unit of each KPI (added to the contract,
    all configurable).

    Calibration: a KPI sitting on its YELLOW edge (``HealthThresholds``) costs about 10
    points and one on its RED edge about 20, so the four dimensions are on one scale and a
    worse value always costs more (the score is monotonic in every KPI).
    """

    # Per 1.0 of SPI below 1.0 (points/unit): SPI 0.95 → 10, 0.90 → 20. Above 1 earns nothing:
    # being ahead does not make up for problems elsewhere.
    spi_shortfall: float = 200.0
    # Per day of the largest task delay (points/day): 5 days, the RED edge → 20.
    delay_day: float = 4.0
    # Per milestone at risk (points/milestone): one is a YELLOW → 10.
    milestone_at_risk: float = 10.0
    # Per 1.0 of on-time rate missing (points/unit): 0.8 → 10, 0.6 → 20.
    on_time_shortfall: float = 50.0
    # Per 1.0 of closure rate missing (points/unit): mild, because issues raised late in a
    # period are rightly still open at its end; 0.5 → 10.
    closure_shortfall: float = 20.0
    # Per overdue quality issue (points/issue): 5, the RED edge → 20.
    overdue_issue: float = 4.0
    # Per 1.0 of rework rate (points/unit): 10 % of lots reworked → 10.
    rework: float = 100.0
    # Per open minor hazard (points/hazard): five weigh as much as one major.
    minor_hazard: float = 2.0
    # Per open major hazard (points/hazard): one is a YELLOW → 10.
    major_hazard: float = 10.0
    # Per overdue major hazard, on top of its open penalty (points/hazard): together 20, a RED.
    major_hazard_overdue: float = 10.0
    # Per open alarm (points/alarm): one is a YELLOW → 10.
    open_alarm: float = 10.0
    # Per unacknowledged control-level alarm, on top of its open-alarm penalty (points/alarm):
    # together 20, a RED.
    control_alarm_unacked: float = 10.0


def _penalties(kpis: Mapping[str, float | None], p: ScorePenalties) -> dict[Dimension, dict[str, float]]:
    """Points lost per dimension and KPI code (missing / ``None`` values cost nothing)."""

    def v(code: str) -> float | None:
        return kpis.get(code)

    def count(code: str, points: float) -> float:
        value = v(code)
        return 0.0 if value is None else max(value, 0.0) * points

    def shortfall(code: str, points: float) -> float:
        value = v(code)
        return 0.0 if value is None else max(1.0 - value, 0.0) * points

    return {
        Dimension.SCHEDULE: {
            "spi": shortfall("spi", p.spi_shortfall),
            "max_delay_days": count("max_delay_days", p.delay_day),
            "milestones_at_risk": count("milestones_at_risk", p.milestone_at_risk),
        },
        Dimension.QUALITY: {
            "closure_rate": shortfall("closure_rate", p.closure_shortfall),
            "on_time_rate": shortfall("on_time_rate", p.on_time_shortfall),
            "overdue_issues": count("overdue_issues", p.overdue_issue),
            "rework_rate": count("rework_rate", p.rework),
        },
        Dimension.SAFETY: {
            "hazards_open_minor": count("hazards_open_minor", p.minor_hazard),
            "hazards_open_major": count("hazards_open_major", p.major_hazard),
            "major_hazards_overdue": count("major_hazards_overdue", p.major_hazard_overdue),
        },
        Dimension.OTHER: {
            "open_alarms": count("open_alarms", p.open_alarm),
            "control_alarms_unacked": count("control_alarms_unacked", p.control_alarm_unacked),
        },
    }


def _score(points: Mapping[str, float]) -> float:
    return round(max(0.0, 100.0 - sum(points.values())), 2)


def dimension_scores(
    kpis: Mapping[str, float | None], penalties: ScorePenalties = ScorePenalties()
) -> dict[Dimension, float]:
    """Every dimension's score, 0..100 (100 = nothing wrong known), in ``Dimension`` order:
    ``max(0, 100 − Σ penalty × amount)``, rounded to 0.01, where the amounts are

    * schedule: SPI shortfall ``max(0, 1 − spi)``, ``max_delay_days``, ``milestones_at_risk``;
    * quality: ``1 − closure_rate``, ``1 − on_time_rate``, ``overdue_issues``, ``rework_rate``;
    * safety: ``hazards_open_minor``, ``hazards_open_major``, ``major_hazards_overdue``;
    * other: ``open_alarms``, ``control_alarms_unacked``;

    and the points per unit are ``ScorePenalties``. A KPI that is ``None`` or missing costs
    nothing: no data is scored as nothing wrong known (a project with no schedule yet scores
    100 on schedule) — the light and the KPI table show the gap, the score does not guess.
    """
    return {dim: _score(points) for dim, points in _penalties(kpis, penalties).items()}


@dataclass(frozen=True, slots=True)
class Weights:
    """Weight of each dimension in the composite score (relative; they need not add up to
    100). Defaults from domain.md §3.8: schedule 30, quality 25, safety 30, other 15."""

    schedule: float = 30.0
    quality: float = 25.0
    safety: float = 30.0
    other: float = 15.0

    def __post_init__(self) -> None:
        if min(self.schedule, self.quality, self.safety, self.other) < 0:
            raise ValueError("weights cannot be negative")

    def of(self, dimension: Dimension) -> float:
        return float(getattr(self, dimension.value))


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a project lost points in one dimension: the KPI that cost the most there
    (``code``, its ``value``) and the composite points lost in that dimension,
    ``shortfall = weight × (100 − dimension score) / 100``."""

    dimension: Dimension
    code: str
    value: float | None
    shortfall: float


@dataclass(frozen=True, slots=True)
class ProjectHealth:
    """A project's health from its KPI values.

    ``lights`` and ``scores`` hold all four dimensions; ``light``, ``score``, ``reasons`` and
    ``red_count`` only the counted ones. ``score = Σ weight × score / Σ weight`` over the
    counted dimensions, which is also ``100 − 100 × Σ shortfall / Σ weight``.
    """

    light: Light
    score: float  # 0..100, rounded to 0.01
    lights: Mapping[Dimension, Light] = field(hash=False)
    scores: Mapping[Dimension, float] = field(hash=False)
    reasons: tuple[Reason, ...]  # largest shortfall first; only shortfall > 0
    red_count: int  # counted dimensions that are RED


def project_health(
    kpis: Mapping[str, float | None],
    *,
    thresholds: HealthThresholds = HealthThresholds(),
    weights: Weights = Weights(),
    counted: frozenset[Dimension] = frozenset(Dimension),
    penalties: ScorePenalties = ScorePenalties(),
) -> ProjectHealth:
    """Light, score and reasons of one project.

    The light is the worst light among the ``counted`` dimensions (the issue's "configurable":
    leave a dimension out, e.g. OTHER before a site has sensors, and it neither colours the
    project nor weighs in its score). Scores are rounded to 0.01: hundredths of a point
    mean nothing, and rounding makes scores equal in substance tie exactly, so the ranking's
    tie-break (RED count) decides rather than float noise. Equal shortfalls list in
    ``Dimension`` order.
    """
    dims = [d for d in Dimension if d in counted]
    if not dims:
        raise ValueError("at least one dimension must be counted")
    total_weight = sum(weights.of(d) for d in dims)
    if total_weight <= 0:
        raise ValueError("the counted dimensions' weights add up to zero")
    lights = dimension_lights(kpis, thresholds)
    points = _penalties(kpis, penalties)
    scores = {d: _score(points[d]) for d in Dimension}
    reasons = []
    for d in dims:
        shortfall = round(weights.of(d) * (100.0 - scores[d]) / 100.0, 2)
        if shortfall > 0:
            # The KPI that cost the most; on equal cost the first in display order.
            code = max(points[d], key=lambda c: (points[d][c], -KPI_CODES.index(c)))
            reasons.append(Reason(d, code, kpis.get(code), shortfall))
    reasons.sort(key=lambda r: -r.shortfall)  # stable: Dimension order on ties
    return ProjectHealth(
        light=worst(lights[d] for d in dims),
        score=round(sum(weights.of(d) * scores[d] for d in dims) / total_weight, 2),
        lights=lights,
        scores=scores,
        reasons=tuple(reasons),
        red_count=sum(lights[d] is Light.RED for d in dims),
    )


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """How a deployment judges health (``project_health``'s options in one value, set once
    from the server's settings): thresholds, weights, which dimensions count, penalties."""

    thresholds: HealthThresholds = HealthThresholds()
    weights: Weights = Weights()
    counted: frozenset[Dimension] = frozenset(Dimension)
    penalties: ScorePenalties = ScorePenalties()

    def health(self, kpis: Mapping[str, float | None]) -> ProjectHealth:
        return project_health(
            kpis,
            thresholds=self.thresholds,
            weights=self.weights,
            counted=self.counted,
            penalties=self.penalties,
        )


#: The policy of domain.md §3.8, as a deployment gets it unless its settings say otherwise.
DEFAULT_HEALTH_POLICY = HealthPolicy()


@dataclass(frozen=True, slots=True)
class RankedProject:
    project_id: int
    region_id: int
    score: float
    light: Light
    red_count: int
    rank_in_region: int  # 1 = best
    reasons: tuple[Reason, ...]


def rank_in_regions(healths: Iterable[tuple[int, int, ProjectHealth]]) -> list[RankedProject]:
    """Rank projects within their region from ``(project_id, region_id, health)``.

    Rank 1 is the best: score descending, then fewer RED dimensions first (domain.md: ties
    broken by RED count), then ``project_id`` ascending, so the order is total and the same
    input in any order gives the same output. Returned by region id, then rank.
    """
    by_region: dict[int, list[tuple[int, ProjectHealth]]] = defaultdict(list)
    seen: set[int] = set()
    for project_id, region_id, health in healths:
        if project_id in seen:
            raise ValueError(f"project {project_id} is listed twice")
        seen.add(project_id)
        by_region[region_id].append((project_id, health))
    ranked = []
    for region_id in sorted(by_region):
        ordered = sorted(by_region[region_id], key=lambda item: (-item[1].score, item[1].red_count, item[0]))
        for rank, (project_id, health) in enumerate(ordered, start=1):
            ranked.append(
                RankedProject(
                    project_id=project_id,
                    region_id=region_id,
                    score=health.score,
                    light=health.light,
                    red_count=health.red_count,
                    rank_in_region=rank,
                    reasons=health.reasons,
                )
            )
    return ranked


def bottom_three(ranked: Iterable[RankedProject], *, count: int = 3) -> dict[int, list[RankedProject]]:
    """Per region (keys sorted), its ``count`` worst projects, worst first, each with only
    its top two reasons (scenario 11). A region with fewer projects lists them all."""
    by_region: dict[int, list[RankedProject]] = defaultdict(list)
    for project in ranked:
        by_region[project.region_id].append(project)
    return {
        region_id: [
            replace(p, reasons=p.reasons[:2])
            for p in sorted(by_region[region_id], key=lambda p: -p.rank_in_region)[:count]
        ]
        for region_id in sorted(by_region)
    }
