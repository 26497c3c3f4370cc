"""Alert rules, table-driven: every default rule at its boundaries, scope and specificity,
and the reconciliation with stored alerts (de-duplication, escalation, resolution, cooldown)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

from twin_server.domain.alerts import (
    DEFAULT_RULES,
    AlertCandidate,
    AlertPlan,
    AlertRule,
    OpenAlert,
    RuleKind,
    alert_text,
    evaluate_rules,
    reconcile,
    rule_applies,
)
from twin_server.domain.errors import InvalidInput
from twin_server.domain.kpis import IssueFact, Light, LotFact, ProjectFacts, TaskFact, compute_kpis

D = dt.date
AS_OF = D(2025, 6, 11)  # a Wednesday in 2025-W24
YESTERDAY, TOMORROW = AS_OF - dt.timedelta(days=1), AS_OF + dt.timedelta(days=1)
PATH = "/1/4/17/"
NOW = dt.datetime(2025, 6, 11, 9, 0, tzinfo=dt.UTC)
COOLDOWNS = {rule.code: rule.cooldown_minutes for rule in DEFAULT_RULES}


def task(key="T1", delay=0.0, *, milestone=False, finished=False, name="F5 楼板浇筑") -> TaskFact:
    return TaskFact(key, name, "1.5.2", milestone, False, delay, None, finished)


def hazard(number=1, *, severity="major", status="open", due=YESTERDAY) -> IssueFact:
    return IssueFact(
        number=number,
        kind="safety",
        severity=severity,
        status=status,
        created_on=D(2025, 6, 1),
        closed_on=None,
        due_date=due,
        zone="A区",
        category="临边防护",
        reopened_count=0,
        title="临边防护缺失",
    )


def week_lots(zone: str, week: int, accepted: int, reworked: int, trade="钢筋") -> list[LotFact]:
    monday = D.fromisocalendar(2025, week, 1)
    return [
        LotFact(f"{zone}-{week}-{i}", zone, trade, monday, 2 if i < reworked else 1, True)
        for i in range(accepted)
    ]


# 4% → 6% → 9% in W22, W23, W24 (AS_OF's week)
RISING = (*week_lots("A区", 22, 25, 1), *week_lots("A区", 23, 50, 3, "模板"), *week_lots("A区", 24, 100, 9))


def facts(**fields) -> ProjectFacts:
    base = {"project_id": 17, "period_start": D(2025, 6, 1), "period_end": D(2025, 6, 30), "as_of": AS_OF}
    return ProjectFacts(**{**base, "spi": 1.0, **fields})


def evaluate(rules=DEFAULT_RULES, path=PATH, **fields) -> list[AlertCandidate]:
    f = facts(**fields)
    return evaluate_rules(rules, project_path=path, facts=f, kpis=compute_kpis(f))


def found(candidates) -> list[tuple[str, str, str, Light, float | None]]:
    return [(c.rule_code, c.subject_type, c.subject_key, c.level, c.value) for c in candidates]


# (situation, facts fields, [(rule, subject type, subject key, level, value)])
RULE_CASES = [
    ("nothing wrong", {}, []),
    ("task delay 5.0: no alert", dict(tasks=(task(delay=5.0),)), []),
    ("task delay 5.1: RED", dict(tasks=(task(delay=5.1),)), [("task_delay", "task", "T1", Light.RED, 5.1)]),
    ("a finished task raises nothing", dict(tasks=(task(delay=9, finished=True),)), []),
    ("milestone delay 0.9: no alert", dict(tasks=(task("M1", 0.9, milestone=True),)), []),
    (
        "milestone delay 1.0: YELLOW",
        dict(tasks=(task("M1", 1.0, milestone=True),)),
        [("milestone_delay", "milestone", "M1", Light.YELLOW, 1.0)],
    ),
    (
        "scenario 4: a milestone forecast 6 days late is RED (and still late as a milestone)",
        dict(tasks=(task("M1", 6, milestone=True), task("T2", 2))),
        [
            ("milestone_delay", "milestone", "M1", Light.YELLOW, 6.0),
            ("task_delay", "milestone", "M1", Light.RED, 6.0),
        ],
    ),
    ("SPI 0.95: no alert", dict(spi=0.95), []),
    ("SPI 0.949: YELLOW", dict(spi=0.949), [("spi", "project", "project", Light.YELLOW, 0.949)]),
    ("SPI 0.90: YELLOW", dict(spi=0.90), [("spi", "project", "project", Light.YELLOW, 0.90)]),
    ("SPI 0.899: RED", dict(spi=0.899), [("spi", "project", "project", Light.RED, 0.899)]),
    ("SPI unknown: nothing", dict(spi=None), []),
    (
        "a major hazard due yesterday and open: RED",
        dict(issues=(hazard(7),)),
        [("major_hazard_overdue", "issue", "7", Light.RED, 1.0)],
    ),
    ("a major hazard due today: not yet", dict(issues=(hazard(due=AS_OF),)), []),
    (
        "a major hazard ready for review: the ball is with the verifier",
        dict(issues=(hazard(status="ready_for_review"),)),
        [],
    ),
    ("a major hazard disputed", dict(issues=(hazard(status="disputed"),)), []),
    ("a minor hazard overdue: no alert", dict(issues=(hazard(severity="minor"),)), []),
    (
        "rework 4% → 6% → 9%, ≥ 5 lots a week: YELLOW in week 3",
        dict(lots=RISING),
        [("rework_rising", "zone", "A区", Light.YELLOW, 0.09)],
    ),
    (
        "rework 4% → 6% → 5%: nothing",
        dict(
            lots=(*week_lots("A区", 22, 25, 1), *week_lots("A区", 23, 50, 3), *week_lots("A区", 24, 100, 5))
        ),
        [],
    ),
    (
        "a rising run that ended last week stays while this week has under 5 lots",
        dict(lots=(*RISING, *week_lots("A区", 25, 4, 0)), as_of=D(2025, 6, 17)),
        [("rework_rising", "zone", "A区", Light.YELLOW, 0.09)],
    ),
    (
        "a counted week that breaks the run clears it",
        dict(lots=(*RISING, *week_lots("A区", 25, 5, 0)), as_of=D(2025, 6, 17)),
        [],
    ),
    ("a run that ended two weeks ago is history", dict(lots=RISING, as_of=D(2025, 6, 24)), []),
    (
        "lots after as_of are not seen yet",
        dict(lots=RISING, as_of=D(2025, 6, 6)),  # a Friday in W23: W24 has not happened
        [],
    ),
]


@pytest.mark.parametrize(("situation", "fields", "expected"), RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_default_rules(situation, fields, expected) -> None:
    candidates = evaluate(**fields)
    assert found(candidates) == [(*row[:4], pytest.approx(row[4])) for row in expected]
    for candidate in candidates:
        json.dumps(candidate.facts)  # plain values only: they are stored as JSON


def test_the_rework_alert_names_zone_weeks_rates_and_trades() -> None:
    (candidate,) = evaluate(lots=RISING)
    assert candidate.facts == {
        "zone": "A区",
        "weeks": ["2025-W22", "2025-W23", "2025-W24"],
        "rates": [pytest.approx(0.04), pytest.approx(0.06), pytest.approx(0.09)],
        "lots": [25, 50, 100],
        "trades": ["模板", "钢筋"],
    }


def test_spi_is_read_from_the_kpis_when_they_have_it() -> None:
    f = facts(spi=0.99)
    (candidate,) = evaluate_rules(DEFAULT_RULES, project_path=PATH, facts=f, kpis={"spi": 0.85})
    assert (candidate.level, candidate.value) == (Light.RED, 0.85)


# --- scope ------------------------------------------------------------------------------------


def rule(code="r", kind=RuleKind.SPI, scope="/", params=None, level=Light.RED, enabled=True) -> AlertRule:
    params = {"red_below": 0.90, "yellow_below": 0.95} if params is None else params
    return AlertRule(code, kind, scope, params, level, 60, enabled)


@pytest.mark.parametrize(
    ("scope", "path", "applies"),
    [
        ("/", "/1/4/17/", True),
        ("/1/", "/1/4/17/", True),
        ("/1/4/", "/1/4/17/", True),
        ("/1/4/", "/1/5/20/", False),
        ("/1/4/", "/1/40/7/", False),  # a prefix of the text, not of the path
        ("/1/4/17/", "/1/4/17/", True),
        ("/1/4/17/", "/1/4/18/", False),
    ],
)
def test_rule_applies_to_projects_in_its_subtree(scope, path, applies) -> None:
    assert rule_applies(rule(scope=scope), path) is applies
    assert rule_applies(rule(scope=scope, enabled=False), path) is False


def test_a_region_rule_applies_only_to_its_projects() -> None:
    region = [rule("region_spi", scope="/1/4/")]
    assert found(evaluate(region, path="/1/4/17/", spi=0.85)) == [
        ("region_spi", "project", "project", Light.RED, 0.85)
    ]
    assert evaluate(region, path="/1/5/20/", spi=0.85) == []


def test_the_most_specific_rule_of_a_kind_wins() -> None:
    hq = rule("hq_spi")
    region = rule("region_spi", scope="/1/4/", params={"red_below": 0.80, "yellow_below": 0.85})
    project = rule("project_spi", scope="/1/4/17/", params={"red_below": 0.70})
    delay = rule("hq_delay", RuleKind.TASK_DELAY, params={"over_days": 5})
    rules = [hq, region, delay]
    # In region 4 the region's looser tiers replace HQ's: SPI 0.88 is no alert there ...
    assert found(evaluate(rules, path="/1/4/17/", spi=0.88, tasks=(task(delay=6),))) == [
        ("hq_delay", "task", "T1", Light.RED, 6.0)  # ... while other kinds keep HQ's rule
    ]
    assert found(evaluate(rules, path="/1/4/17/", spi=0.84)) == [
        ("region_spi", "project", "project", Light.YELLOW, 0.84)
    ]
    # elsewhere HQ's rule holds,
    assert found(evaluate(rules, path="/1/5/20/", spi=0.88)) == [
        ("hq_spi", "project", "project", Light.RED, 0.88)
    ]
    # a project's own rule beats its region's,
    assert found(evaluate([*rules, project], path="/1/4/17/", spi=0.75)) == []
    # and a disabled override falls back to the wider rule.
    disabled = replace(region, enabled=False)
    assert found(evaluate([hq, disabled], path="/1/4/17/", spi=0.88)) == [
        ("hq_spi", "project", "project", Light.RED, 0.88)
    ]


def test_rules_of_one_kind_at_the_same_scope_all_run() -> None:
    yellow = rule("delay_3", RuleKind.TASK_DELAY, params={"over_days": 3}, level=Light.YELLOW)
    red = rule("delay_10", RuleKind.TASK_DELAY, params={"over_days": 10})
    assert [c.rule_code for c in evaluate([red, yellow], tasks=(task(delay=12),))] == ["delay_10", "delay_3"]


def test_disabled_rules_are_ignored() -> None:
    rules = [replace(r, enabled=False) for r in DEFAULT_RULES]
    assert evaluate(rules, spi=0.5, tasks=(task(delay=30),), issues=(hazard(),), lots=RISING) == []


def test_the_default_rule_set() -> None:
    assert {r.kind for r in DEFAULT_RULES} == set(RuleKind)
    by_code = {r.code: r for r in DEFAULT_RULES}
    assert len(by_code) == len(DEFAULT_RULES)
    assert by_code["task_delay"].params == {"over_days": 5}
    assert by_code["milestone_delay"].params == {"from_days": 1}
    assert by_code["spi"].params == {"red_below": 0.90, "yellow_below": 0.95}
    assert by_code["rework_rising"].params == {"min_lots": 5, "weeks": 3}
    assert all(r.scope_path == "/" and r.enabled and r.cooldown_minutes == 24 * 60 for r in DEFAULT_RULES)
    json.dumps([dict(r.params) for r in DEFAULT_RULES])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (dict(kind=RuleKind.TASK_DELAY, params={}), "over_days"),
        (dict(kind=RuleKind.REWORK_RISING, params={"min_lots": 5}), "weeks"),
        (dict(kind=RuleKind.SPI, params={}), "red_below"),
        (dict(scope="/1/x/"), "scope"),
        (dict(scope="1/4"), "scope"),
    ],
)
def test_a_rule_that_cannot_run_is_refused(fields, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        rule(**fields)


def test_rules_from_the_database_coerce_their_enums() -> None:
    stored = AlertRule("x", "spi", "/1/", {"yellow_below": 0.95}, "yellow", 60)
    assert (stored.kind, stored.level) == (RuleKind.SPI, Light.YELLOW)
    (candidate,) = evaluate([stored], spi=0.91)
    assert candidate.level is Light.YELLOW  # SPI takes its level from its tiers


# --- reconciliation ---------------------------------------------------------------------------


def stored(plan: AlertPlan, first_id=1) -> list[OpenAlert]:
    """What a service would have written for ``plan.create``."""
    return [
        OpenAlert(i, c.rule_code, c.subject_key, "open", c.level, c.value, None)
        for i, c in enumerate(plan.create, start=first_id)
    ]


def test_the_same_candidates_twice_create_nothing_the_second_time() -> None:
    candidates = evaluate(spi=0.85, tasks=(task("M1", 6, milestone=True),), issues=(hazard(),), lots=RISING)
    first = reconcile(candidates, [], now=NOW, cooldown_minutes=COOLDOWNS)
    assert [(c.rule_code, c.subject_key) for c in first.create] == [
        ("major_hazard_overdue", "1"),
        ("milestone_delay", "M1"),
        ("rework_rising", "A区"),
        ("spi", "project"),
        ("task_delay", "M1"),
    ]
    assert (first.update, first.resolve) == ((), ())
    again = reconcile(candidates, stored(first), now=NOW, cooldown_minutes=COOLDOWNS)
    assert again == AlertPlan(create=(), update=(), resolve=())


def test_scenario_4_exactly_one_open_alert_per_rule_and_task_day_after_day() -> None:
    alerts: list[OpenAlert] = []
    for day, delay in ((D(2025, 6, 11), 6), (D(2025, 6, 12), 7), (D(2025, 6, 13), 7)):
        candidates = evaluate(as_of=day, tasks=(task("M1", delay, milestone=True),))
        plan = reconcile(
            [c for c in candidates if c.rule_code == "task_delay"],
            alerts,
            now=NOW,
            cooldown_minutes=COOLDOWNS,
        )
        assert plan.resolve == ()
        updates = dict(plan.update)
        alerts = [replace(a, value=updates[a.id].value) if a.id in updates else a for a in alerts]
        alerts += stored(plan, first_id=len(alerts) + 1)
    assert [(a.rule_code, a.subject_key, a.level, a.value) for a in alerts] == [
        ("task_delay", "M1", Light.RED, 7.0)
    ]


def open_alert(
    id=7, rule_code="spi", key="project", level=Light.YELLOW, value=0.93, status="open"
) -> OpenAlert:
    return OpenAlert(id, rule_code, key, status, level, value, None)


def test_escalation_updates_the_same_alert() -> None:
    (red,) = evaluate(spi=0.88)
    plan = reconcile([red], [open_alert()], now=NOW, cooldown_minutes=COOLDOWNS)
    assert plan == AlertPlan(create=(), update=((7, red),), resolve=(), escalated=(7,))
    # An acknowledged alert is still the alert of its subject.
    assert reconcile(
        [red], [open_alert(status="acknowledged")], now=NOW, cooldown_minutes=COOLDOWNS
    ).update == ((7, red),)


@pytest.mark.parametrize(
    ("spi", "update", "escalated"),
    [(0.93, False, False), (0.93 + 1e-12, False, False), (0.92, True, False), (0.88, True, True)],
    ids=["unchanged", "float noise", "value moved", "escalated"],
)
def test_an_alert_is_updated_only_when_level_or_value_changes(spi, update, escalated) -> None:
    plan = reconcile(evaluate(spi=spi), [open_alert()], now=NOW, cooldown_minutes=COOLDOWNS)
    assert (bool(plan.update), bool(plan.escalated), plan.create, plan.resolve) == (update, escalated, (), ())


def test_a_red_alert_easing_to_yellow_is_an_update_not_an_escalation() -> None:
    plan = reconcile(
        evaluate(spi=0.93), [open_alert(level=Light.RED, value=0.85)], now=NOW, cooldown_minutes={}
    )
    assert ([i for i, _ in plan.update], plan.escalated) == ([7], ())


def test_alerts_whose_condition_is_gone_are_resolved() -> None:
    existing = [
        open_alert(7),
        open_alert(3, "task_delay", "T1", Light.RED, 6.0, status="acknowledged"),
        open_alert(9, "task_delay", "T2", Light.RED, 6.0),
        OpenAlert(2, "task_delay", "T3", "resolved", Light.RED, 6.0, NOW - dt.timedelta(days=3)),
    ]
    plan = reconcile(evaluate(tasks=(task("T2", 6),)), existing, now=NOW, cooldown_minutes=COOLDOWNS)
    assert plan == AlertPlan(create=(), update=(), resolve=(3, 7), escalated=())


def resolved(hours_ago: float) -> OpenAlert:
    return OpenAlert(5, "spi", "project", "resolved", Light.RED, 0.85, NOW - dt.timedelta(hours=hours_ago))


@pytest.mark.parametrize(
    ("history", "cooldowns", "raised"),
    [
        ([], COOLDOWNS, True),
        ([resolved(1)], COOLDOWNS, False),  # 1 h ago, 24 h cooldown
        ([resolved(23.9)], COOLDOWNS, False),
        ([resolved(24)], COOLDOWNS, True),  # the cooldown is over
        ([resolved(25)], COOLDOWNS, True),
        ([resolved(25), replace(resolved(1), id=6)], COOLDOWNS, False),  # the latest resolution counts
        ([resolved(1)], {}, True),  # a rule without a cooldown
        ([replace(resolved(1), rule_code="other")], COOLDOWNS, True),  # another rule's history
    ],
    ids=["never", "1h", "23.9h", "24h", "25h", "latest", "no cooldown", "other rule"],
)
def test_cooldown_after_resolution(history, cooldowns, raised) -> None:
    plan = reconcile(evaluate(spi=0.85), history, now=NOW, cooldown_minutes=cooldowns)
    assert bool(plan.create) is raised
    assert (plan.update, plan.resolve) == ((), ())


def test_duplicates_heal() -> None:
    (red,) = evaluate(spi=0.85)
    yellow = replace(red, level=Light.YELLOW)
    plan = reconcile([yellow, red], [], now=NOW, cooldown_minutes={})
    assert plan.create == (red,)  # two candidates for one subject: the worse one
    twice = [open_alert(4, level=Light.RED, value=0.85), open_alert(8, level=Light.RED, value=0.85)]
    assert reconcile([red], twice, now=NOW, cooldown_minutes={}) == AlertPlan((), (), (8,))


def test_the_plan_is_in_a_deterministic_order() -> None:
    candidates = evaluate(spi=0.85, tasks=(task("T9", 8), task("T1", 7), task("T5", 6)), issues=(hazard(),))
    existing = [
        open_alert(12, "task_delay", "T9", Light.RED, 1.0),
        open_alert(4, "task_delay", "T5", Light.RED, 1.0),
    ]
    plans = {
        reconcile(order, list(reversed(existing)) if flip else existing, now=NOW, cooldown_minutes=COOLDOWNS)
        for order in (candidates, candidates[::-1])
        for flip in (False, True)
    }
    (plan,) = plans
    assert [c.subject_key for c in plan.create] == ["1", "project", "T1"]
    assert [i for i, _ in plan.update] == [4, 12]


# --- messages -------------------------------------------------------------------------------


def one(**fields) -> AlertCandidate:
    (candidate,) = evaluate(**fields)
    return candidate


def test_the_messages_of_the_brief() -> None:
    delay = one(tasks=(task(delay=6, name="F5 楼板浇筑"),))
    assert alert_text(delay, "zh") == "任务「F5 楼板浇筑」滞后 6 天（超过 5 天）"
    assert alert_text(replace(delay, facts={**delay.facts, "task_name": "F5 slab pour"}), "en") == (
        "Task 'F5 slab pour' is 6 days late (over 5)"
    )
    assert (
        alert_text(one(lots=RISING), "zh")
        == "风险预警：A区 返工率连续两周上升（4% → 6% → 9%），涉及 模板、钢筋"
    )


# (situation, facts fields, numbers each language must contain)
MESSAGE_CASES = [
    ("task", dict(tasks=(task(delay=7.5),)), ["7.5", "5"]),
    ("milestone as a task", dict(tasks=(task("M", 6, milestone=True),), spi=None), ["6", "5", "1"]),
    ("spi", dict(spi=0.899), ["0.899", "0.90"]),
    ("spi yellow", dict(spi=0.949), ["0.949", "0.95"]),
    ("hazard", dict(issues=(hazard(12, due=D(2025, 6, 8)),)), ["#12", "3", "2025-06-08"]),
    ("rework", dict(lots=RISING), ["A区", "4%", "6%", "9%", "钢筋", "模板"]),
]


@pytest.mark.parametrize(("situation", "fields", "numbers"), MESSAGE_CASES, ids=[c[0] for c in MESSAGE_CASES])
@pytest.mark.parametrize("lang", ["zh", "en", "zh-CN", "en-GB"])
def test_messages_carry_the_key_numbers_in_both_languages(situation, fields, numbers, lang) -> None:
    candidates = evaluate(**fields)
    texts = [alert_text(c, lang) for c in candidates]
    assert texts
    joined = " ".join(texts)
    assert "\n" not in joined
    assert all(n in joined for n in numbers)
    # Apart from the data's own names (task names, zones, trades), a text is in one language.
    for candidate, text in zip(candidates, texts, strict=True):
        for value in candidate.facts.values():
            for name in value if isinstance(value, list) else [value]:
                if isinstance(name, str):
                    text = text.replace(name, "")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text) is lang.startswith("zh")


def test_messages_are_rebuilt_from_stored_facts() -> None:
    candidate = one(issues=(hazard(12),))
    facts_from_the_database = json.loads(json.dumps(candidate.facts))
    assert alert_text(("major_hazard_overdue", facts_from_the_database), "en") == alert_text(candidate, "en")
    assert alert_text(candidate, "en") == "Major hazard #12 '临边防护缺失' is 1 day overdue (due 2025-06-10)"
    assert alert_text(candidate, "zh") == "重大隐患 #12「临边防护缺失」逾期 1 天未整改（整改期限 2025-06-10）"
    assert alert_text(one(spi=0.8), "zh") == "项目进度绩效指数 SPI 0.80，低于 0.90"
    with pytest.raises(ValueError, match="fr"):
        alert_text(candidate, "fr")
