"""The regional layer's numbers: each project's KPIs and health per calendar month, computed
from the twin's own data (schedule and model, issues, inspection lots), recomputed while the
month is open and frozen once it has closed; rankings, bottom-three lists and roll-ups read
the stored values, so the same question gets the same answer next month too.

The rules live in ``domain.kpis`` (pure); this module gathers their facts in bulk (a few
queries for the whole portfolio, not a few per project) and stores the results.

Where the facts come from, per project:
- the schedule: the one with the most recent import; its leaf tasks with their effective
  dates (``services.schedules.fourd_dates`` / ``task_table``: reported progress and
  installed marks included) and their delays on the day looked at (``domain.fourd``);
- SPI: element-weighted (``domain.fourd.schedule_performance_index``) over the newest
  processed revision (a published one first), from the baseline and actual finish days of
  every linked element;
- both are kept per project (``kpi_schedule_cache``) under a stamp of everything they
  depend on, so an unchanged project's schedule costs a few array operations, not a
  re-read of its tasks and elements;
- issues: every issue of the project; inspection lots: every acceptance attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import and_, delete, func, not_, or_, select
from sqlalchemy.orm import Session

from ..db.orm import (
    AlertRow,
    AlertRuleRow,
    ElementTaskRow,
    ImprovementActionRow,
    InspectionLotRow,
    InstalledMarkRow,
    IssueRow,
    KpiPeriodRow,
    KpiValueRow,
    LinkRuleRow,
    OrgNodeRow,
    ProjectRow,
    RevisionRow,
    ScheduleFactsCacheRow,
    ScheduleRow,
    ScheduleVersionRow,
    TaskProgressRow,
    UserRow,
)
from ..domain.alerts import MAX_REWORK_WEEKS, RuleKind
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.fourd import ElementDates, TaskDates, day_number, task_delay_days
from ..domain.kpis import (
    DEFAULT_HEALTH_POLICY,
    Dimension,
    HealthPolicy,
    IssueFact,
    Light,
    LotFact,
    ProjectFacts,
    ProjectHealth,
    Reason,
    TaskFact,
    bottom_three,
    compute_kpis,
    rank_in_regions,
    rework_by_zone_week,
)
from ..domain.model import Principal
from ..domain.revisions import Processing, RevisionState
from ..domain.schedules import TaskInfo
from . import schedules as schedule_service
from .store import commit_or_conflict

__all__ = [
    "PortfolioSummary",
    "ProjectKpis",
    "RecomputeReport",
    "SummaryCache",
    "add_lot",
    "create_action",
    "gather_facts",
    "list_actions",
    "list_lots",
    "node_rollup",
    "period_bounds",
    "period_of",
    "portfolio_stamp",
    "portfolio_summary",
    "previous_period",
    "project_kpis",
    "projects_under",
    "ranking",
    "recompute_kpis",
    "store_kpis",
    "update_action",
]

TREND_PERIODS = 6  # months of score history the dashboard's sparklines show


# --------------------------------------------------------------------------- periods


def period_of(day: dt.date) -> str:
    """The calendar month ``day`` falls in, as ``"YYYY-MM"``."""
    return f"{day.year:04d}-{day.month:02d}"


def period_bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of a ``"YYYY-MM"`` period; ``InvalidInput`` for anything else."""
    try:
        year, month = (int(part) for part in period.split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        raise InvalidInput(f"a period is a month written YYYY-MM, not {period!r}") from None
    if len(period) != 7 or not 1900 <= year < 2200:
        raise InvalidInput(f"a period is a month written YYYY-MM between 1900 and 2199, not {period!r}")
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def previous_period(period: str) -> str:
    """The month before ``period``."""
    return _shift(period, -1)


def _shift(period: str, months: int) -> str:
    first, _ = period_bounds(period)
    index = first.year * 12 + first.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True, slots=True)
class _Source:
    project_id: int
    path: str
    region_id: int | None
    schedule_id: int | None
    revision_id: int | None


def _sources(session: Session, project_ids: Sequence[int] | None) -> dict[int, _Source]:
    """Per project: its path and region, its main schedule and the revision its SPI uses."""
    query = select(OrgNodeRow.id, OrgNodeRow.path, OrgNodeRow.parent_id).join(
        ProjectRow, ProjectRow.node_id == OrgNodeRow.id
    )
    if project_ids is not None:
        query = query.where(OrgNodeRow.id.in_(list(project_ids)))
    nodes = {pid: (path, parent) for pid, path, parent in session.execute(query)}
    schedules: dict[int, int] = {}
    # The schedule imported last is the one the project works to (one query for all).
    for project_id, schedule_id, _ in session.execute(
        select(ScheduleRow.project_id, ScheduleRow.id, func.max(ScheduleVersionRow.imported_at))
        .join(ScheduleVersionRow, ScheduleVersionRow.schedule_id == ScheduleRow.id)
        .group_by(ScheduleRow.project_id, ScheduleRow.id)
        .order_by(func.max(ScheduleVersionRow.imported_at), ScheduleRow.id)
    ):
        if project_id in nodes:
            schedules[project_id] = schedule_id
    revisions: dict[int, int] = {}
    for project_id, revision_id, state in session.execute(
        select(RevisionRow.project_id, RevisionRow.id, RevisionRow.state)
        .where(RevisionRow.processing == Processing.SUCCEEDED.value)
        .order_by(RevisionRow.id)
    ):
        if project_id not in nodes:
            continue
        current = revisions.get(project_id)
        # A published revision wins; among equals the newest.
        if (
            current is None
            or state == RevisionState.PUBLISHED.value
            or current[1] != RevisionState.PUBLISHED.value
        ):
            revisions[project_id] = (revision_id, state)
    return {
        pid: _Source(pid, path, parent, schedules.get(pid), revisions.get(pid, (None, None))[0])
        for pid, (path, parent) in nodes.items()
    }


def _stamps(session: Session, sources: Mapping[int, _Source]) -> dict[int, str]:
    """A digest of everything a project's SPI inputs depend on: revision, schedule version,
    element links and rules, reported progress and installed marks."""
    schedule_ids = [s.schedule_id for s in sources.values() if s.schedule_id]
    parts: dict[str, dict] = {}
    for name, query in (
        (
            "version",
            select(ScheduleVersionRow.schedule_id, func.max(ScheduleVersionRow.id)).group_by(
                ScheduleVersionRow.schedule_id
            ),
        ),
        (
            "links",
            select(ElementTaskRow.schedule_id, func.count(), func.max(ElementTaskRow.id)).group_by(
                ElementTaskRow.schedule_id
            ),
        ),
        (
            "rules",
            select(LinkRuleRow.schedule_id, func.count(), func.max(LinkRuleRow.id)).group_by(
                LinkRuleRow.schedule_id
            ),
        ),
        (
            "progress",
            select(TaskProgressRow.schedule_id, func.count(), func.max(TaskProgressRow.updated_at)).group_by(
                TaskProgressRow.schedule_id
            ),
        ),
    ):
        parts[name] = {row[0]: row[1:] for row in session.execute(query) if row[0] in schedule_ids}
    marks = {
        row[0]: row[1:]
        for row in session.execute(
            select(InstalledMarkRow.project_id, func.count(), func.max(InstalledMarkRow.marked_at)).group_by(
                InstalledMarkRow.project_id
            )
        )
    }
    stamps = {}
    for pid, source in sources.items():
        sid = source.schedule_id
        text = repr(
            (
                source.revision_id,
                sid,
                parts["version"].get(sid),
                parts["links"].get(sid),
                parts["rules"].get(sid),
                parts["progress"].get(sid),
                marks.get(pid),
            )
        )
        stamps[pid] = hashlib.sha256(text.encode()).hexdigest()
    return stamps


@dataclass(frozen=True, slots=True)
class _Schedule:
    """A project's schedule as its KPIs read it: leaf tasks and linked elements' finishes."""

    keys: list[str]
    names: list[str]
    wbs_codes: list[str | None]
    dates: TaskDates
    element_baseline: np.ndarray  # sorted day numbers; _NEVER = none
    element_actual: np.ndarray
    has_revision: bool


_NEVER = np.iinfo(np.int32).max  # "no date" sorts after every day


def _schedules(session: Session, sources: Mapping[int, _Source]) -> dict[int, _Schedule]:
    """Per project with a schedule: its ``_Schedule``, from the cache while its stamp holds,
    else rebuilt — all stale ones together, in a few queries (and cached)."""
    wanted = {pid: s for pid, s in sources.items() if s.schedule_id}
    stamps = _stamps(session, wanted)
    cached = {
        row.project_id: row
        for row in session.scalars(
            select(ScheduleFactsCacheRow).where(ScheduleFactsCacheRow.project_id.in_(list(wanted)))
        )
    }
    stale = [pid for pid in wanted if pid not in cached or cached[pid].stamp != stamps[pid]]
    modelled = [wanted[pid] for pid in stale if wanted[pid].revision_id]
    dates = schedule_service.fourd_dates_many(
        session, [(s.project_id, s.schedule_id, s.revision_id) for s in modelled]
    )
    plain = schedule_service.task_tables(
        session, {wanted[pid].schedule_id: None for pid in stale if not wanted[pid].revision_id}
    )
    for pid in stale:
        source = wanted[pid]
        if source.revision_id:
            elements, tasks = dates[source.schedule_id, source.revision_id]
        else:
            elements, tasks = None, plain[source.schedule_id]
        values = _schedule_values(source, elements, tasks) | {"stamp": stamps[pid]}
        row = cached.get(pid)
        if row is None:
            row = cached[pid] = ScheduleFactsCacheRow(project_id=pid, **values)
            session.add(row)
        else:
            for name, value in values.items():
                setattr(row, name, value)
    return {pid: _read_schedule(cached[pid]) for pid in wanted}


def _schedule_values(source: _Source, elements: ElementDates | None, tasks: list[TaskInfo]) -> dict:
    """A cache row's values for one project, from its tasks (and its revision's element
    dates, if it has a processed revision)."""
    if elements is not None:
        linked = elements.task_index >= 0
        element_days = np.stack(
            [np.sort(_days(elements.baseline_finish[linked])), np.sort(_days(elements.actual_finish[linked]))]
        )
    else:
        element_days = np.zeros((2, 0))
    leaves = [t for t in tasks if not t.is_summary]
    dates = schedule_service.task_dates(leaves)
    return {
        "schedule_id": source.schedule_id,
        "revision_id": source.revision_id,
        "task_days": np.stack(
            [
                dates.planned_start,
                dates.planned_finish,
                dates.baseline_start,
                dates.baseline_finish,
                dates.actual_start,
                dates.actual_finish,
                dates.total_float_days,
            ]
        )
        .astype("<f8")
        .tobytes(),
        "task_flags": np.stack([dates.is_critical, dates.is_milestone]).astype(np.uint8).tobytes(),
        "tasks_json": json.dumps([[t.key, t.name, t.wbs_code] for t in leaves], ensure_ascii=False),
        "element_days": element_days.astype("<i4").tobytes(),
    }


def _read_schedule(row: ScheduleFactsCacheRow) -> _Schedule:
    meta = json.loads(row.tasks_json)
    n = len(meta)
    days = np.frombuffer(row.task_days, dtype="<f8").reshape(7, n)
    flags = np.frombuffer(row.task_flags, dtype=np.uint8).reshape(2, n).astype(bool)
    elements = np.frombuffer(row.element_days, dtype="<i4").reshape(2, -1)
    return _Schedule(
        keys=[m[0] for m in meta],
        names=[m[1] for m in meta],
        wbs_codes=[m[2] for m in meta],
        dates=TaskDates(*days[:6], is_critical=flags[0], is_milestone=flags[1], total_float_days=days[6]),
        element_baseline=elements[0],
        element_actual=elements[1],
        has_revision=row.revision_id is not None,
    )


def _days(values: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), _NEVER, values).astype(np.int64)


def _spi(schedule: _Schedule | None, day: dt.date) -> float | None:
    """Element-weighted SPI on ``day`` (the rule of ``domain.fourd.schedule_performance_index``
    over the cached finish days): elements done by then over elements due by then."""
    if schedule is None or not schedule.has_revision:
        return None
    number = day_number(day)
    planned = int(np.searchsorted(schedule.element_baseline, number, side="right"))
    earned = int(np.searchsorted(schedule.element_actual, number, side="right"))
    return None if planned == 0 else earned / planned


def _task_facts(schedule: _Schedule | None, start: dt.date, as_of: dt.date) -> tuple[TaskFact, ...]:
    """The leaf tasks on ``as_of`` that a KPI or rule of the period can count: unfinished
    ones, those finished since ``start``, and every milestone (``compute_kpis`` needs to
    know a schedule has milestones). Tasks finished earlier are left out — with
    ``has_schedule`` set, no KPI changes — so a long schedule costs only its live part."""
    if schedule is None:
        return ()
    dates = schedule.dates
    day = day_number(as_of)
    delays = task_delay_days(dates, day)
    with np.errstate(invalid="ignore"):
        finished = dates.actual_finish <= day
        keep = ~finished | (dates.actual_finish >= day_number(start)) | dates.is_milestone
    # Plain lists: indexing numpy arrays element by element costs more than the work.
    milestone, critical = dates.is_milestone.tolist(), dates.is_critical.tolist()
    delay, done, floats = delays.tolist(), finished.tolist(), dates.total_float_days.tolist()
    finish = dates.actual_finish.tolist()
    facts = [
        TaskFact(
            key=schedule.keys[i],
            name=schedule.names[i],
            wbs_code=schedule.wbs_codes[i],
            is_milestone=milestone[i],
            is_critical=critical[i],
            delay_days=delay[i],
            total_float_days=None if math.isnan(floats[i]) else floats[i],
            finished=done[i],
            finished_on=_date(finish[i]) if done[i] else None,
        )
        for i in np.flatnonzero(keep).tolist()
    ]
    return tuple(facts)


def _date(number: float) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(number))


_EPOCH = dt.date(1970, 1, 1)


def _issue_facts(session: Session, project_ids: Sequence[int], start: dt.date) -> dict[int, list[IssueFact]]:
    """The issues a KPI or rule of a period starting on ``start`` can count: all but drafts,
    voided ones, and those closed before the period that were neither raised nor due in it."""
    since = dt.datetime.combine(start, dt.time(), dt.UTC)
    settled = and_(
        IssueRow.status == "closed",
        IssueRow.closed_at < since,
        IssueRow.created_at < since,
        or_(IssueRow.due_date.is_(None), IssueRow.due_date < start),
    )
    out: dict[int, list[IssueFact]] = defaultdict(list)
    for row in session.connection().execute(  # Core rows: many, and read only
        select(
            IssueRow.project_id,
            IssueRow.number,
            IssueRow.title,
            IssueRow.kind,
            IssueRow.severity,
            IssueRow.status,
            IssueRow.created_at,
            IssueRow.closed_at,
            IssueRow.due_date,
            IssueRow.zone,
            IssueRow.category,
            IssueRow.reopened_count,
        ).where(
            IssueRow.project_id.in_(list(project_ids)),
            IssueRow.status.not_in(("draft", "void")),
            not_(settled),
        )
    ):
        out[row.project_id].append(
            IssueFact(
                number=row.number,
                kind=row.kind,
                severity=row.severity,
                status=row.status,
                created_on=_utc(row.created_at).date(),
                closed_on=_utc(row.closed_at).date() if row.closed_at else None,
                due_date=row.due_date,
                zone=row.zone,
                category=row.category,
                reopened_count=row.reopened_count,
                title=row.title,
            )
        )
    return out


def _lot_facts(
    session: Session, project_ids: Sequence[int], start: dt.date, as_of: dt.date
) -> dict[int, list[LotFact]]:
    """Acceptance attempts from the period's start — or from as far back as the longest
    rework rule can look, if that is earlier — to ``as_of``."""
    since = min(start, as_of - dt.timedelta(weeks=MAX_REWORK_WEEKS + 1))
    out: dict[int, list[LotFact]] = defaultdict(list)
    for row in session.connection().execute(  # Core rows: many, and read only
        select(
            InspectionLotRow.project_id,
            InspectionLotRow.code,
            InspectionLotRow.zone,
            InspectionLotRow.trade,
            InspectionLotRow.inspected_on,
            InspectionLotRow.attempt_no,
            InspectionLotRow.accepted,
        ).where(
            InspectionLotRow.project_id.in_(list(project_ids)),
            InspectionLotRow.inspected_on.between(since, as_of),
        )
    ):
        out[row.project_id].append(
            LotFact(row.code, row.zone, row.trade, row.inspected_on, row.attempt_no, bool(row.accepted))
        )
    return out


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


#: A control-level (控制) sensor alarm unacknowledged for longer than this turns the
#: project's "other" dimension RED (domain.md §3.8).
CONTROL_UNACKED_AFTER = dt.timedelta(minutes=30)


def _alarm_facts(session: Session, project_ids: Sequence[int], at: dt.datetime) -> dict[int, tuple[int, int]]:
    """Per project, (open alarms, control alarms unacknowledged for over 30 minutes) at
    ``at``: the sensor threshold alerts at 报警 or 控制 (RED; a 预警 is a warning, not an
    alarm) open then. A control alarm counts from when its tier came into force (the
    alert's ``since``); it is unacknowledged while open, or if acknowledged after ``at``.
    For a past ``at`` the level and tier are the alert's latest."""
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in session.connection().execute(
        select(
            AlertRow.project_id,
            AlertRow.status,
            AlertRow.opened_at,
            AlertRow.acknowledged_at,
            AlertRow.resolved_at,
            AlertRow.updated_at,
            AlertRow.facts_json,
        )
        .join(AlertRuleRow, AlertRuleRow.id == AlertRow.rule_id)
        .where(
            AlertRow.project_id.in_(list(project_ids)),
            AlertRuleRow.kind == RuleKind.SENSOR_THRESHOLD.value,
            AlertRow.level == Light.RED.value,
            AlertRow.opened_at <= at,
            or_(AlertRow.resolved_at.is_(None), AlertRow.resolved_at > at),
        )
    ):
        counts = out[row.project_id]
        counts[0] += 1
        facts = json.loads(row.facts_json)
        if facts.get("tier") != "control":
            continue
        since = dt.datetime.fromisoformat(facts["since"]) if facts.get("since") else _utc(row.updated_at)
        acknowledged = row.acknowledged_at is not None and _utc(row.acknowledged_at) <= at
        if (row.status == "open" or not acknowledged) and at - _utc(since) > CONTROL_UNACKED_AFTER:
            counts[1] += 1
    return {pid: (open_alarms, unacked) for pid, (open_alarms, unacked) in out.items()}


def gather_facts(
    session: Session, *, period: str, today: dt.date, project_ids: Sequence[int] | None = None
) -> dict[int, tuple[_Source, ProjectFacts]]:
    """Every (or the given) project's facts for ``period``, as of ``min(today, period end)``."""
    start, end = period_bounds(period)
    as_of = min(today, end)
    sources = _sources(session, project_ids)
    ids = list(sources)
    schedules = _schedules(session, sources)
    issues = _issue_facts(session, ids, start)
    lots = _lot_facts(session, ids, start, as_of)
    now = dt.datetime.now(dt.UTC)
    moment = (
        now
        if as_of >= today
        else min(now, dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC))
    )
    alarms = _alarm_facts(session, ids, moment)
    return {
        pid: (
            source,
            ProjectFacts(
                project_id=pid,
                period_start=start,
                period_end=end,
                as_of=as_of,
                spi=_spi(schedules.get(pid), as_of),
                tasks=_task_facts(schedules.get(pid), start, as_of),
                issues=tuple(issues.get(pid, ())),
                lots=tuple(lots.get(pid, ())),
                has_schedule=bool(pid in schedules and schedules[pid].keys),
                open_alarms=alarms.get(pid, (0, 0))[0],
                control_alarms_unacked=alarms.get(pid, (0, 0))[1],
            ),
        )
        for pid, source in sources.items()
    }


# --------------------------------------------------------------------------- recompute


@dataclass(frozen=True, slots=True)
class RecomputeReport:
    periods: tuple[str, ...]
    projects: int
    computed: int  # project × period rows written
    frozen: int  # of which frozen now (their month had ended)
    skipped_frozen: int  # already frozen: never written again
    seconds: float


def recompute_kpis(
    session: Session,
    *,
    today: dt.date,
    periods: Iterable[str] | None = None,
    project_ids: Sequence[int] | None = None,
    policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
) -> RecomputeReport:
    """Compute and store KPIs and health (judged by ``policy``) for the given periods
    (default: this month and the last, so a month that just ended is completed and frozen)
    of the given projects (default: all). A period that has ended is frozen as it is
    written; a frozen period is never written again."""
    started = time.perf_counter()
    current = period_of(today)
    wanted = sorted(set(periods or (current, _shift(current, -1))))
    for period in wanted:
        if period_bounds(period)[0] > today:
            raise InvalidInput(f"the period {period} has not begun")
    universe = list(project_ids) if project_ids is not None else _all_projects(session)
    computed = frozen = skipped = 0
    for period in wanted:
        already = _frozen(session, period, universe)
        ids = [pid for pid in universe if pid not in already]
        facts = gather_facts(session, period=period, today=today, project_ids=ids) if ids else {}
        written = store_kpis(session, period=period, facts=facts, today=today, policy=policy)
        skipped += len(already)
        computed += written
        frozen += written if period_bounds(period)[1] < today else 0
    session.commit()
    return RecomputeReport(
        tuple(wanted), len(universe), computed, frozen, skipped, time.perf_counter() - started
    )


def store_kpis(
    session: Session,
    *,
    period: str,
    facts: Mapping[int, tuple[_Source, ProjectFacts]],
    today: dt.date,
    policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
) -> int:
    """Write the KPIs and health of ``facts``' projects (``gather_facts`` for ``period``),
    replacing what was there, frozen if the period ended before ``today``; projects whose
    period is frozen already are left as they are. Returns the rows written; the caller
    commits."""
    closing = period_bounds(period)[1] < today
    frozen = _frozen(session, period, list(facts))
    facts = {pid: f for pid, f in facts.items() if pid not in frozen}
    now = dt.datetime.now(dt.UTC)
    session.execute(
        delete(KpiValueRow).where(KpiValueRow.period == period, KpiValueRow.project_id.in_(list(facts)))
    )
    session.execute(
        delete(KpiPeriodRow).where(KpiPeriodRow.period == period, KpiPeriodRow.project_id.in_(list(facts)))
    )
    values_rows = []
    period_rows = []
    for pid, (_, project_facts) in facts.items():
        kpis = compute_kpis(project_facts)
        health = policy.health(kpis)
        stored = _health_json(health) | {"rework": _rework_cells(project_facts)}
        values_rows += [{"project_id": pid, "period": period, "code": c, "value": v} for c, v in kpis.items()]
        period_rows.append(
            {
                "project_id": pid,
                "period": period,
                "frozen": closing,
                "computed_at": now,
                "frozen_at": now if closing else None,
                "light": health.light.value,
                "score": health.score,
                "health_json": json.dumps(stored, ensure_ascii=False, sort_keys=True),
            }
        )
    if values_rows:
        session.execute(KpiValueRow.__table__.insert(), values_rows)
    if period_rows:
        session.execute(KpiPeriodRow.__table__.insert(), period_rows)
    return len(period_rows)


def _frozen(session: Session, period: str, project_ids: Sequence[int]) -> set[int]:
    frozen = set(
        session.scalars(
            select(KpiPeriodRow.project_id).where(KpiPeriodRow.period == period, KpiPeriodRow.frozen)
        )
    )
    return frozen & set(project_ids)


def _all_projects(session: Session) -> list[int]:
    return list(session.scalars(select(ProjectRow.node_id).order_by(ProjectRow.node_id)))


def projects_under(session: Session, *, node_path: str) -> list[int]:
    """The projects in a node's subtree (the node itself, if it is one)."""
    return list(
        session.scalars(
            select(ProjectRow.node_id)
            .join(OrgNodeRow, OrgNodeRow.id == ProjectRow.node_id)
            .where(OrgNodeRow.path.startswith(node_path))
            .order_by(ProjectRow.node_id)
        )
    )


def _health_json(health: ProjectHealth) -> dict:
    return {
        "light": health.light.value,
        "score": health.score,
        "lights": {d.value: light.value for d, light in health.lights.items()},
        "scores": {d.value: score for d, score in health.scores.items()},
        "reasons": [
            {"dimension": r.dimension.value, "code": r.code, "value": r.value, "shortfall": r.shortfall}
            for r in health.reasons
        ],
        "red_count": health.red_count,
    }


def _rework_cells(facts: ProjectFacts) -> list[dict]:
    """The rework rate per zone and ISO week of the lots accepted in the period (stored with
    the health, so a closed month keeps its table)."""
    window = [lot for lot in facts.lots if facts.period_start <= lot.inspected_on <= facts.as_of]
    return [
        {
            "zone": cell.zone,
            "week": cell.week,
            "accepted": cell.accepted,
            "reworked": cell.reworked,
            "rate": cell.rate,
            "trades": list(cell.trades),
        }
        for cell in rework_by_zone_week(window).values()
    ]


def _health(data: Mapping) -> ProjectHealth:
    return ProjectHealth(
        light=Light(data["light"]),
        score=float(data["score"]),
        lights={Dimension(d): Light(v) for d, v in data["lights"].items()},
        scores={Dimension(d): float(v) for d, v in data["scores"].items()},
        reasons=tuple(
            Reason(Dimension(r["dimension"]), r["code"], r["value"], float(r["shortfall"]))
            for r in data["reasons"]
        ),
        red_count=int(data["red_count"]),
    )


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class ProjectKpis:
    project_id: int
    period: str
    frozen: bool
    computed_at: dt.datetime
    light: str
    score: float
    lights: dict[str, str]
    scores: dict[str, float]
    reasons: list[dict]
    values: dict[str, float | None]
    rework_by_zone_week: list[dict]


def project_kpis(session: Session, *, project_id: int, period: str) -> ProjectKpis:
    """A project's stored KPIs and health for a period (``NotFound`` before the first
    computation of that period)."""
    period_bounds(period)
    row = session.get(KpiPeriodRow, (project_id, period))
    if row is None:
        raise NotFound(
            f"no KPIs for {period} yet: they are computed every few minutes, or by POST …/recompute"
        )
    values = dict(
        session.execute(
            select(KpiValueRow.code, KpiValueRow.value).where(
                KpiValueRow.project_id == project_id, KpiValueRow.period == period
            )
        ).all()
    )
    health = json.loads(row.health_json)
    return ProjectKpis(
        project_id=project_id,
        period=period,
        frozen=row.frozen,
        computed_at=_utc(row.computed_at),
        light=row.light,
        score=row.score,
        lights=health["lights"],
        scores=health["scores"],
        reasons=health["reasons"],
        values=values,
        rework_by_zone_week=health.get("rework", []),
    )


@dataclass(frozen=True, slots=True)
class TrendPoint:
    period: str
    score: float
    light: str


@dataclass(frozen=True, slots=True)
class ProjectLine:
    id: int
    code: str
    name: str
    region_id: int | None
    region: str | None
    site_lon: float | None
    site_lat: float | None
    contract_value_cny: float | None
    light: str | None
    score: float | None
    rank_in_region: int | None
    lights: dict[str, str]
    trend: list[TrendPoint]
    open_alerts: int
    red_alerts: int


@dataclass(frozen=True, slots=True)
class RegionLine:
    id: int
    code: str
    name: str
    projects: int
    by_light: dict[str, int]
    mean_score: float | None
    open_alerts: int


@dataclass(frozen=True, slots=True)
class PortfolioSummary:
    period: str
    projects: list[ProjectLine]
    regions: list[RegionLine]
    by_light: dict[str, int] = field(default_factory=dict)


def portfolio_summary(session: Session, *, principal: Principal, period: str) -> PortfolioSummary:
    """Every project the caller may see, with its light, score, rank in its region, lights by
    dimension, score trend (the last six months) and open alerts; and the same rolled up per
    region and for all. A rank is within the whole region, whoever asks."""
    period_bounds(period)
    trend_periods = [_shift(period, -k) for k in range(TREND_PERIODS - 1, -1, -1)]
    visible = OrgNodeRow.path.startswith(principal.scope_path)
    nodes = session.execute(
        select(OrgNodeRow.id, OrgNodeRow.code, OrgNodeRow.name, OrgNodeRow.parent_id, OrgNodeRow.kind).where(
            visible
        )
    ).all()
    node_of = {n.id: n for n in nodes}
    regions = {n.id: n for n in nodes if n.kind == "region"}
    projects = {
        row.node_id: row
        for row in session.execute(
            select(
                ProjectRow.node_id, ProjectRow.site_lon, ProjectRow.site_lat, ProjectRow.contract_value_cny
            )
            .join(OrgNodeRow, OrgNodeRow.id == ProjectRow.node_id)
            .where(visible)
        )
    }
    region_ids = {node_of[pid].parent_id for pid in projects}
    region_names = dict(
        session.execute(select(OrgNodeRow.id, OrgNodeRow.name).where(OrgNodeRow.id.in_(region_ids))).all()
    )
    trend: dict[int, list[TrendPoint]] = defaultdict(list)
    for pid, p, score, light in session.execute(
        select(KpiPeriodRow.project_id, KpiPeriodRow.period, KpiPeriodRow.score, KpiPeriodRow.light)
        .join(OrgNodeRow, OrgNodeRow.id == KpiPeriodRow.project_id)
        .where(KpiPeriodRow.period.in_(trend_periods), visible)
        .order_by(KpiPeriodRow.project_id, KpiPeriodRow.period)
    ):
        trend[pid].append(TrendPoint(p, round(score, 1), light))
    current = _region_healths(session, period=period, region_ids=region_ids)
    ranked = {r.project_id: r.rank_in_region for r in rank_in_regions(current)}
    health_of = {pid: health for pid, _, health in current}
    alerts = _open_alert_counts(session, scope_path=principal.scope_path)
    lines = []
    for pid in sorted(projects, key=lambda p: node_of[p].code):
        node, project, health = node_of[pid], projects[pid], health_of.get(pid)
        opened, red = alerts.get(pid, (0, 0))
        lines.append(
            ProjectLine(
                id=pid,
                code=node.code,
                name=node.name,
                region_id=node.parent_id,
                region=region_names.get(node.parent_id),
                site_lon=project.site_lon,
                site_lat=project.site_lat,
                contract_value_cny=project.contract_value_cny,
                light=health.light.value if health else None,
                score=round(health.score, 1) if health else None,
                rank_in_region=ranked.get(pid),
                lights={d.value: light.value for d, light in health.lights.items()} if health else {},
                trend=trend.get(pid, []),
                open_alerts=opened,
                red_alerts=red,
            )
        )
    region_lines = []
    for rid, region in sorted(regions.items(), key=lambda item: item[1].code):
        members = [line for line in lines if line.region_id == rid]
        region_lines.append(_roll(rid, region.code, region.name, members))
    return PortfolioSummary(period, lines, region_lines, _count_lights(lines))


def portfolio_stamp(session: Session) -> tuple:
    """Changes whenever a summary could: a KPI row written (each write stamps ``computed_at``),
    an alert raised or changed (each change stamps ``updated_at``), a node or project added,
    renamed, moved or edited (``updated_at`` again). Two index probes and scans of the
    organisation's (small) tables: far cheaper than the summary it guards."""
    return tuple(
        session.execute(
            select(
                select(func.max(KpiPeriodRow.computed_at)).scalar_subquery(),
                select(func.max(AlertRow.updated_at)).scalar_subquery(),
                select(func.count()).select_from(OrgNodeRow).scalar_subquery(),
                select(func.max(OrgNodeRow.updated_at)).scalar_subquery(),
                select(func.max(ProjectRow.updated_at)).scalar_subquery(),
            )
        ).one()
    )


class SummaryCache:
    """Rendered summaries by key (scope path, period), reused while the portfolio's stamp
    is the one they were rendered under, and for at most ``ttl_s`` seconds (a safety net:
    the stamp compares times written by the processes' clocks).

    A dashboard of 1,000 projects takes ~0.2 s to assemble and is read far more often
    than the KPIs change (every few minutes, or on a change); serving it again from memory
    keeps its p99 within the issue's 100 ms under load. One per process, thread-safe.
    """

    def __init__(self, *, ttl_s: float, max_entries: int = 256) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: dict[tuple, tuple[float, tuple, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, stamp: tuple) -> object | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[1] != stamp or time.monotonic() - entry[0] >= self._ttl_s:
            return None
        return entry[2]

    def put(self, key: tuple, stamp: tuple, value: object) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries and key not in self._entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest: dicts keep insertion order
            self._entries[key] = (time.monotonic(), stamp, value)


def _region_healths(
    session: Session, *, period: str, region_ids: Iterable[int | None]
) -> list[tuple[int, int, ProjectHealth]]:
    """``(project, region, health)`` of every project of the regions with KPIs for the
    period: the field a rank is taken in."""
    return [
        (pid, region or 0, _health(json.loads(health)))
        for pid, region, health in session.execute(
            select(KpiPeriodRow.project_id, OrgNodeRow.parent_id, KpiPeriodRow.health_json)
            .join(OrgNodeRow, OrgNodeRow.id == KpiPeriodRow.project_id)
            .where(KpiPeriodRow.period == period, OrgNodeRow.parent_id.in_([r for r in region_ids if r]))
        )
    ]


def _open_alert_counts(session: Session, *, scope_path: str) -> dict[int, tuple[int, int]]:
    """Per project under ``scope_path``: (open or acknowledged alerts, of which red)."""
    out: dict[int, tuple[int, int]] = {}
    for pid, level, count in session.execute(
        select(AlertRow.project_id, AlertRow.level, func.count())
        .join(OrgNodeRow, OrgNodeRow.id == AlertRow.project_id)
        .where(AlertRow.status.in_(("open", "acknowledged")), OrgNodeRow.path.startswith(scope_path))
        .group_by(AlertRow.project_id, AlertRow.level)
    ):
        total, red = out.get(pid, (0, 0))
        out[pid] = (total + count, red + (count if level == Light.RED.value else 0))
    return out


def _count_lights(lines: Sequence[ProjectLine]) -> dict[str, int]:
    counts = {light.value: 0 for light in Light}
    counts["none"] = 0
    for line in lines:
        counts[line.light or "none"] += 1
    return counts


def _roll(node_id: int, code: str, name: str, members: Sequence[ProjectLine]) -> RegionLine:
    scores = [m.score for m in members if m.score is not None]
    return RegionLine(
        id=node_id,
        code=code,
        name=name,
        projects=len(members),
        by_light=_count_lights(members),
        mean_score=round(sum(scores) / len(scores), 1) if scores else None,
        open_alerts=sum(m.open_alerts for m in members),
    )


@dataclass(frozen=True, slots=True)
class RankedLine:
    project_id: int
    code: str
    name: str
    score: float
    light: str
    red_count: int
    rank_in_region: int
    reasons: list[dict]


@dataclass(frozen=True, slots=True)
class RegionRanking:
    region_id: int
    region: str
    ranked: list[RankedLine]
    bottom: list[RankedLine]


@dataclass(frozen=True, slots=True)
class Ranking:
    period: str
    frozen: bool  # every project's values of the period are frozen: the answer cannot change
    regions: list[RegionRanking]


def ranking(session: Session, *, principal: Principal, period: str) -> Ranking:
    """Projects ranked within their regions by composite score, and each region's bottom
    three with their two main reasons — from the stored values of the period (frozen once
    the month has closed, so a re-run gives the same answer). Ranks are taken in the whole
    region; the lists hold the projects the caller may see."""
    period_bounds(period)
    rows = session.execute(
        select(
            KpiPeriodRow.project_id,
            KpiPeriodRow.frozen,
            OrgNodeRow.code,
            OrgNodeRow.name,
            OrgNodeRow.parent_id,
        )
        .join(OrgNodeRow, OrgNodeRow.id == KpiPeriodRow.project_id)
        .where(KpiPeriodRow.period == period, OrgNodeRow.path.startswith(principal.scope_path))
    ).all()
    info = {r.project_id: (r.code, r.name) for r in rows}
    every = rank_in_regions(_region_healths(session, period=period, region_ids={r.parent_id for r in rows}))
    ranked = [item for item in every if item.project_id in info]
    # The bottom three of the whole region; the caller sees those of them in their scope.
    bottoms = {
        region: [item for item in items if item.project_id in info]
        for region, items in bottom_three(every).items()
    }
    names = dict(
        session.execute(
            select(OrgNodeRow.id, OrgNodeRow.name).where(OrgNodeRow.id.in_({r.parent_id for r in rows}))
        ).all()
    )

    def line(item) -> RankedLine:
        code, name = info[item.project_id]
        return RankedLine(
            project_id=item.project_id,
            code=code,
            name=name,
            score=round(item.score, 1),
            light=item.light.value,
            red_count=item.red_count,
            rank_in_region=item.rank_in_region,
            reasons=[
                {
                    "dimension": r.dimension.value,
                    "code": r.code,
                    "value": r.value,
                    "shortfall": round(r.shortfall, 2),
                }
                for r in item.reasons[:2]
            ],
        )

    regions = []
    for region_id in sorted({item.region_id for item in ranked}):
        members = [line(item) for item in ranked if item.region_id == region_id]
        regions.append(
            RegionRanking(
                region_id=region_id,
                region=names.get(region_id, ""),
                ranked=members,
                bottom=[line(item) for item in bottoms.get(region_id, [])],
            )
        )
    return Ranking(period, bool(rows) and all(r.frozen for r in rows), regions)


@dataclass(frozen=True, slots=True)
class Rollup:
    node_id: int
    period: str
    projects: int
    by_light: dict[str, int]
    mean_score: float | None
    totals: dict[str, float]  # counts summed over the projects (issues, hazards, late tasks …)
    means: dict[str, float]  # rates and SPI averaged over the projects that have them


_SUMMED = {
    "late_tasks",
    "milestones_at_risk",
    "issues_raised",
    "issues_closed",
    "overdue_issues",
    "hazards_open_minor",
    "hazards_open_major",
    "major_hazards_overdue",
    "open_alarms",
    "control_alarms_unacked",
}


def node_rollup(session: Session, *, node_id: int, node_path: str, period: str) -> Rollup:
    """A region's (or HQ's) projects for a period: lights counted, mean score, counts summed,
    rates averaged."""
    period_bounds(period)
    rows = session.execute(
        select(KpiPeriodRow.project_id, KpiPeriodRow.light, KpiPeriodRow.score)
        .join(OrgNodeRow, OrgNodeRow.id == KpiPeriodRow.project_id)
        .where(KpiPeriodRow.period == period, OrgNodeRow.path.startswith(node_path))
    ).all()
    by_light = {light.value: 0 for light in Light}
    for _, light, _ in rows:
        by_light[light] = by_light.get(light, 0) + 1
    values: dict[str, list[float]] = defaultdict(list)
    for code, value in session.execute(
        select(KpiValueRow.code, KpiValueRow.value).where(
            KpiValueRow.period == period, KpiValueRow.project_id.in_([r[0] for r in rows])
        )
    ):
        if value is not None:
            values[code].append(value)
    scores = [r[2] for r in rows]
    return Rollup(
        node_id=node_id,
        period=period,
        projects=len(rows),
        by_light=by_light,
        mean_score=round(sum(scores) / len(scores), 1) if scores else None,
        totals={c: float(sum(v)) for c, v in sorted(values.items()) if c in _SUMMED},
        means={c: round(sum(v) / len(v), 4) for c, v in sorted(values.items()) if c not in _SUMMED},
    )


# --------------------------------------------------------------------------- inspection lots


@dataclass(frozen=True, slots=True)
class LotRecord:
    id: int
    code: str
    name: str
    zone: str
    trade: str
    inspected_on: dt.date
    attempt_no: int
    accepted: bool
    note: str | None


def add_lot(
    session: Session,
    *,
    project_id: int,
    code: str,
    name: str,
    zone: str,
    trade: str,
    inspected_on: dt.date,
    accepted: bool,
    note: str | None,
    user_id: int | None,
) -> LotRecord:
    """Record an acceptance attempt of an inspection lot: the next attempt of ``code``. A
    lot accepted once takes no further attempt (a rework is attempt 2 after a rejection).
    ``user_id`` None: recorded by the system (an import, the demo)."""
    attempts = session.execute(
        select(InspectionLotRow.attempt_no, InspectionLotRow.accepted).where(
            InspectionLotRow.project_id == project_id, InspectionLotRow.code == code
        )
    ).all()
    if any(accepted for _, accepted in attempts):
        raise Conflict(f"lot {code} is already accepted", code="lot_accepted")
    row = InspectionLotRow(
        project_id=project_id,
        code=code,
        name=name,
        zone=zone,
        trade=trade,
        inspected_on=inspected_on,
        attempt_no=max((a for a, _ in attempts), default=0) + 1,
        accepted=accepted,
        note=note,
        recorded_by_id=user_id,
    )
    session.add(row)
    commit_or_conflict(session, f"another attempt of lot {code} was recorded at the same moment; try again")
    return _lot(row)


def _lot(row: InspectionLotRow) -> LotRecord:
    return LotRecord(
        row.id,
        row.code,
        row.name,
        row.zone,
        row.trade,
        row.inspected_on,
        row.attempt_no,
        row.accepted,
        row.note,
    )


def list_lots(session: Session, *, project_id: int, limit: int = 1000) -> list[LotRecord]:
    rows = session.scalars(
        select(InspectionLotRow)
        .where(InspectionLotRow.project_id == project_id)
        .order_by(InspectionLotRow.inspected_on.desc(), InspectionLotRow.id.desc())
        .limit(limit)
    )
    return [_lot(row) for row in rows]


# --------------------------------------------------------------------------- improvement actions


@dataclass(frozen=True, slots=True)
class ActionRecord:
    id: int
    project_id: int
    period: str
    reasons: list[dict]
    action: str
    owner_id: int | None
    owner: str | None
    due_date: dt.date
    status: str
    check_result: str | None
    created_at: dt.datetime


ACTION_STATUSES = ("planned", "done", "checked")


def create_action(
    session: Session,
    *,
    project_id: int,
    period: str,
    action: str,
    owner_id: int | None,
    due_date: dt.date,
    user_id: int,
) -> ActionRecord:
    """An improvement action (PDCA) for a project of a period's ranking; it records the
    reasons the ranking gave for the project, so next month's check knows what it was for."""
    period_bounds(period)
    row = session.get(KpiPeriodRow, (project_id, period))
    reasons = json.loads(row.health_json)["reasons"][:2] if row is not None else []
    if owner_id is not None and session.get(UserRow, owner_id) is None:
        raise InvalidInput(f"no user {owner_id} to own the action")
    record = ImprovementActionRow(
        project_id=project_id,
        period=period,
        reasons_json=json.dumps(reasons, ensure_ascii=False),
        action=action,
        owner_id=owner_id,
        due_date=due_date,
        status="planned",
        created_by_id=user_id,
    )
    session.add(record)
    session.commit()
    return _action(session, record)


def update_action(
    session: Session,
    *,
    project_id: int,
    action_id: int,
    status: str | None,
    check_result: str | None,
    now: dt.datetime,
) -> ActionRecord:
    row = session.scalar(
        select(ImprovementActionRow).where(
            ImprovementActionRow.id == action_id, ImprovementActionRow.project_id == project_id
        )
    )
    if row is None:
        raise NotFound(f"no improvement action {action_id} in this project")
    if status is not None:
        if status not in ACTION_STATUSES:
            raise InvalidInput(f"an action's status is one of {', '.join(ACTION_STATUSES)}")
        row.status = status
    if check_result is not None:
        row.check_result = check_result
    row.updated_at = now
    session.commit()
    return _action(session, row)


def list_actions(session: Session, *, project_id: int) -> list[ActionRecord]:
    rows = session.scalars(
        select(ImprovementActionRow)
        .where(ImprovementActionRow.project_id == project_id)
        .order_by(ImprovementActionRow.period.desc(), ImprovementActionRow.id)
    ).all()
    return [_action(session, row) for row in rows]


def _action(session: Session, row: ImprovementActionRow) -> ActionRecord:
    owner = session.get(UserRow, row.owner_id) if row.owner_id else None
    return ActionRecord(
        id=row.id,
        project_id=row.project_id,
        period=row.period,
        reasons=json.loads(row.reasons_json),
        action=row.action,
        owner_id=row.owner_id,
        owner=(owner.display_name or owner.username) if owner else None,
        due_date=row.due_date,
        status=row.status,
        check_result=row.check_result,
        created_at=_utc(row.created_at),
    )
