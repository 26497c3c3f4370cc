"""KPIs, rework trends, lights, scores and the ranking, table-driven: one row per situation a
regional manager would name (domain.md §3.8, scenarios 4, 7, 9, 10, 11)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

import pytest

from twin_server.domain.kpis import (
    KPI_CODES,
    KPI_DEFINITIONS,
    Dimension,
    HealthThresholds,
    IssueFact,
    Light,
    LotFact,
    ProjectFacts,
    Reason,
    ReworkCell,
    TaskFact,
    Weights,
    bottom_three,
    compute_kpis,
    dimension_lights,
    dimension_scores,
    iso_week,
    project_health,
    rank_in_regions,
    rework_by_zone_week,
    rework_rising,
    worst,
)

D = dt.date
START, AS_OF, END = D(2025, 6, 1), D(2025, 6, 20), D(2025, 6, 30)
MAY = D(2025, 5, 15)
LATER = D(2025, 6, 25)  # in the period, after as_of
JUNE_2, JUNE_10 = D(2025, 6, 2), D(2025, 6, 10)


def task(key="T", delay=0.0, *, milestone=False, finished=False, finished_on=None) -> TaskFact:
    return TaskFact(
        key=key,
        name=f"task {key}",
        wbs_code=None,
        is_milestone=milestone,
        is_critical=False,
        delay_days=delay,
        total_float_days=None,
        finished=finished,
        finished_on=finished_on,
    )


def issue(
    number=1,
    *,
    kind="quality",
    severity="minor",
    status="open",
    created=JUNE_2,
    closed=None,
    due=None,
) -> IssueFact:
    return IssueFact(
        number=number,
        kind=kind,
        severity=severity,
        status=status,
        created_on=created,
        closed_on=closed,
        due_date=due,
        zone=None,
        category=None,
        reopened_count=0,
    )


def lot(zone="A", day=JUNE_10, *, attempt=1, accepted=True, trade="钢筋", code="L") -> LotFact:
    return LotFact(code=code, zone=zone, trade=trade, inspected_on=day, attempt_no=attempt, accepted=accepted)


def facts(**fields) -> ProjectFacts:
    return ProjectFacts(
        **{"project_id": 1, "period_start": START, "period_end": END, "as_of": AS_OF, "spi": None, **fields}
    )


def closed(number, created, closed_on, **kw) -> IssueFact:
    return issue(number, status="closed", created=created, closed=closed_on, **kw)


# --- KPIs -----------------------------------------------------------------------------------

# (situation, facts fields, KPI code, expected value)
KPI_CASES = [
    ("SPI is copied", dict(spi=0.93), "spi", 0.93),
    ("no SPI while nothing was due", {}, "spi", None),
    # schedule
    ("no schedule: no delay known", {}, "max_delay_days", None),
    ("no schedule: no late task", {}, "late_tasks", 0.0),
    ("nothing late", dict(tasks=(task("a"), task("b"))), "max_delay_days", 0.0),
    # A caller that left out the tasks finished before the period says the schedule exists.
    ("a schedule whose tasks all finished earlier", dict(has_schedule=True), "max_delay_days", 0.0),
    ("a schedule whose tasks all finished earlier", dict(has_schedule=True), "late_tasks", 0.0),
    ("told there is no schedule", dict(tasks=(task("a", 3),), has_schedule=False), "max_delay_days", None),
    (
        "late tasks are those with a delay",
        dict(tasks=(task("a"), task("b", 2), task("c", 6))),
        "late_tasks",
        2.0,
    ),
    ("the largest delay", dict(tasks=(task("a", 2), task("b", 6.5))), "max_delay_days", 6.5),
    (
        "a task finished late in this period counts",
        dict(tasks=(task("a", 4, finished=True, finished_on=D(2025, 6, 3)),)),
        "max_delay_days",
        4.0,
    ),
    (
        "a task finished late in an earlier period does not",
        dict(tasks=(task("a", 4, finished=True, finished_on=MAY),)),
        "late_tasks",
        0.0,
    ),
    (
        "a finished task of unknown finish day counts",
        dict(tasks=(task("a", 4, finished=True),)),
        "late_tasks",
        1.0,
    ),
    (
        "a milestone 0.9 days late is not at risk",
        dict(tasks=(task("m", 0.9, milestone=True),)),
        "milestones_at_risk",
        0.0,
    ),
    (
        "a milestone a day late is at risk",
        dict(tasks=(task("m", 1.0, milestone=True),)),
        "milestones_at_risk",
        1.0,
    ),
    (
        "no milestones: no milestone delay known",
        dict(tasks=(task("a", 3),)),
        "max_milestone_delay_days",
        None,
    ),
    (
        "the largest milestone delay ignores plain tasks",
        dict(tasks=(task("a", 9), task("m", 2, milestone=True), task("n", 0, milestone=True))),
        "max_milestone_delay_days",
        2.0,
    ),
    # quality: raised / closed
    (
        "raised: quality issues created from the period's start to as_of",
        dict(
            issues=(
                issue(1),
                issue(2, created=START),
                issue(3, created=AS_OF),
                issue(4, created=MAY),  # before the period
                issue(5, created=D(2025, 6, 21)),  # after as_of
                issue(6, status="draft"),  # not raised yet
                issue(7, status="void"),  # withdrawn
                issue(8, kind="safety"),
                issue(9, kind="coordination"),
            )
        ),
        "issues_raised",
        3.0,
    ),
    (
        "closed: closures in the period, whenever raised",
        dict(
            issues=(
                closed(1, MAY, D(2025, 6, 5)),
                closed(2, D(2025, 6, 2), D(2025, 6, 6)),
                closed(3, MAY, D(2025, 5, 30)),  # closed before the period
                issue(4, status="ready_for_review"),
            )
        ),
        "issues_closed",
        2.0,
    ),
    (
        "closure rate: of those raised in the period, the share closed",
        dict(
            issues=(
                closed(1, D(2025, 6, 2), D(2025, 6, 5)),
                issue(2),
                issue(3, status="ready_for_review"),
                issue(4, status="disputed"),
                closed(5, MAY, D(2025, 6, 5)),  # closed in the period, raised before: not in the cohort
            )
        ),
        "closure_rate",
        0.25,
    ),
    ("closure rate: nothing raised", dict(issues=(closed(1, MAY, D(2025, 6, 5)),)), "closure_rate", None),
    # quality: on time
    (
        "on time: of those due in the period, closed by their due date",
        dict(
            issues=(
                closed(1, MAY, D(2025, 6, 10), due=D(2025, 6, 10)),  # on the due date: on time
                closed(2, MAY, D(2025, 6, 11), due=D(2025, 6, 10)),  # a day late
                issue(3, created=MAY, due=D(2025, 6, 12)),  # still open
                issue(4, created=MAY, status="ready_for_review", due=D(2025, 6, 12)),  # replied, not closed
                closed(5, MAY, D(2025, 6, 1), due=LATER),  # due after as_of: not judged yet
                closed(6, MAY, D(2025, 5, 20), due=D(2025, 5, 25)),  # due before the period
            )
        ),
        "on_time_rate",
        0.25,
    ),
    ("on time: nothing due", dict(issues=(issue(1, due=LATER),)), "on_time_rate", None),
    # Due today and still open: it still has the day; closed today: on time.
    ("on time: due today, open", dict(issues=(issue(1, created=MAY, due=AS_OF),)), "on_time_rate", None),
    (
        "on time: due today, closed today",
        dict(issues=(closed(1, MAY, AS_OF, due=AS_OF), issue(2, created=MAY, due=AS_OF))),
        "on_time_rate",
        1.0,
    ),
    # quality: overdue
    (
        "overdue: open and past due, quality only",
        dict(
            issues=(
                issue(1, due=D(2025, 6, 19)),  # due yesterday
                issue(2, created=MAY, due=D(2025, 5, 20)),  # long overdue, raised before the period
                issue(3, due=AS_OF),  # due today: not yet
                issue(4, status="ready_for_review", due=D(2025, 6, 19)),  # the ball is with the verifier
                issue(5, status="disputed", due=D(2025, 6, 19)),
                issue(6, kind="safety", due=D(2025, 6, 19)),
                issue(7, due=None),
            )
        ),
        "overdue_issues",
        2.0,
    ),
    # quality: rework
    (
        "rework: accepted lots of the period with an attempt after the first",
        dict(
            lots=(
                lot(code="a"),
                lot(code="b", attempt=2),
                lot(code="c", attempt=1, accepted=False, day=D(2025, 6, 9)),  # the rejection: not counted
                lot(code="c", attempt=2, day=D(2025, 6, 11)),
                lot(code="d", day=MAY, attempt=2),  # before the period
                lot(code="e", day=D(2025, 6, 21)),  # after as_of
                lot(code="f", day=D(2025, 6, 12)),
            )
        ),
        "rework_rate",
        0.5,
    ),
    ("rework: nothing accepted", dict(lots=(lot(accepted=False),)), "rework_rate", None),
    # safety
    (
        "open minor hazards: open, under review or disputed, raised by as_of",
        dict(
            issues=(
                issue(1, kind="safety"),
                issue(2, kind="safety", status="ready_for_review", created=MAY),
                issue(3, kind="safety", status="disputed"),
                closed(4, MAY, D(2025, 6, 5), kind="safety"),
                issue(5, kind="safety", created=D(2025, 6, 21)),  # after as_of
                issue(6, kind="safety", severity="major"),
                issue(7),  # a quality defect
            )
        ),
        "hazards_open_minor",
        3.0,
    ),
    (
        "open major hazards",
        dict(issues=(issue(1, kind="safety", severity="major"), issue(2, kind="safety"))),
        "hazards_open_major",
        1.0,
    ),
    (
        "overdue major hazards: open and past due",
        dict(
            issues=(
                issue(1, kind="safety", severity="major", due=D(2025, 6, 19)),
                issue(2, kind="safety", severity="major", status="ready_for_review", due=D(2025, 6, 19)),
                issue(3, kind="safety", severity="minor", due=D(2025, 6, 19)),
                issue(4, kind="safety", severity="major", due=AS_OF),
            )
        ),
        "major_hazards_overdue",
        1.0,
    ),
    # other
    ("open alarms are copied", dict(open_alarms=3), "open_alarms", 3.0),
    (
        "unacknowledged control alarms are copied",
        dict(control_alarms_unacked=1),
        "control_alarms_unacked",
        1.0,
    ),
]


@pytest.mark.parametrize(
    ("situation", "fields", "code", "expected"), KPI_CASES, ids=[c[0] for c in KPI_CASES]
)
def test_kpi(situation, fields, code, expected) -> None:
    assert compute_kpis(facts(**fields))[code] == (pytest.approx(expected) if expected is not None else None)


def test_every_code_is_returned_in_display_order_and_defined() -> None:
    kpis = compute_kpis(facts())
    assert tuple(kpis) == KPI_CODES == tuple(KPI_DEFINITIONS)
    for code, definition in KPI_DEFINITIONS.items():
        assert definition.code == code
        assert definition.better in ("higher", "lower")
        assert definition.unit in ("", "%", "days", "count")
        assert definition.label_zh and definition.label_en
    assert all(value is None or isinstance(value, float) for value in kpis.values())


def test_facts_refuse_an_as_of_after_the_period() -> None:
    with pytest.raises(ValueError, match="min\\(today, period_end\\)"):
        facts(as_of=D(2025, 7, 1))
    with pytest.raises(ValueError, match="starts"):
        facts(period_start=D(2025, 7, 1))
    assert facts(tasks=[task()]).tasks == (task(),)  # lists become tuples


# --- rework by zone and week ----------------------------------------------------------------


def test_scenario_9_a_lot_rejected_and_reaccepted_is_one_rework_in_its_zone_and_week() -> None:
    lots = [
        lot("A", D(2025, 6, 3), attempt=1, accepted=False, code="F3 beam rebar 检验批-2"),
        lot("A", D(2025, 6, 5), attempt=2, accepted=True, code="F3 beam rebar 检验批-2"),
    ]
    assert rework_by_zone_week(lots) == {
        ("A", "2025-W23"): ReworkCell("A", "2025-W23", accepted=1, reworked=1, rate=1.0, trades=("钢筋",))
    }


def test_cells_count_accepted_lots_per_zone_and_week_with_the_trades_reworked() -> None:
    lots = [
        lot("A", D(2025, 6, 2), code="1", trade="模板"),
        lot("A", D(2025, 6, 4), code="2", attempt=2, trade="模板"),
        lot("A", D(2025, 6, 8), code="3", attempt=3, trade="钢筋"),  # Sunday: still W23
        lot("A", D(2025, 6, 9), code="4"),  # Monday: W24
        lot("B", D(2025, 6, 4), code="5", attempt=2, trade="混凝土"),
    ]
    cells = rework_by_zone_week(lots)
    assert list(cells) == [("A", "2025-W23"), ("A", "2025-W24"), ("B", "2025-W23")]
    assert cells["A", "2025-W23"] == ReworkCell("A", "2025-W23", 3, 2, 2 / 3, ("模板", "钢筋"))
    assert cells["A", "2025-W24"] == ReworkCell("A", "2025-W24", 1, 0, 0.0, ())


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (D(2025, 6, 5), "2025-W23"),
        (D(2025, 12, 29), "2026-W01"),
        (D(2026, 12, 31), "2026-W53"),
        (D(2027, 1, 3), "2026-W53"),
    ],
)
def test_iso_week(day, week) -> None:
    assert iso_week(day) == week


def week_lots(zone: str, week: str, accepted: int, reworked: int, trade: str = "钢筋") -> list[LotFact]:
    """``accepted`` lots in ``week`` (ISO), the first ``reworked`` of them on attempt 2."""
    year, number = week.split("-W")
    monday = D.fromisocalendar(int(year), int(number), 1)
    return [
        lot(
            zone,
            monday + dt.timedelta(days=i % 5),
            attempt=2 if i < reworked else 1,
            trade=trade,
            code=f"{week}-{i}",
        )
        for i in range(accepted)
    ]


# (situation, [(week, accepted, reworked)], expected run of weeks or None)
RISING_CASES = [
    (
        "4% → 6% → 9%, ≥ 5 lots each: fires in week 3",
        [("2025-W21", 25, 1), ("2025-W22", 50, 3), ("2025-W23", 100, 9)],
        ("2025-W21", "2025-W22", "2025-W23"),
    ),
    ("4% → 6% → 5%: does not", [("2025-W21", 25, 1), ("2025-W22", 50, 3), ("2025-W23", 100, 5)], None),
    (
        "6% → 6% → 9%: a flat week is no rise",
        [("2025-W21", 50, 3), ("2025-W22", 50, 3), ("2025-W23", 100, 9)],
        None,
    ),
    (
        "exactly 5 lots a week is enough",
        [("2025-W21", 5, 0), ("2025-W22", 5, 1), ("2025-W23", 5, 2)],
        ("2025-W21", "2025-W22", "2025-W23"),
    ),
    ("a week with 4 lots breaks it", [("2025-W21", 5, 0), ("2025-W22", 4, 1), ("2025-W23", 5, 2)], None),
    (
        "a gap: W21, W22, W24 are not consecutive",
        [("2025-W21", 25, 1), ("2025-W22", 50, 3), ("2025-W24", 100, 9)],
        None,
    ),
    (
        "across a year boundary: 2025-W52 → 2026-W01 → W02",
        [("2025-W52", 25, 1), ("2026-W01", 50, 3), ("2026-W02", 100, 9)],
        ("2025-W52", "2026-W01", "2026-W02"),
    ),
    (
        "across a 53-week year: 2026-W52 → W53 → 2027-W01",
        [("2026-W52", 25, 1), ("2026-W53", 50, 3), ("2027-W01", 100, 9)],
        ("2026-W52", "2026-W53", "2027-W01"),
    ),
    ("only two weeks", [("2025-W22", 50, 3), ("2025-W23", 100, 9)], None),
    (
        "the latest run is the one reported",
        [
            ("2025-W20", 10, 1),
            ("2025-W21", 10, 2),
            ("2025-W22", 10, 3),
            ("2025-W23", 10, 4),
            ("2025-W24", 10, 1),
        ],
        ("2025-W21", "2025-W22", "2025-W23"),
    ),
]


@pytest.mark.parametrize(("situation", "weeks", "expected"), RISING_CASES, ids=[c[0] for c in RISING_CASES])
def test_rework_rising(situation, weeks, expected) -> None:
    lots = [x for week, accepted, reworked in weeks for x in week_lots("A", week, accepted, reworked)]
    trends = rework_rising(rework_by_zone_week(lots))
    if expected is None:
        assert trends == []
    else:
        (trend,) = trends
        by_week = {week: (accepted, reworked) for week, accepted, reworked in weeks}
        assert trend.zone == "A"
        assert trend.weeks == expected
        assert trend.lots == tuple(by_week[w][0] for w in expected)
        assert trend.rates == pytest.approx([by_week[w][1] / by_week[w][0] for w in expected])


def test_rework_rising_names_the_trades_of_the_run_per_zone() -> None:
    lots = [
        *week_lots("A", "2025-W21", 25, 1, "钢筋"),
        *week_lots("A", "2025-W22", 50, 3, "模板"),
        *week_lots("A", "2025-W23", 100, 9, "钢筋"),
        *week_lots("B", "2025-W21", 25, 3),
        *week_lots("B", "2025-W22", 25, 2),
        *week_lots("B", "2025-W23", 25, 1),
    ]
    cells = rework_by_zone_week(lots)
    (trend,) = rework_rising(cells)
    assert (trend.zone, trend.trades) == ("A", ("模板", "钢筋"))
    assert rework_rising(cells.values()) == [trend]  # cells as a plain iterable


def test_rework_rising_parameters() -> None:
    lots = [*week_lots("A", "2025-W22", 5, 0), *week_lots("A", "2025-W23", 5, 1)]
    cells = rework_by_zone_week(lots)
    assert rework_rising(cells) == []  # two weeks are one rise, not two
    assert [t.weeks for t in rework_rising(cells, weeks=2)] == [("2025-W22", "2025-W23")]
    assert rework_rising(cells, weeks=2, min_lots=6) == []
    with pytest.raises(ValueError):
        rework_rising(cells, weeks=1)


# --- lights -----------------------------------------------------------------------------------


def test_worst() -> None:
    assert worst([Light.GREEN, Light.RED, Light.YELLOW]) is Light.RED
    assert worst([Light.YELLOW, Light.GREEN]) is Light.YELLOW
    assert worst([]) is Light.GREEN


# (situation, KPI values, dimension, expected light)
LIGHT_CASES = [
    ("no data at all", {}, Dimension.SCHEDULE, Light.GREEN),
    ("SPI 0.96", {"spi": 0.96}, Dimension.SCHEDULE, Light.GREEN),
    ("SPI 0.95: on the green edge", {"spi": 0.95}, Dimension.SCHEDULE, Light.GREEN),
    ("SPI 0.92", {"spi": 0.92}, Dimension.SCHEDULE, Light.YELLOW),
    ("SPI 0.90: still yellow", {"spi": 0.90}, Dimension.SCHEDULE, Light.YELLOW),
    ("SPI 0.89", {"spi": 0.89}, Dimension.SCHEDULE, Light.RED),
    ("SPI unknown", {"spi": None}, Dimension.SCHEDULE, Light.GREEN),
    ("scenario 4: a 6-day delay", {"max_delay_days": 6}, Dimension.SCHEDULE, Light.RED),
    ("scenario 4: a 5-day delay is not red", {"max_delay_days": 5}, Dimension.SCHEDULE, Light.GREEN),
    ("a milestone 1 day late", {"max_milestone_delay_days": 1}, Dimension.SCHEDULE, Light.YELLOW),
    ("a milestone 0.9 days late", {"max_milestone_delay_days": 0.9}, Dimension.SCHEDULE, Light.GREEN),
    ("milestones at risk without their delay", {"milestones_at_risk": 1}, Dimension.SCHEDULE, Light.YELLOW),
    ("on time 0.8", {"on_time_rate": 0.8}, Dimension.QUALITY, Light.GREEN),
    ("on time 0.79", {"on_time_rate": 0.79}, Dimension.QUALITY, Light.YELLOW),
    ("on time 0.6", {"on_time_rate": 0.6}, Dimension.QUALITY, Light.YELLOW),
    ("on time 0.59", {"on_time_rate": 0.59}, Dimension.QUALITY, Light.RED),
    ("nothing due", {"on_time_rate": None}, Dimension.QUALITY, Light.GREEN),
    ("one overdue issue", {"overdue_issues": 1}, Dimension.QUALITY, Light.YELLOW),
    ("four overdue issues", {"overdue_issues": 4}, Dimension.QUALITY, Light.YELLOW),
    ("five overdue issues", {"overdue_issues": 5}, Dimension.QUALITY, Light.RED),
    ("minor hazards only", {"hazards_open_minor": 9}, Dimension.SAFETY, Light.GREEN),
    ("an open major hazard", {"hazards_open_major": 1}, Dimension.SAFETY, Light.YELLOW),
    (
        "an overdue major hazard",
        {"hazards_open_major": 1, "major_hazards_overdue": 1},
        Dimension.SAFETY,
        Light.RED,
    ),
    ("an open alarm", {"open_alarms": 1}, Dimension.OTHER, Light.YELLOW),
    (
        "an unacknowledged control alarm",
        {"open_alarms": 1, "control_alarms_unacked": 1},
        Dimension.OTHER,
        Light.RED,
    ),
]


@pytest.mark.parametrize(
    ("situation", "kpis", "dimension", "light"), LIGHT_CASES, ids=[c[0] for c in LIGHT_CASES]
)
def test_dimension_light(situation, kpis, dimension, light) -> None:
    lights = dimension_lights(kpis)
    assert list(lights) == list(Dimension)
    assert lights[dimension] is light
    assert all(lights[d] is Light.GREEN for d in Dimension if d is not dimension)


def test_thresholds_are_configurable() -> None:
    strict = HealthThresholds(delay_red_over_days=3, spi_yellow_below=0.98)
    assert dimension_lights({"max_delay_days": 4}, strict)[Dimension.SCHEDULE] is Light.RED
    assert dimension_lights({"spi": 0.97}, strict)[Dimension.SCHEDULE] is Light.YELLOW


@pytest.mark.parametrize(
    ("due", "light"),
    [(D(2025, 6, 21), Light.YELLOW), (AS_OF, Light.YELLOW), (D(2025, 6, 19), Light.RED)],
    ids=["due tomorrow", "due today", "due yesterday"],
)
def test_scenario_7_an_open_major_hazard_is_yellow_and_red_once_past_due(due, light) -> None:
    hazard = issue(1, kind="safety", severity="major", due=due)
    health = project_health(compute_kpis(facts(issues=(hazard,), spi=1.0)))
    assert health.lights[Dimension.SAFETY] is light
    assert health.light is light  # the map colour is the project light
    assert health.reasons[0].dimension is Dimension.SAFETY


# --- scores -----------------------------------------------------------------------------------


def test_no_data_scores_100_everywhere() -> None:
    assert dimension_scores({}) == dict.fromkeys(Dimension, 100.0)
    assert dimension_scores(dict.fromkeys(KPI_CODES)) == dict.fromkeys(Dimension, 100.0)
    assert dimension_scores(compute_kpis(facts())) == dict.fromkeys(Dimension, 100.0)


# (KPI values, dimension, expected score): the documented formula, term by term
SCORE_CASES = [
    ({"spi": 1.2}, Dimension.SCHEDULE, 100.0),  # being ahead earns nothing
    ({"spi": 0.95}, Dimension.SCHEDULE, 90.0),
    ({"spi": 0.90, "max_delay_days": 2}, Dimension.SCHEDULE, 72.0),
    ({"max_delay_days": 5, "milestones_at_risk": 2}, Dimension.SCHEDULE, 60.0),
    ({"max_delay_days": 40}, Dimension.SCHEDULE, 0.0),  # floored at 0
    ({"on_time_rate": 0.6, "closure_rate": 0.5}, Dimension.QUALITY, 70.0),
    ({"overdue_issues": 5, "rework_rate": 0.1}, Dimension.QUALITY, 70.0),
    ({"hazards_open_minor": 5, "hazards_open_major": 1}, Dimension.SAFETY, 80.0),
    ({"hazards_open_major": 1, "major_hazards_overdue": 1}, Dimension.SAFETY, 80.0),
    ({"open_alarms": 2, "control_alarms_unacked": 1}, Dimension.OTHER, 70.0),
]


@pytest.mark.parametrize(("kpis", "dimension", "score"), SCORE_CASES)
def test_dimension_score_formula(kpis, dimension, score) -> None:
    assert dimension_scores(kpis)[dimension] == pytest.approx(score)


# Per KPI, values from better to worse: the score of its dimension never rises along them.
MONOTONIC = {
    "spi": [1.1, 1.0, 0.97, 0.93, 0.85, 0.5],
    "max_delay_days": [0, 1, 5, 6, 20],
    "milestones_at_risk": [0, 1, 3],
    "closure_rate": [1.0, 0.7, 0.2, 0.0],
    "on_time_rate": [1.0, 0.8, 0.6, 0.0],
    "overdue_issues": [0, 1, 5, 9],
    "rework_rate": [0.0, 0.05, 0.3],
    "hazards_open_minor": [0, 1, 10],
    "hazards_open_major": [0, 1, 2],
    "major_hazards_overdue": [0, 1, 2],
    "open_alarms": [0, 1, 4],
    "control_alarms_unacked": [0, 1],
}


@pytest.mark.parametrize("code", list(MONOTONIC))
def test_scores_are_monotonic_in_every_kpi(code) -> None:
    dimension = KPI_DEFINITIONS[code].dimension
    base = {"spi": 0.97, "on_time_rate": 0.9, "open_alarms": 1, "hazards_open_minor": 1}
    scores = [dimension_scores({**base, code: value})[dimension] for value in MONOTONIC[code]]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]


# --- health and ranking -------------------------------------------------------------------------


def test_the_composite_score_is_the_weighted_mean_with_reasons_by_shortfall() -> None:
    kpis = {"spi": 0.90, "max_delay_days": 2, "hazards_open_major": 1, "overdue_issues": 1}
    health = project_health(kpis)
    assert health.scores == {
        Dimension.SCHEDULE: 72.0,
        Dimension.QUALITY: 96.0,
        Dimension.SAFETY: 90.0,
        Dimension.OTHER: 100.0,
    }
    # (30 × 72 + 25 × 96 + 30 × 90 + 15 × 100) / 100
    assert health.score == pytest.approx(87.6)
    assert health.reasons == (
        Reason(Dimension.SCHEDULE, "spi", 0.90, 8.4),  # SPI costs 20 of the 28 points lost
        Reason(Dimension.SAFETY, "hazards_open_major", 1, 3.0),
        Reason(Dimension.QUALITY, "overdue_issues", 1, 1.0),
    )
    assert health.score == pytest.approx(100 - sum(r.shortfall for r in health.reasons))
    assert (health.light, health.red_count) == (Light.YELLOW, 0)


def test_counted_leaves_a_dimension_out_of_light_score_and_reasons() -> None:
    kpis = {"open_alarms": 1, "control_alarms_unacked": 1}
    every = project_health(kpis)
    assert (every.light, every.red_count, every.score) == (Light.RED, 1, 97.0)
    without = project_health(kpis, counted=frozenset(Dimension) - {Dimension.OTHER})
    assert (without.light, without.red_count, without.score, without.reasons) == (Light.GREEN, 0, 100.0, ())
    assert without.lights[Dimension.OTHER] is Light.RED  # still reported, just not counted
    with pytest.raises(ValueError):
        project_health(kpis, counted=frozenset())


def test_changing_the_weights_changes_the_ranking() -> None:
    late = project_health({"spi": 0.80})  # schedule 60
    unsafe = project_health({"hazards_open_major": 3})  # safety 70
    healths = [(1, 9, late), (2, 9, unsafe)]
    assert [p.project_id for p in rank_in_regions(healths)] == [2, 1]
    safety_first = Weights(schedule=10, safety=50)
    reweighted = [
        (1, 9, project_health({"spi": 0.80}, weights=safety_first)),
        (2, 9, project_health({"hazards_open_major": 3}, weights=safety_first)),
    ]
    assert [(p.project_id, p.score) for p in rank_in_regions(reweighted)] == [(1, 96.0), (2, 85.0)]


def test_ties_are_broken_by_red_count_then_project_id() -> None:
    overdue_hazard = project_health({"hazards_open_major": 1, "major_hazards_overdue": 1})  # safety 80, RED
    slow = project_health({"spi": 0.90})  # schedule 80, only YELLOW
    assert overdue_hazard.score == slow.score == 94.0
    ranked = rank_in_regions([(5, 1, overdue_hazard), (7, 1, slow), (3, 1, slow)])
    assert [(p.project_id, p.rank_in_region, p.red_count) for p in ranked] == [
        (3, 1, 0),
        (7, 2, 0),
        (5, 3, 1),
    ]


def portfolio() -> list[tuple[int, int, object]]:
    """Eleven projects in three regions, from frozen KPI values."""
    kpis = [
        {"spi": 0.99},
        {"spi": 0.91, "max_delay_days": 7, "overdue_issues": 2},
        {"hazards_open_major": 1, "major_hazards_overdue": 1, "open_alarms": 1},
        {"on_time_rate": 0.5, "rework_rate": 0.2},
        {"spi": 0.90},
        {"hazards_open_major": 1, "major_hazards_overdue": 1},
        {},
        {"spi": 0.85, "hazards_open_minor": 4, "control_alarms_unacked": 1, "open_alarms": 1},
        {"closure_rate": 0.4},
        {"max_delay_days": 12, "milestones_at_risk": 2},
        {"spi": 0.97},
    ]
    regions = [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    return [
        (100 + i, region, project_health(k)) for i, (k, region) in enumerate(zip(kpis, regions, strict=True))
    ]


def test_a_rerun_in_any_order_ranks_identically() -> None:
    healths = portfolio()
    expected = rank_in_regions(healths)
    expected_bottom = bottom_three(expected)
    rng = random.Random(7)
    for _ in range(5):
        shuffled = healths[:]
        rng.shuffle(shuffled)
        again = rank_in_regions(shuffled)
        assert again == expected
        reshuffled = again[:]
        rng.shuffle(reshuffled)
        assert bottom_three(reshuffled) == expected_bottom
    assert [p.region_id for p in expected] == sorted(p.region_id for p in expected)
    for region in (1, 2, 3):
        ranks = [p for p in expected if p.region_id == region]
        assert [p.rank_in_region for p in ranks] == list(range(1, len(ranks) + 1))
        assert [p.score for p in ranks] == sorted((p.score for p in ranks), reverse=True)


def test_bottom_three_per_region_worst_first_with_two_reasons() -> None:
    bottom = bottom_three(rank_in_regions(portfolio()))
    assert list(bottom) == [1, 2, 3]
    assert [p.project_id for p in bottom[1]] == [101, 103, 102]
    worst_one = bottom[1][0]
    assert worst_one.light is Light.RED
    assert worst_one.reasons == (
        Reason(Dimension.SCHEDULE, "max_delay_days", 7, 13.8),  # 100 − 18 (SPI) − 28 (7 days) = 54
        Reason(Dimension.QUALITY, "overdue_issues", 2, 2.0),
    )
    assert [p.project_id for p in bottom[2]] == [107, 105, 106]
    assert all(len(p.reasons) <= 2 for ps in bottom.values() for p in ps)
    assert [p.project_id for p in bottom_three(rank_in_regions(portfolio()), count=1)[3]] == [109]
    # A region with fewer projects than the count lists them all.
    two = bottom_three(rank_in_regions([(1, 4, project_health({})), (2, 4, project_health({"spi": 0.5}))]))
    assert [p.project_id for p in two[4]] == [2, 1]


def test_a_project_listed_twice_is_refused() -> None:
    health = project_health({})
    with pytest.raises(ValueError, match="twice"):
        rank_in_regions([(1, 1, health), (1, 2, health)])


def test_weights_are_relative_and_not_negative() -> None:
    kpis = {"spi": 0.8}
    assert project_health(kpis, weights=Weights(60, 50, 60, 30)).score == project_health(kpis).score
    with pytest.raises(ValueError):
        Weights(schedule=-1)
    assert replace(Weights(), other=0).of(Dimension.OTHER) == 0.0
