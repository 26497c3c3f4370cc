"""Alerts: rules stored as data, evaluated for a project whenever something relevant changes
(a job queued by the change) and for the whole portfolio by a periodic job; one open alert
per (rule, subject), escalated in place, resolved when its condition ends, acknowledged and
resolved by people; the feed each user sees is their part of the organisation.

The decisions are ``domain.alerts`` (pure): which candidates the rules raise from a
project's facts, and how they reconcile with the alerts already there.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.orm import AlertRow, AlertRuleRow, JobRunRow, OrgNodeRow, UserRow
from ..domain.alerts import (
    DEFAULT_RULES,
    RULE_PARAMS,
    AlertPlan,
    AlertRule,
    OpenAlert,
    RuleKind,
    alert_text,
    evaluate_rules,
    reconcile,
)
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.kpis import DEFAULT_HEALTH_POLICY, HealthPolicy, Light, compute_kpis
from ..domain.model import Principal
from .portfolio import gather_facts, period_of, previous_period, recompute_kpis, store_kpis
from .store import commit_or_conflict

__all__ = [
    "SENSOR_KINDS",
    "AlertRecord",
    "EvaluationReport",
    "RuleRecord",
    "acknowledge_alert",
    "apply_alert_plan",
    "claim_periodic_run",
    "create_rule",
    "ensure_default_rules",
    "evaluate_alerts",
    "evaluate_projects",
    "list_alerts",
    "list_rules",
    "resolve_alert",
    "update_rule",
]

LIVE = ("open", "acknowledged")

#: Rule kinds judged from readings by ``services.sensors`` (per batch, and for offline
#: devices in the periodic round). The project evaluation below neither runs them nor
#: resolves their alerts, and the sensor service touches no other kind's alerts.
SENSOR_KINDS = (RuleKind.SENSOR_THRESHOLD.value, RuleKind.SENSOR_OFFLINE.value)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class RuleRecord:
    id: int
    code: str
    kind: str
    scope_node_id: int | None
    scope: str | None  # the node's name; None: every project
    scope_path: str  # "/" for every project
    params: dict[str, float]
    level: str
    cooldown_minutes: int
    enabled: bool


def ensure_default_rules(session: Session) -> None:
    """The default rules (domain.alerts.DEFAULT_RULES), once: an administrator edits or
    disables them afterwards, and they are never put back behind their back."""
    if session.scalar(select(func.count()).select_from(AlertRuleRow)):
        return
    for rule in DEFAULT_RULES:
        session.add(
            AlertRuleRow(
                code=rule.code,
                kind=rule.kind.value,
                scope_node_id=None,
                params_json=json.dumps(dict(rule.params), sort_keys=True),
                level=rule.level.value,
                cooldown_minutes=rule.cooldown_minutes,
                enabled=rule.enabled,
            )
        )
    try:
        session.commit()
    except IntegrityError:  # another process seeded them first
        session.rollback()


def _rules(session: Session) -> list[tuple[AlertRuleRow, AlertRule]]:
    paths = dict(session.execute(select(OrgNodeRow.id, OrgNodeRow.path)).all())
    out = []
    for row in session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.id)):
        out.append(
            (
                row,
                AlertRule(
                    code=row.code,
                    kind=RuleKind(row.kind),
                    scope_path=paths.get(row.scope_node_id, "/") if row.scope_node_id else "/",
                    params=json.loads(row.params_json),
                    level=Light(row.level),
                    cooldown_minutes=row.cooldown_minutes,
                    enabled=row.enabled,
                ),
            )
        )
    return out


def _rule_record(session: Session, row: AlertRuleRow) -> RuleRecord:
    scope = session.get(OrgNodeRow, row.scope_node_id) if row.scope_node_id else None
    return RuleRecord(
        id=row.id,
        code=row.code,
        kind=row.kind,
        scope_node_id=row.scope_node_id,
        scope=scope.name if scope else None,
        scope_path=scope.path if scope else "/",
        params=json.loads(row.params_json),
        level=row.level,
        cooldown_minutes=row.cooldown_minutes,
        enabled=row.enabled,
    )


def list_rules(session: Session, *, principal: Principal) -> list[RuleRecord]:
    """Rules that can apply to the caller's projects: everywhere, or scoped to a node on
    the caller's path or inside the caller's subtree."""
    ensure_default_rules(session)
    paths = dict(session.execute(select(OrgNodeRow.id, OrgNodeRow.path)).all())
    out = []
    for row in session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.id)):
        path = paths.get(row.scope_node_id, "/") if row.scope_node_id else "/"
        if path.startswith(principal.scope_path) or principal.scope_path.startswith(path):
            out.append(_rule_record(session, row))
    return out


def create_rule(
    session: Session,
    *,
    node_id: int,
    code: str,
    kind: RuleKind,
    params: Mapping[str, float],
    level: Light,
    cooldown_minutes: int,
    enabled: bool,
    user_id: int,
) -> RuleRecord:
    """A rule for the projects under ``node_id`` (already authorised for ``manage_org`` there):
    for its kind it overrides a rule of a wider scope."""
    ensure_default_rules(session)
    _check_params(kind, params)
    row = AlertRuleRow(
        code=code,
        kind=kind.value,
        scope_node_id=node_id,
        params_json=json.dumps(dict(params), sort_keys=True),
        level=Light(level).value,
        cooldown_minutes=cooldown_minutes,
        enabled=enabled,
        created_by_id=user_id,
    )
    session.add(row)
    commit_or_conflict(session, f"a rule with the code {code!r} exists already", code="duplicate_rule")
    return _rule_record(session, row)


def update_rule(
    session: Session,
    *,
    node_path: str,
    rule_id: int,
    params: Mapping[str, float] | None,
    level: Light | None,
    cooldown_minutes: int | None,
    enabled: bool | None,
    now: dt.datetime,
) -> RuleRecord:
    """Change a rule whose scope lies in ``node_path``'s subtree (a region manages its own
    rules; the HQ-wide defaults are HQ's)."""
    ensure_default_rules(session)
    row = session.get(AlertRuleRow, rule_id)
    if row is None:
        raise NotFound(f"no alert rule {rule_id} here")
    if row.scope_node_id is None:
        # A default covers every project: only HQ (the root, path "/<id>/") manages it.
        mine = node_path.count("/") == 2
    else:
        mine = session.get(OrgNodeRow, row.scope_node_id).path.startswith(node_path)
    if not mine:
        raise NotFound(f"no alert rule {rule_id} here")
    if params is not None:
        _check_params(RuleKind(row.kind), params)
        row.params_json = json.dumps(dict(params), sort_keys=True)
    if level is not None:
        row.level = Light(level).value
    if cooldown_minutes is not None:
        row.cooldown_minutes = cooldown_minutes
    if enabled is not None:
        row.enabled = enabled
    row.updated_at = now
    session.commit()
    return _rule_record(session, row)


def _check_params(kind: RuleKind, params: Mapping[str, float]) -> None:
    """Refuse parameters the kind does not read, and a rule the domain could not run."""
    allowed = set(RULE_PARAMS[kind])
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InvalidInput(f"a {kind.value} rule takes {sorted(allowed) or 'no parameters'}, not {unknown}")
    AlertRule("check", kind, "/", params, Light.RED, 0)


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    projects: int
    created: int
    updated: int
    resolved: int


def evaluate_alerts(
    session: Session,
    *,
    today: dt.date,
    now: dt.datetime,
    project_ids: Sequence[int] | None = None,
    facts: Mapping[int, tuple] | None = None,
) -> EvaluationReport:
    """Evaluate every rule for the given projects (default: all) on today's facts, and bring
    their alerts in line: new ones raised, changed ones updated (escalated), ended ones
    resolved. ``facts``: this month's, from ``gather_facts``, if the caller has them already
    (then ``project_ids`` is not read). Safe to run twice at once: the open-alert key keeps
    one per (rule, subject)."""
    ensure_default_rules(session)
    rules = [(row, rule) for row, rule in _rules(session) if rule.kind.value not in SENSOR_KINDS]
    by_code = {rule.code: row for row, rule in rules}
    cooldowns = {rule.code: rule.cooldown_minutes for _, rule in rules}
    longest = max(cooldowns.values(), default=0)
    if facts is None:
        facts = gather_facts(session, period=period_of(today), today=today, project_ids=project_ids)
    existing = _existing(session, list(facts), since=now - dt.timedelta(minutes=longest))
    rule_ids = {code: row.id for code, row in by_code.items()}
    created = updated = resolved = 0
    for pid, (source, project_facts) in facts.items():
        kpis = compute_kpis(project_facts)
        candidates = evaluate_rules(
            [rule for _, rule in rules], project_path=source.path, facts=project_facts, kpis=kpis
        )
        plan = reconcile(candidates, existing.get(pid, []), now=now, cooldown_minutes=cooldowns)
        written = apply_alert_plan(session, plan, project_id=pid, rule_ids=rule_ids, now=now)
        created += written[0]
        updated += written[1]
        resolved += written[2]
    try:
        session.commit()
    except IntegrityError:
        # Another evaluation raised the same alert a moment ago: its result stands.
        session.rollback()
        return EvaluationReport(len(facts), 0, 0, 0)
    return EvaluationReport(len(facts), created, updated, resolved)


def apply_alert_plan(
    session: Session, plan: AlertPlan, *, project_id: int, rule_ids: Mapping[str, int], now: dt.datetime
) -> tuple[int, int, int]:
    """Write what ``reconcile`` planned for one project's alerts: new ones opened, changed
    ones updated (an acknowledged one that got worse is open again), ended ones resolved;
    messages in zh and en. ``rule_ids``: rule code → rule row id. Returns (created, updated,
    resolved); the caller commits (and catches the ``IntegrityError`` of a concurrent
    duplicate)."""
    for candidate in plan.create:
        rule_id = rule_ids[candidate.rule_code]
        session.add(
            AlertRow(
                rule_id=rule_id,
                project_id=project_id,
                subject_type=candidate.subject_type,
                subject_key=candidate.subject_key[:200],
                level=candidate.level.value,
                value=candidate.value,
                facts_json=_facts_json(candidate.facts),
                message_zh=alert_text(candidate, "zh"),
                message_en=alert_text(candidate, "en"),
                status="open",
                open_key=_open_key(rule_id, project_id, candidate.subject_key),
                opened_at=now,
                updated_at=now,
            )
        )
    escalated = set(plan.escalated)
    for alert_id, candidate in plan.update:
        row = session.get(AlertRow, alert_id)
        if alert_id in escalated and row.status == "acknowledged":
            row.status = "open"  # worse than when it was acknowledged: it needs eyes again
        row.level = candidate.level.value
        row.value = candidate.value
        row.facts_json = _facts_json(candidate.facts)
        row.message_zh = alert_text(candidate, "zh")
        row.message_en = alert_text(candidate, "en")
        row.updated_at = now
    for alert_id in plan.resolve:
        row = session.get(AlertRow, alert_id)
        row.status = "resolved"
        row.open_key = None
        row.resolved_at = row.updated_at = now
        row.resolution = "the condition no longer holds"
    return len(plan.create), len(plan.update), len(plan.resolve)


def _facts_json(facts: Mapping[str, object]) -> str:
    return json.dumps(dict(facts), ensure_ascii=False, sort_keys=True, default=str)


def _open_key(rule_id: int, project_id: int, subject_key: str) -> str:
    return f"{rule_id}:{project_id}:{subject_key}"[:300]


def _existing(
    session: Session, project_ids: Sequence[int], *, since: dt.datetime
) -> dict[int, list[OpenAlert]]:
    """Open and acknowledged alerts, and those resolved recently enough to hold a cooldown."""
    out: dict[int, list[OpenAlert]] = {}
    for row, code in session.execute(
        select(AlertRow, AlertRuleRow.code)
        .join(AlertRuleRow, AlertRuleRow.id == AlertRow.rule_id)
        .where(
            AlertRow.project_id.in_(list(project_ids)),
            AlertRuleRow.kind.not_in(SENSOR_KINDS),
            or_(AlertRow.status.in_(LIVE), AlertRow.resolved_at >= since),
        )
        .order_by(AlertRow.id)
    ):
        out.setdefault(row.project_id, []).append(
            OpenAlert(
                id=row.id,
                rule_code=code,
                subject_key=row.subject_key,
                status=row.status,
                level=Light(row.level),
                value=row.value,
                resolved_at=_utc(row.resolved_at),
            )
        )
    return out


def claim_periodic_run(session: Session, *, name: str, now: dt.datetime, every_s: float) -> bool:
    """True if this process should run the periodic job ``name`` now: its last start is
    older than ``every_s`` (a compare-and-set, so of several processes one wins)."""
    row = session.get(JobRunRow, name)
    if row is None:
        session.add(JobRunRow(name=name, last_run_at=now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
        return True
    last = _utc(row.last_run_at)
    if now - last < dt.timedelta(seconds=every_s * 0.9):
        return False
    updated = session.execute(
        JobRunRow.__table__.update()
        .where(JobRunRow.name == name, JobRunRow.last_run_at == row.last_run_at)
        .values(last_run_at=now)
    )
    session.commit()
    return updated.rowcount == 1


def evaluate_projects(
    sessions: Callable[[], Session],
    project_ids: list[int] | None,
    *,
    every_s: float,
    policy: HealthPolicy = DEFAULT_HEALTH_POLICY,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    sensor_retention_days: float | None = None,
    sensor_aggregate_retention_days: float | None = None,
) -> None:
    """The evaluation job. For given projects (after a change): this month's KPIs and their
    alerts. For all (``None``, the periodic round, run by one process per round): this and
    last month's KPIs (a month that has ended is frozen), every project's alerts, the
    sensor devices gone silent (``services.sensors.evaluate_offline``) and, when the two
    retentions (days) are given, sensor readings and aggregates past them pruned."""
    now = now or dt.datetime.now(dt.UTC)
    today = today or dt.date.today()
    current = period_of(today)
    with sessions() as session:
        if project_ids is None:
            if not claim_periodic_run(session, name="evaluate_projects", now=now, every_s=every_s):
                return
            # Last month first: completed and frozen once it has ended (a no-op once frozen).
            recompute_kpis(session, today=today, periods=[previous_period(current)], policy=policy)
        # This month's facts serve both the KPIs and the rules: gathered once.
        facts = gather_facts(session, period=current, today=today, project_ids=project_ids)
        store_kpis(session, period=current, facts=facts, today=today, policy=policy)
        session.commit()
        evaluate_alerts(session, today=today, now=now, facts=facts)
        if project_ids is None:
            # Imported here: services.sensors writes its alerts through this module.
            from . import sensors

            sensors.evaluate_offline(session, now=now)
            if sensor_retention_days is not None and sensor_aggregate_retention_days is not None:
                sensors.prune_readings(
                    session,
                    now=now,
                    retention_days=sensor_retention_days,
                    aggregate_retention_days=sensor_aggregate_retention_days,
                )


# --------------------------------------------------------------------------- the feed


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: int
    project_id: int
    project_code: str
    project_name: str
    rule_code: str
    kind: str
    subject_type: str
    subject_key: str
    level: str
    value: float | None
    facts: dict
    message_zh: str
    message_en: str
    status: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution: str | None


def list_alerts(
    session: Session,
    *,
    scope_path: str,
    statuses: Sequence[str] = LIVE,
    levels: Sequence[str] = (),
    project_id: int | None = None,
    limit: int = 200,
) -> list[AlertRecord]:
    """Alerts of the projects in ``scope_path``'s subtree, the worst and newest first."""
    query = _alert_query().where(OrgNodeRow.path.startswith(scope_path))
    if statuses:
        query = query.where(AlertRow.status.in_(list(statuses)))
    if levels:
        query = query.where(AlertRow.level.in_(list(levels)))
    if project_id is not None:
        query = query.where(AlertRow.project_id == project_id)
    return _records(
        session,
        query.order_by(
            (AlertRow.level == "red").desc(), AlertRow.updated_at.desc(), AlertRow.id.desc()
        ).limit(limit),
    )


def _alert_query():
    return (
        select(AlertRow, AlertRuleRow.code, AlertRuleRow.kind, OrgNodeRow.code, OrgNodeRow.name)
        .join(AlertRuleRow, AlertRuleRow.id == AlertRow.rule_id)
        .join(OrgNodeRow, OrgNodeRow.id == AlertRow.project_id)
    )


def _records(session: Session, query) -> list[AlertRecord]:
    rows = session.execute(query).all()
    user_ids = {r[0].acknowledged_by_id for r in rows} | {r[0].resolved_by_id for r in rows}
    names = {
        uid: display or name
        for uid, display, name in session.execute(
            select(UserRow.id, UserRow.display_name, UserRow.username).where(
                UserRow.id.in_(user_ids - {None})
            )
        )
    }
    return [_record(row, code, kind, pcode, pname, names) for row, code, kind, pcode, pname in rows]


def _record(
    row: AlertRow, code: str, kind: str, pcode: str, pname: str, names: Mapping[int, str]
) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        project_id=row.project_id,
        project_code=pcode,
        project_name=pname,
        rule_code=code,
        kind=kind,
        subject_type=row.subject_type,
        subject_key=row.subject_key,
        level=row.level,
        value=row.value,
        facts=json.loads(row.facts_json),
        message_zh=row.message_zh,
        message_en=row.message_en,
        status=row.status,
        opened_at=_utc(row.opened_at),
        updated_at=_utc(row.updated_at),
        acknowledged_at=_utc(row.acknowledged_at),
        acknowledged_by=names.get(row.acknowledged_by_id),
        resolved_at=_utc(row.resolved_at),
        resolved_by=names.get(row.resolved_by_id) if row.resolved_by_id else None,
        resolution=row.resolution,
    )


def _alert(session: Session, project_id: int, alert_id: int) -> AlertRow:
    row = session.scalar(select(AlertRow).where(AlertRow.id == alert_id, AlertRow.project_id == project_id))
    if row is None:
        raise NotFound(f"no alert {alert_id} in this project")
    return row


def _one(session: Session, alert_id: int) -> AlertRecord:
    return _records(session, _alert_query().where(AlertRow.id == alert_id))[0]


def acknowledge_alert(
    session: Session, *, project_id: int, alert_id: int, user_id: int, now: dt.datetime
) -> AlertRecord:
    """Someone has seen it and is on it; it stays until its condition ends or it is resolved."""
    row = _alert(session, project_id, alert_id)
    if row.status == "resolved":
        raise Conflict("the alert is resolved already", code="alert_resolved")
    if row.status == "open":
        row.status = "acknowledged"
        row.acknowledged_at = row.updated_at = now
        row.acknowledged_by_id = user_id
        session.commit()
    return _one(session, alert_id)


def resolve_alert(
    session: Session, *, project_id: int, alert_id: int, user_id: int, note: str | None, now: dt.datetime
) -> AlertRecord:
    """Close the alert by hand (what was done goes in ``note``). If its condition still holds,
    the next evaluation after the rule's cooldown raises it again."""
    row = _alert(session, project_id, alert_id)
    if row.status == "resolved":
        raise Conflict("the alert is resolved already", code="alert_resolved")
    row.status = "resolved"
    row.open_key = None
    row.resolved_at = row.updated_at = now
    row.resolved_by_id = user_id
    row.resolution = note or "resolved"
    session.commit()
    return _one(session, alert_id)
