"""Alert rules as data, their evaluation over a project's facts, and the reconciliation of
what the rules find with the alerts already stored (domain.md §3.6, §3.8; scenarios 4, 7, 10).

Pure: no I/O and no clock; ``now`` and the facts' ``as_of`` are arguments. The flow, for one
project at a time (on a relevant change, and from the periodic job)::

    rules ──evaluate_rules(project_path, facts, kpis)──► candidates
    candidates + the project's stored alerts ──reconcile(now, cooldowns)──► AlertPlan
                                                         (create / update / resolve)

An alert is identified by ``(rule_code, subject_key)``: at most one is open (open or
acknowledged) per pair. Thresholds live in the rules' ``params``, never in code; the
defaults below are domain.md's first version.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import InvalidInput
from .issues import IssueKind, Severity, Status
from .kpis import Light, ProjectFacts, iso_week, rework_by_zone_week, rework_rising

__all__ = [
    "DEFAULT_RULES",
    "LIVE_ALERT_STATUSES",
    "MAX_REWORK_WEEKS",
    "RULE_PARAMS",
    "AlertCandidate",
    "AlertPlan",
    "AlertRule",
    "AlertStatus",
    "OpenAlert",
    "RuleKind",
    "alert_text",
    "evaluate_rules",
    "reconcile",
    "rule_applies",
]


class RuleKind(StrEnum):
    TASK_DELAY = "task_delay"
    MILESTONE_DELAY = "milestone_delay"
    SPI = "spi"
    MAJOR_HAZARD_OVERDUE = "major_hazard_overdue"
    REWORK_RISING = "rework_rising"
    # Sensor alerts (domain.sensors): raised per reading batch by services.sensors, never
    # from a project's facts; a rule of these kinds only says whether, and for which scope.
    SENSOR_THRESHOLD = "sensor_threshold"
    SENSOR_OFFLINE = "sensor_offline"


#: The parameters each kind reads (all numbers): the rule is refused without them. SPI needs
#: at least one of its two tiers.
RULE_PARAMS: Mapping[RuleKind, tuple[str, ...]] = {
    RuleKind.TASK_DELAY: ("over_days",),  # days: fires when delay_days > over_days
    RuleKind.MILESTONE_DELAY: ("from_days",),  # days: fires when a milestone's delay_days ≥ from_days
    RuleKind.SPI: ("red_below", "yellow_below"),  # SPI: RED when spi < red_below, else YELLOW < yellow_below
    RuleKind.MAJOR_HAZARD_OVERDUE: (),
    RuleKind.REWORK_RISING: ("min_lots", "weeks"),  # accepted lots per week; length of the rising run
    # The thresholds and persistence live on each monitor point, the heartbeat on each device.
    RuleKind.SENSOR_THRESHOLD: (),
    RuleKind.SENSOR_OFFLINE: (),
}


#: The longest rising run a rework rule may look for (ISO weeks): callers need not gather
#: inspection lots older than this before the day evaluated.
MAX_REWORK_WEEKS = 12


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One rule. ``scope_path`` is ``"/"`` (every project) or an organisation path prefix
    (materialised ``/id/id/`` paths: ``"/1/4/"`` a region, ``"/1/4/17/"`` one project).
    ``level`` is what the rule raises (SPI takes its two tiers from ``params`` instead).
    ``cooldown_minutes``: after an alert of this rule is resolved, the same subject is not
    alerted again for this long (a value flapping around a threshold raises one alert, not
    one per evaluation; a user who resolves an alert whose cause persists mutes it that long).
    """

    code: str
    kind: RuleKind
    scope_path: str
    params: Mapping[str, float] = field(hash=False)
    level: Light
    cooldown_minutes: int
    enabled: bool = True

    def __post_init__(self) -> None:
        # Rules arrive from the API and the database: coerce the enums, refuse what cannot run.
        object.__setattr__(self, "kind", RuleKind(self.kind))
        object.__setattr__(self, "level", Light(self.level))
        object.__setattr__(self, "params", dict(self.params))
        if not self.code:
            raise InvalidInput("an alert rule needs a code")
        if not _is_path(self.scope_path):
            raise InvalidInput(f"scope '{self.scope_path}' is not '/' or an organisation path like '/1/4/'")
        if self.cooldown_minutes < 0:
            raise InvalidInput("a cooldown cannot be negative")
        needed = RULE_PARAMS[self.kind]
        present = [name for name in needed if isinstance(self.params.get(name), int | float)]
        if (self.kind is RuleKind.SPI and not present) or (
            self.kind is not RuleKind.SPI and len(present) < len(needed)
        ):
            raise InvalidInput(f"a {self.kind.value} rule needs the parameters {', '.join(needed)}")
        if self.kind is RuleKind.REWORK_RISING and not (
            2 <= self.params["weeks"] <= MAX_REWORK_WEEKS and self.params["min_lots"] >= 1
        ):
            raise InvalidInput(
                f"a rework_rising rule looks at 2 to {MAX_REWORK_WEEKS} weeks, with min_lots at least 1"
            )


def _is_path(path: str) -> bool:
    return path == "/" or (
        path.startswith("/") and path.endswith("/") and all(p.isdigit() for p in path[1:-1].split("/"))
    )


#: A day (minutes): the periodic job runs at least daily, so a condition that clears and
#: returns within a day (a forecast nudged back and forth) stays one alert.
_DAY_MINUTES = 24 * 60

#: domain.md §3.8, first version. Scoped to every project ("/"); a region or project
#: overrides a kind with its own rule (see ``evaluate_rules``).
DEFAULT_RULES: tuple[AlertRule, ...] = (
    # A task more than 5 days late (scenario 4: baseline D, forecast D+6 → RED).
    AlertRule("task_delay", RuleKind.TASK_DELAY, "/", {"over_days": 5}, Light.RED, _DAY_MINUTES),
    # A milestone a day late: milestones are stricter than tasks.
    AlertRule("milestone_delay", RuleKind.MILESTONE_DELAY, "/", {"from_days": 1}, Light.YELLOW, _DAY_MINUTES),
    # Project SPI: RED below 0.90, YELLOW below 0.95 (GREEN ≥ 0.95).
    AlertRule("spi", RuleKind.SPI, "/", {"red_below": 0.90, "yellow_below": 0.95}, Light.RED, _DAY_MINUTES),
    # A 重大隐患 past its rectification deadline while the ball is with the assignee (scenario 7).
    AlertRule("major_hazard_overdue", RuleKind.MAJOR_HAZARD_OVERDUE, "/", {}, Light.RED, _DAY_MINUTES),
    # Rework rate rising two weeks in a row (three weeks r1 < r2 < r3), each week with ≥ 5
    # accepted lots: a prediction, so YELLOW (scenario 10).
    AlertRule(
        "rework_rising", RuleKind.REWORK_RISING, "/", {"min_lots": 5, "weeks": 3}, Light.YELLOW, _DAY_MINUTES
    ),
    # A monitor point's tier in force (scenario 15): the level follows the tier (预警 YELLOW,
    # 报警 and 控制 RED), not the rule. The persistence window is the debounce, so a tier that
    # ended by itself fires again at the next persisted breach; the cooldown only holds off
    # an alert a person resolved by hand while its tier still held, and never a higher tier.
    AlertRule("sensor_threshold", RuleKind.SENSOR_THRESHOLD, "/", {}, Light.RED, _DAY_MINUTES),
    # A device silent past its heartbeat timeout (domain.md §1.5: its own alert type).
    AlertRule("sensor_offline", RuleKind.SENSOR_OFFLINE, "/", {}, Light.YELLOW, _DAY_MINUTES),
)


@dataclass(frozen=True, slots=True)
class AlertCandidate:
    """What a rule finds now about one subject. ``subject_type``: ``"task"``, ``"milestone"``,
    ``"project"``, ``"issue"`` or ``"zone"``; ``subject_key`` is stable across evaluations
    (task key, issue number, zone name, ``"project"``). ``facts`` holds JSON-able plain values
    (str, int, float, bool, None, lists) — what the message needs; store it with the alert
    and ``alert_text((kind, facts), lang)`` rebuilds the text in either language."""

    rule_code: str
    kind: RuleKind
    subject_type: str
    subject_key: str
    level: Light
    value: float | None
    facts: Mapping[str, object] = field(hash=False)


def rule_applies(rule: AlertRule, project_path: str) -> bool:
    """Whether ``rule`` is enabled and its scope contains the project at ``project_path``
    (a prefix test on materialised paths: ``/1/4/`` contains ``/1/4/17/``, not ``/1/40/``)."""
    return rule.enabled and project_path.startswith(rule.scope_path)


def evaluate_rules(
    rules: Iterable[AlertRule],
    *,
    project_path: str,
    facts: ProjectFacts,
    kpis: Mapping[str, float | None],
) -> list[AlertCandidate]:
    """Every alert the rules raise for one project now, sorted by (rule code, subject key).

    Which rules: the enabled ones whose scope contains the project; of those, per kind, only
    the ones with the most specific (longest) scope — a region's own SPI rule replaces HQ's
    for that region's projects, and a project's replaces its region's. Several rules of one
    kind at the same scope all run (e.g. a YELLOW and a RED tier as two rules). A disabled
    rule is ignored, so disabling an override falls back to the wider rule.

    What each kind finds, on ``facts.as_of``:

    * ``task_delay``: every unfinished leaf task (milestones included) with
      ``delay_days > over_days``. A finished task's slip stays in the KPIs, but an alert is
      for what can still be acted on: it resolves when the task finishes.
    * ``milestone_delay``: every unfinished milestone with ``delay_days ≥ from_days``. (A
      milestone 6 days late is then alerted by both rules, as two alerts: each rule's alerts
      live and resolve on their own.)
    * ``spi``: the project's SPI (``kpis["spi"]``, else ``facts.spi``): RED when below
      ``red_below``, else YELLOW when below ``yellow_below``; nothing when it is ``None``.
      One alert for the project: crossing from YELLOW to RED updates it.
    * ``major_hazard_overdue``: every major safety hazard with status OPEN and
      ``due_date < as_of`` (``domain.issues.is_overdue``: a hazard waiting for
      re-inspection has its ball with the verifier and is not overdue). Value: days overdue.
    * ``rework_rising``: per zone, a rising run (``kpis.rework_rising`` over the lots
      inspected by ``as_of``) that ends in ``as_of``'s ISO week — or in the week before, while
      ``as_of``'s week has fewer than ``min_lots`` accepted lots (the current week is still
      filling: a half-week does not clear a trend, a counted week that breaks it does).
      Value: the latest week's rate.
    * ``sensor_threshold``, ``sensor_offline``: nothing here. They are judged from readings
      and heartbeats (``domain.sensors.point_alert_candidates``, per reading batch and in
      the periodic round), not from the facts.
    """
    if not _is_path(project_path):
        raise InvalidInput(f"'{project_path}' is not an organisation path like '/1/4/17/'")
    applicable = [rule for rule in rules if rule_applies(rule, project_path)]
    codes = [rule.code for rule in applicable]
    if len(set(codes)) != len(codes):
        raise ValueError("two alert rules share a code")
    deepest: dict[RuleKind, int] = {}
    for rule in applicable:
        deepest[rule.kind] = max(deepest.get(rule.kind, 0), len(rule.scope_path))
    candidates: list[AlertCandidate] = []
    for rule in sorted(applicable, key=lambda r: r.code):
        if len(rule.scope_path) == deepest[rule.kind]:
            candidates.extend(_EVALUATORS[rule.kind](rule, facts, kpis))
    return sorted(candidates, key=lambda c: (c.rule_code, c.subject_key))


def _task_delay(
    rule: AlertRule, facts: ProjectFacts, kpis: Mapping[str, float | None]
) -> list[AlertCandidate]:
    over = float(rule.params["over_days"])
    return [
        AlertCandidate(
            rule.code,
            rule.kind,
            "milestone" if task.is_milestone else "task",
            task.key,
            rule.level,
            task.delay_days,
            {
                "task_key": task.key,
                "task_name": task.name,
                "wbs_code": task.wbs_code,
                "is_milestone": task.is_milestone,
                "is_critical": task.is_critical,
                "delay_days": task.delay_days,
                "over_days": over,
            },
        )
        for task in facts.tasks
        if not task.finished and task.delay_days > over
    ]


def _milestone_delay(
    rule: AlertRule, facts: ProjectFacts, kpis: Mapping[str, float | None]
) -> list[AlertCandidate]:
    from_days = float(rule.params["from_days"])
    return [
        AlertCandidate(
            rule.code,
            rule.kind,
            "milestone",
            task.key,
            rule.level,
            task.delay_days,
            {
                "task_key": task.key,
                "task_name": task.name,
                "wbs_code": task.wbs_code,
                "is_milestone": True,
                "delay_days": task.delay_days,
                "from_days": from_days,
            },
        )
        for task in facts.tasks
        if task.is_milestone and not task.finished and task.delay_days >= from_days
    ]


def _spi(rule: AlertRule, facts: ProjectFacts, kpis: Mapping[str, float | None]) -> list[AlertCandidate]:
    spi = kpis.get("spi", facts.spi)
    if spi is None:
        return []
    red, yellow = rule.params.get("red_below"), rule.params.get("yellow_below")
    if red is not None and spi < red:
        level, threshold = Light.RED, red
    elif yellow is not None and spi < yellow:
        level, threshold = Light.YELLOW, yellow
    else:
        return []
    return [
        AlertCandidate(
            rule.code,
            rule.kind,
            "project",
            "project",
            level,
            spi,
            {"spi": spi, "threshold": float(threshold), "as_of": facts.as_of.isoformat()},
        )
    ]


def _major_hazard_overdue(
    rule: AlertRule, facts: ProjectFacts, kpis: Mapping[str, float | None]
) -> list[AlertCandidate]:
    found = []
    for issue in facts.issues:
        if (
            issue.kind == IssueKind.SAFETY
            and issue.severity in (Severity.MAJOR, Severity.CRITICAL)
            and issue.status == Status.OPEN
            and issue.due_date is not None
            and issue.due_date < facts.as_of
        ):
            days = float((facts.as_of - issue.due_date).days)
            found.append(
                AlertCandidate(
                    rule.code,
                    rule.kind,
                    "issue",
                    str(issue.number),
                    rule.level,
                    days,
                    {
                        "issue_number": issue.number,
                        "title": issue.title,
                        "due_date": issue.due_date.isoformat(),
                        "days_overdue": days,
                        "zone": issue.zone,
                        "category": issue.category,
                    },
                )
            )
    return found


def _rework_rising(
    rule: AlertRule, facts: ProjectFacts, kpis: Mapping[str, float | None]
) -> list[AlertCandidate]:
    min_lots, weeks = int(rule.params["min_lots"]), int(rule.params["weeks"])
    cells = rework_by_zone_week(lot for lot in facts.lots if lot.inspected_on <= facts.as_of)
    this_week = iso_week(facts.as_of)
    last_week = iso_week(facts.as_of - dt.timedelta(days=7))
    found = []
    for trend in rework_rising(cells, min_lots=min_lots, weeks=weeks):
        current = cells.get((trend.zone, this_week))
        still_filling = current is None or current.accepted < min_lots
        if trend.weeks[-1] == this_week or (trend.weeks[-1] == last_week and still_filling):
            found.append(
                AlertCandidate(
                    rule.code,
                    rule.kind,
                    "zone",
                    trend.zone,
                    rule.level,
                    trend.rates[-1],
                    {
                        "zone": trend.zone,
                        "weeks": list(trend.weeks),
                        "rates": list(trend.rates),
                        "lots": list(trend.lots),
                        "trades": list(trend.trades),
                    },
                )
            )
    return found


def _from_readings(
    rule: AlertRule, facts: ProjectFacts, kpis: Mapping[str, float | None]
) -> list[AlertCandidate]:
    return []


_EVALUATORS = {
    RuleKind.TASK_DELAY: _task_delay,
    RuleKind.MILESTONE_DELAY: _milestone_delay,
    RuleKind.SPI: _spi,
    RuleKind.MAJOR_HAZARD_OVERDUE: _major_hazard_overdue,
    RuleKind.REWORK_RISING: _rework_rising,
    RuleKind.SENSOR_THRESHOLD: _from_readings,
    RuleKind.SENSOR_OFFLINE: _from_readings,
}


# --- reconciliation with the stored alerts --------------------------------------------------


class AlertStatus(StrEnum):
    """domain.md §3.6: OPEN → ACKNOWLEDGED → RESOLVED."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


#: Statuses in which an alert is still "the" alert of its (rule, subject).
LIVE_ALERT_STATUSES = frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED})


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """A stored alert of the project, as reconcile needs it (pass the live ones and at least
    those resolved within the longest cooldown)."""

    id: int
    rule_code: str
    subject_key: str
    status: str  # AlertStatus values
    level: Light
    value: float | None
    resolved_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """What to write. ``create``: new alerts (by rule code, subject key); ``update``: ``(id,
    candidate)`` for live alerts whose level or value changed (by id); ``resolve``: ids of live
    alerts whose condition is gone (sorted). ``escalated`` (added to the contract): the
    updated ids whose level got worse — a service may reopen an acknowledged one and notify
    again."""

    create: tuple[AlertCandidate, ...]
    update: tuple[tuple[int, AlertCandidate], ...]
    resolve: tuple[int, ...]
    escalated: tuple[int, ...] = ()


def reconcile(
    candidates: Iterable[AlertCandidate],
    existing: Iterable[OpenAlert],
    *,
    now: dt.datetime,
    cooldown_minutes: Mapping[str, int],
) -> AlertPlan:
    """Turn what the rules find now into writes, keeping one live alert per (rule, subject).

    * A candidate whose (rule, subject) has a live alert (open or acknowledged) updates it
      only if its level or value changed; YELLOW → RED is an update of the same alert.
    * A live alert no candidate matches any more is resolved (its condition is gone).
    * A candidate with no live alert is created — unless an alert of the same (rule, subject)
      was resolved less than ``cooldown_minutes[rule_code]`` ago (a rule missing from the
      mapping has no cooldown). Older resolutions do not block.
    * Two candidates for one (rule, subject) (not something ``evaluate_rules`` produces):
      the worse level is kept. Two live alerts for one pair (a broken invariant): the oldest
      (smallest id) is kept and the others resolved.

    ``now`` and the stored ``resolved_at`` must both be aware (or both naive) datetimes.
    """
    wanted: dict[tuple[str, str], AlertCandidate] = {}
    for candidate in candidates:
        key = (candidate.rule_code, candidate.subject_key)
        if key not in wanted or Light(candidate.level).rank > Light(wanted[key].level).rank:
            wanted[key] = candidate
    live: dict[tuple[str, str], OpenAlert] = {}
    duplicates: list[int] = []
    resolved_at: dict[tuple[str, str], dt.datetime] = {}
    for alert in sorted(existing, key=lambda a: a.id):
        key = (alert.rule_code, alert.subject_key)
        if alert.status in LIVE_ALERT_STATUSES:
            if key in live:
                duplicates.append(alert.id)
            else:
                live[key] = alert
        elif alert.resolved_at is not None and (
            key not in resolved_at or alert.resolved_at > resolved_at[key]
        ):
            resolved_at[key] = alert.resolved_at
    create, update, escalated = [], [], []
    for key in sorted(wanted):
        candidate = wanted[key]
        alert = live.get(key)
        if alert is not None:
            if Light(alert.level) is not Light(candidate.level) or not _same(alert.value, candidate.value):
                update.append((alert.id, candidate))
                if Light(candidate.level).rank > Light(alert.level).rank:
                    escalated.append(alert.id)
            continue
        cooldown = dt.timedelta(minutes=cooldown_minutes.get(candidate.rule_code, 0))
        if key in resolved_at and now - resolved_at[key] < cooldown:
            continue
        create.append(candidate)
    resolve = [alert.id for key, alert in live.items() if key not in wanted] + duplicates
    return AlertPlan(
        create=tuple(create),
        update=tuple(sorted(update, key=lambda item: item[0])),
        resolve=tuple(sorted(resolve)),
        escalated=tuple(sorted(escalated)),
    )


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    # Stored values come back through the database's floats: equal within a billionth.
    return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-9)


# --- messages -----------------------------------------------------------------------------
# The one-line message lives here, in both languages, because it is part of the rule's
# verdict rather than of a page: the API serves it to clients with no UI tables of their own
# (the phone notification of scenario 4, webhooks, the feed's JSON), and the dashboard shows
# the same sentence. It is rebuilt from the stored facts, so changing a wording changes old
# alerts too and nothing has to be migrated.


def alert_text(alert: AlertCandidate | tuple[RuleKind | str, Mapping[str, object]], lang: str = "zh") -> str:
    """One line for the feed and the API, in ``lang`` ``"zh"`` or ``"en"`` (``"zh-CN"``,
    ``"en-GB"`` … accepted), naming the subject and the numbers that matter, e.g.
    ``任务「F5 楼板浇筑」滞后 6 天（超过 5 天）`` / ``Task 'F5 slab pour' is 6 days late (over 5)``.
    ``alert`` is a candidate or ``(kind, facts)`` as stored. The project's name is not in the
    facts: the caller prefixes it where the reader cannot tell. Sensor alerts are worded by
    ``domain.sensors.sensor_alert_text``."""
    kind, f = (alert.kind, alert.facts) if isinstance(alert, AlertCandidate) else alert
    kind = RuleKind(kind)
    zh = _language(lang) == "zh"
    if kind in (RuleKind.SENSOR_THRESHOLD, RuleKind.SENSOR_OFFLINE):
        from .sensors import sensor_alert_text  # domain.sensors builds on this module

        return sensor_alert_text((kind.value, f), lang)
    if kind in (RuleKind.TASK_DELAY, RuleKind.MILESTONE_DELAY):
        name, days = f["task_name"], _num(f["delay_days"])
        milestone = bool(f.get("is_milestone"))
        if kind is RuleKind.TASK_DELAY:
            over = _num(f["over_days"])
            if zh:
                return f"{'里程碑' if milestone else '任务'}「{name}」滞后 {days} 天（超过 {over} 天）"
            return f"{'Milestone' if milestone else 'Task'} '{name}' is {_days(days)} late (over {over})"
        threshold = _num(f["from_days"])
        if zh:
            return f"里程碑「{name}」滞后 {days} 天（预警线 {threshold} 天）"
        return f"Milestone '{name}' is {_days(days)} late (threshold {_days(threshold)})"
    if kind is RuleKind.SPI:
        spi, threshold = _index(f["spi"]), _index(f["threshold"])
        if zh:
            return f"项目进度绩效指数 SPI {spi}，低于 {threshold}"
        return f"Project SPI is {spi}, below {threshold}"
    if kind is RuleKind.MAJOR_HAZARD_OVERDUE:
        number, days, due = f["issue_number"], _num(f["days_overdue"]), f["due_date"]
        title = f.get("title") or ""
        if zh:
            named = f"「{title}」" if title else ""
            return f"重大隐患 #{number}{named}逾期 {days} 天未整改（整改期限 {due}）"
        named = f" '{title}'" if title else ""
        return f"Major hazard #{number}{named} is {_days(days)} overdue (due {due})"
    # REWORK_RISING
    rates = " → ".join(_percent(r) for r in f["rates"])
    rises = len(f["rates"]) - 1
    trades = list(f.get("trades") or [])
    if zh:
        run = "两" if rises == 2 else str(rises)
        involved = f"，涉及 {'、'.join(trades)}" if trades else ""
        return f"风险预警：{f['zone']} 返工率连续{run}周上升（{rates}）{involved}"
    run = "two" if rises == 2 else str(rises)
    involved = f", trades: {', '.join(trades)}" if trades else ""
    return f"Risk predicted: rework rate in {f['zone']} rose {run} weeks in a row ({rates}){involved}"


def _language(lang: str) -> str:
    base = lang.split("-")[0].split("_")[0].lower()
    if base not in ("zh", "en"):
        raise ValueError(f"no alert texts in '{lang}' (zh, en)")
    return base


def _num(value: float, digits: int = 1) -> str:
    """``6.0`` → ``"6"``, ``5.25`` → ``"5.3"`` (``digits`` decimals at most, no trailing zeros)."""
    text = f"{float(value):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _index(value: float) -> str:
    """An SPI as people write it: two decimals, a third when it matters (0.90, 0.899)."""
    text = f"{float(value):.3f}"
    return text[:-1] if text.endswith("0") else text


def _days(text: str) -> str:
    return f"{text} day" if text == "1" else f"{text} days"


def _percent(rate: float) -> str:
    return f"{_num(rate * 100)}%"
