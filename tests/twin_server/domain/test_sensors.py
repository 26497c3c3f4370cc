"""IoT sensors, table-driven: tier boundaries (upper and lower), nested-threshold validation,
defaults inherited bound by bound, persistence and clearing (scenario 15), offline, time
travel, alert candidates through the real reconcile, payload parsing with bad items among
good ones, dedupe and aggregates."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from dataclasses import replace

import pytest

from twin_server.domain import sensors
from twin_server.domain.alerts import AlertCandidate, OpenAlert, reconcile
from twin_server.domain.errors import InvalidInput
from twin_server.domain.kpis import Light
from twin_server.domain.sensors import (
    CHINA_TZ,
    DEFAULT_THRESHOLDS,
    NIGHT_NOISE_THRESHOLDS,
    SENSOR_OFFLINE,
    SENSOR_THRESHOLD,
    TIER_LIGHTS,
    Aggregate,
    Bounds,
    Condition,
    DayNightThresholds,
    Metric,
    ParsedReading,
    PointState,
    Quality,
    Reading,
    RejectCode,
    Rejected,
    ThresholdOverrides,
    Thresholds,
    Tier,
    aggregate,
    classify,
    dedupe,
    effective_thresholds,
    element_states,
    evaluate_point,
    is_offline,
    parse_reading_json,
    parse_readings_csv,
    parse_readings_json,
    parse_topic,
    point_alert_candidates,
    rated_load_overrides,
    rollup,
    sensor_alert_text,
    state_at,
)

UTC = dt.UTC
T0 = dt.datetime(2025, 6, 11, 8, 0, tzinfo=CHINA_TZ)  # minute 0 of every series below
NOW = T0  # "now" for the parsers
GUID = "2O2Fr$t4X7Zf8NOew3FLOH"
# Scenario 15's point S-07: warn 20, alarm 30, control 40 mm.
S07 = Thresholds.of(upper=(20, 30, 40))
TEN_MIN, FIVE_MIN = 600, 300
DISPLACEMENT = DEFAULT_THRESHOLDS[Metric.DISPLACEMENT]
TEMPERATURE = DEFAULT_THRESHOLDS[Metric.TEMPERATURE]


def at(minute: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minute)


def held(value: float, first: int, last: int, step: int = 1) -> list[tuple[int, float]]:
    """One reading a minute (or every ``step``) from ``first`` to ``last`` inclusive."""
    return [(m, value) for m in range(first, last + 1, step)]


def series(rows) -> list[Reading]:
    return [Reading(at(row[0]), row[1], *row[2:]) for row in rows]


def test_public_names_are_all_defined() -> None:
    assert sorted(sensors.__all__) == sorted(set(sensors.__all__))
    for name in sensors.__all__:
        assert hasattr(sensors, name), name


# --- metrics and tiers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "unit", "label_zh"),
    [
        (Metric.DISPLACEMENT, "mm", "位移"),
        (Metric.SETTLEMENT, "mm", "沉降"),
        (Metric.TILT, "°", "倾斜"),
        (Metric.STRAIN, "µε", "应变"),
        (Metric.TEMPERATURE, "°C", "温度"),
        (Metric.PM25, "µg/m³", "PM2.5"),
        (Metric.PM10, "µg/m³", "PM10"),
        (Metric.NOISE, "dB(A)", "噪声"),
        (Metric.WIND, "m/s", "风速"),
        (Metric.LOAD, "t", "荷载"),
    ],
)
def test_every_metric_has_a_unit_labels_and_default_thresholds(metric, unit, label_zh) -> None:
    assert (metric.unit, metric.label_zh) == (unit, label_zh)
    assert metric.label_en
    assert isinstance(DEFAULT_THRESHOLDS[metric], Thresholds)


def test_tiers_are_ordered_and_map_onto_the_regional_lights() -> None:
    assert sorted(Tier, key=lambda t: t.rank) == [Tier.OK, Tier.WARN, Tier.ALARM, Tier.CONTROL]
    assert dict(TIER_LIGHTS) == {
        Tier.OK: Light.GREEN,
        Tier.WARN: Light.YELLOW,
        Tier.ALARM: Light.RED,
        Tier.CONTROL: Light.RED,
    }
    assert [t.label_zh for t in Tier] == ["正常", "预警", "报警", "控制"]
    assert Tier.CONTROL.light is Light.RED


# (thresholds, value, tier): a value at a bound is in that tier (≥ upper, ≤ lower).
CLASSIFY_CASES = [
    ("S-07", S07, 0.0, Tier.OK),
    ("S-07", S07, 19.99, Tier.OK),
    ("S-07", S07, 20.0, Tier.WARN),
    ("S-07", S07, 29.99, Tier.WARN),
    ("S-07", S07, 30.0, Tier.ALARM),
    ("S-07", S07, 39.99, Tier.ALARM),
    ("S-07", S07, 40.0, Tier.CONTROL),
    ("S-07", S07, 400.0, Tier.CONTROL),
    ("S-07 has no lower bounds", S07, -400.0, Tier.OK),
    ("displacement either way", DISPLACEMENT, -19.99, Tier.OK),
    ("displacement either way", DISPLACEMENT, -20.0, Tier.WARN),
    ("displacement either way", DISPLACEMENT, -30.0, Tier.ALARM),
    ("displacement either way", DISPLACEMENT, -40.5, Tier.CONTROL),
    ("curing too cold", TEMPERATURE, 5.01, Tier.OK),
    ("curing too cold", TEMPERATURE, 5.0, Tier.WARN),
    ("curing too cold", TEMPERATURE, 2.01, Tier.WARN),
    ("curing too cold", TEMPERATURE, 2.0, Tier.ALARM),
    ("curing too cold", TEMPERATURE, 0.0, Tier.CONTROL),
    ("curing too cold", TEMPERATURE, -8.0, Tier.CONTROL),
    ("curing too hot", TEMPERATURE, 59.9, Tier.OK),
    ("curing too hot", TEMPERATURE, 65.0, Tier.ALARM),
    ("curing too hot", TEMPERATURE, 70.0, Tier.CONTROL),
    ("wind has no lower bound", DEFAULT_THRESHOLDS[Metric.WIND], 0.0, Tier.OK),
    ("wind: Beaufort 6", DEFAULT_THRESHOLDS[Metric.WIND], 10.8, Tier.ALARM),
    ("load has no default", DEFAULT_THRESHOLDS[Metric.LOAD], 1e6, Tier.OK),
    ("a tier with no bounds is skipped", Thresholds.of(upper=(20, None, 40)), 35.0, Tier.WARN),
    ("only control set", Thresholds.of(upper=(None, None, 40)), 39.0, Tier.OK),
]


@pytest.mark.parametrize(("case", "thresholds", "value", "tier"), CLASSIFY_CASES)
def test_classify_takes_the_highest_tier_reached(case, thresholds, value, tier) -> None:
    assert classify(value, thresholds) is tier


# --- threshold validation and defaults ----------------------------------------------------

# (case, build, message fragment or None when valid)
VALIDATION_CASES = [
    ("upper only", lambda: Thresholds.of(upper=(20, 30, 40)), None),
    ("lower only", lambda: Thresholds.of(lower=(5, 2, 0)), None),
    ("equal bounds are allowed", lambda: Thresholds.of(upper=(30, 30, 40)), None),
    ("no bounds at all", lambda: Thresholds(), None),
    (
        "warn above alarm",
        lambda: Thresholds.of(upper=(30, 20, 40)),
        "the warn upper bound 30 is above the alarm upper bound 20",
    ),
    (
        "alarm above control",
        lambda: Thresholds.of(upper=(20, 50, 40)),
        "the alarm upper bound 50 is above the control upper bound 40",
    ),
    (
        "warn above control with alarm unset",
        lambda: Thresholds.of(upper=(50, None, 40)),
        "the warn upper bound 50 is above the control upper bound 40",
    ),
    (
        "lower bounds must fall",
        lambda: Thresholds.of(lower=(2, 5, 0)),
        "the warn lower bound 2 is below the alarm lower bound 5",
    ),
    (
        "a band crossing another tier's upper bound",
        lambda: Thresholds.of(lower=(5, None, None), upper=(None, None, 3)),
        "the warn lower bound 5 is not below the control upper bound 3",
    ),
    ("an empty band", lambda: Bounds(5, 5), "the lower bound 5 is not below the upper bound 5"),
    ("NaN", lambda: Bounds(upper=math.nan), "must be a finite number"),
    ("infinity", lambda: Bounds(lower=-math.inf), "must be a finite number"),
    ("a boolean", lambda: Bounds(upper=True), "must be a finite number"),
    ("text", lambda: Bounds(upper="30"), "must be a finite number"),
]


@pytest.mark.parametrize(("case", "build", "message"), VALIDATION_CASES, ids=[c[0] for c in VALIDATION_CASES])
def test_thresholds_must_nest(case, build, message) -> None:
    if message is None:
        build()
    else:
        with pytest.raises(InvalidInput, match=message):
            build()


def test_every_default_table_entry_is_valid_and_the_night_is_stricter() -> None:
    for thresholds in (*DEFAULT_THRESHOLDS.values(), NIGHT_NOISE_THRESHOLDS):
        Thresholds(thresholds.warn, thresholds.alarm, thresholds.control)  # re-validates
    assert NIGHT_NOISE_THRESHOLDS.alarm.upper == 55 < DEFAULT_THRESHOLDS[Metric.NOISE].alarm.upper == 70
    assert DEFAULT_THRESHOLDS[Metric.DISPLACEMENT] == Thresholds.of(upper=(20, 30, 40), lower=(-20, -30, -40))


# (case, metric, overrides, expected (warn, alarm, control) as (lower, upper) pairs)
EFFECTIVE_CASES = [
    ("no overrides", "displacement", None, ((-20, 20), (-30, 30), (-40, 40))),
    ("one bound overridden", "displacement", {"alarm_upper": 25}, ((-20, 20), (-30, 25), (-40, 40))),
    (
        "overrides move a tier together",
        Metric.DISPLACEMENT,
        ThresholdOverrides(warn_upper=25, alarm_upper=35),
        ((-20, 25), (-30, 35), (-40, 40)),
    ),
    (
        "−inf switches a lower bound off",
        "temperature",
        {"warn_lower": -math.inf},
        ((None, 60), (2, 65), (0, 70)),
    ),
    (
        "+inf switches an upper bound off",
        "pm10",
        {"control_upper": math.inf},
        ((None, 150), (None, 250), (None, None)),
    ),
    (
        "load: set per point from the rated load",
        "load",
        rated_load_overrides(10),
        ((None, 9), (None, 10), (None, 11)),
    ),
    ("load without overrides never fires", "load", None, ((None, None),) * 3),
]


@pytest.mark.parametrize(
    ("case", "metric", "overrides", "expected"), EFFECTIVE_CASES, ids=[c[0] for c in EFFECTIVE_CASES]
)
def test_a_null_bound_inherits_the_type_default(case, metric, overrides, expected) -> None:
    result = effective_thresholds(metric, overrides)
    got = tuple((b.lower, b.upper) for b in (result.warn, result.alarm, result.control))
    assert got == tuple(tuple(pytest.approx(v) if v is not None else None for v in pair) for pair in expected)


@pytest.mark.parametrize(
    ("metric", "overrides", "message"),
    [
        # The inherited alarm bound (30) now sits inside the overridden warn bound.
        (
            "displacement",
            {"warn_upper": 35},
            "displacement thresholds: the warn upper bound 35 is above the alarm",
        ),
        ("temperature", {"control_lower": 3}, "the alarm lower bound 2 is below the control lower bound 3"),
        ("displacement", {"warn_uper": 1}, "unknown threshold field"),
        ("lux", None, "unknown metric 'lux'"),
        ("displacement", {"warn_upper": -math.inf}, "use ±inf only to switch a bound off"),
        ("displacement", {"alarm_upper": "30"}, "alarm_upper must be a number"),
        ("displacement", {"alarm_upper": math.nan}, "alarm_upper must be a number"),
    ],
)
def test_overrides_that_break_the_nesting_are_refused(metric, overrides, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        effective_thresholds(metric, overrides)


def test_a_deployment_can_replace_the_default_table() -> None:
    local = {Metric.NOISE: Thresholds.of(upper=(60, 65, 70))}
    assert effective_thresholds("noise", {"warn_upper": 62}, defaults=local).warn.upper == 62
    assert effective_thresholds("noise", defaults=local).alarm.upper == 65
    assert effective_thresholds("wind", defaults=local) == Thresholds()  # not in the table: unbounded


def test_rated_load_must_be_positive() -> None:
    with pytest.raises(InvalidInput, match="positive"):
        rated_load_overrides(0)


# --- persistence (scenario 15) --------------------------------------------------------------

# (case, readings as (minute, value[, quality]), persist_s, now (minute), thresholds,
#  expected (tier, since minute, value, pending, pending fires minute))
PERSISTENCE_CASES = [
    (
        "scenario 15: 32 mm held 10 min with persist 10 min raises the alarm",
        held(32, 0, 10),
        TEN_MIN,
        10,
        S07,
        (Tier.ALARM, 10, 32, None, None),
    ),
    (
        "32 mm held 9 min: not yet (alarm pending, due at minute 10)",
        held(32, 0, 9),
        TEN_MIN,
        9,
        S07,
        (Tier.OK, None, None, Tier.ALARM, 10),
    ),
    (
        "a single 45 mm spike with persist 5 min raises nothing",
        [*held(10, 0, 4), (5, 45), *held(10, 6, 12)],
        FIVE_MIN,
        12,
        S07,
        (Tier.OK, None, None, None, None),
    ),
    (
        "a spike as the latest reading is only pending",
        [*held(10, 0, 4), (5, 45)],
        FIVE_MIN,
        5,
        S07,
        (Tier.OK, None, None, Tier.CONTROL, 10),
    ),
    ("persist 0: the first reading fires", [(0, 45)], 0, 0, S07, (Tier.CONTROL, 0, 45, None, None)),
    ("persist 0: 25 mm is a warning", [(0, 25)], 0, 0, S07, (Tier.WARN, 0, 25, None, None)),
    ("exactly at the alarm bound, held", held(30, 0, 10), TEN_MIN, 10, S07, (Tier.ALARM, 10, 30, None, None)),
    (
        "just below the alarm bound, held: a warning",
        held(29.99, 0, 10),
        TEN_MIN,
        10,
        S07,
        (Tier.WARN, 10, 29.99, None, None),
    ),
    (
        "control readings count towards the alarm window",
        [*held(45, 0, 3), *held(32, 4, 10)],
        TEN_MIN,
        10,
        S07,
        (Tier.ALARM, 10, 32, None, None),
    ),
    (
        "41 mm held after the alarm escalates to control",
        [*held(32, 0, 10), *held(41, 11, 21)],
        TEN_MIN,
        21,
        S07,
        (Tier.CONTROL, 21, 41, None, None),
    ),
    (
        "41 mm held 9 min: still the alarm, control pending",
        [*held(32, 0, 10), *held(41, 11, 20)],
        TEN_MIN,
        20,
        S07,
        (Tier.ALARM, 10, 32, Tier.CONTROL, 21),
    ),
    (
        "clears at the first reading back in range",
        [*held(32, 0, 10), (11, 15)],
        TEN_MIN,
        11,
        S07,
        (Tier.OK, None, None, None, None),
    ),
    (
        "alarm drops to warn at a reading between the bounds (warn has held all along)",
        [*held(32, 0, 10), (11, 25)],
        TEN_MIN,
        11,
        S07,
        (Tier.WARN, 10, 32, None, None),
    ),
    (
        "control drops to alarm at once",
        [*held(32, 0, 10), *held(41, 11, 21), (22, 35)],
        TEN_MIN,
        22,
        S07,
        (Tier.ALARM, 10, 32, None, None),
    ),
    (
        "a dip below the alarm bound restarts its window",
        [*held(32, 0, 5), (6, 29), *held(32, 7, 12)],
        TEN_MIN,
        12,
        S07,
        (Tier.WARN, 10, 32, Tier.ALARM, 17),
    ),
    (
        "sparse readings: two 10 min apart",
        [(0, 32), (10, 32)],
        TEN_MIN,
        10,
        S07,
        (Tier.ALARM, 10, 32, None, None),
    ),
    (
        "readings after now are not seen yet",
        held(32, 0, 20),
        TEN_MIN,
        9,
        S07,
        (Tier.OK, None, None, Tier.ALARM, 10),
    ),
    (
        "a reading flagged bad neither breaks nor clears the run",
        [*held(32, 0, 4), (5, 0.0, Quality.BAD), *held(32, 6, 10)],
        TEN_MIN,
        10,
        S07,
        (Tier.ALARM, 10, 32, None, None),
    ),
    (
        "a suspect reading counts",
        [*held(32, 0, 4), (5, 0.0, Quality.SUSPECT), *held(32, 6, 10)],
        TEN_MIN,
        10,
        S07,
        (Tier.OK, None, None, Tier.ALARM, 16),  # 0.0 broke the warn run too
    ),
    (
        "order does not matter",
        list(reversed(held(32, 0, 10))),
        TEN_MIN,
        10,
        S07,
        (Tier.ALARM, 10, 32, None, None),
    ),
    (
        "curing at 1 °C held: an alarm on the lower bound",
        held(1.0, 0, 10),
        TEN_MIN,
        10,
        TEMPERATURE,
        (Tier.ALARM, 10, 1.0, None, None),
    ),
    (
        "curing at exactly 5 °C held: a warning",
        held(5.0, 0, 10),
        TEN_MIN,
        10,
        TEMPERATURE,
        (Tier.WARN, 10, 5.0, None, None),
    ),
]


@pytest.mark.parametrize(
    ("case", "rows", "persist_s", "now", "thresholds", "expected"),
    PERSISTENCE_CASES,
    ids=[c[0] for c in PERSISTENCE_CASES],
)
def test_a_tier_is_in_force_only_after_it_persisted(case, rows, persist_s, now, thresholds, expected) -> None:
    state = evaluate_point(series(rows), thresholds=thresholds, persist_s=persist_s, now=at(now))
    tier, since, value, pending, fires = expected
    assert state.tier is tier
    assert state.since == (None if since is None else at(since))
    assert state.value == value
    assert state.pending is pending
    assert state.pending_fires_at == (None if fires is None else at(fires))
    assert state.light is TIER_LIGHTS[tier]


def test_the_state_names_the_bound_the_side_and_the_spike() -> None:
    spike = evaluate_point(
        series([*held(10, 0, 4), (5, 45), *held(10, 6, 12)]), thresholds=S07, persist_s=300, now=at(12)
    )
    assert (spike.tier, spike.peak_tier, spike.peak_value, spike.peak_at) == (
        Tier.OK,
        Tier.CONTROL,
        45,
        at(5),
    )
    assert (spike.latest, spike.latest_tier) == (Reading(at(12), 10), Tier.OK)

    alarm = evaluate_point(series(held(32, 0, 10)), thresholds=S07, persist_s=600, now=at(10))
    assert (alarm.bound, alarm.side, alarm.exceeding_since) == (30, "upper", at(0))

    cold = evaluate_point(series(held(1.0, 0, 10)), thresholds=TEMPERATURE, persist_s=600, now=at(10))
    assert (cold.bound, cold.side) == (2, "lower")

    empty = evaluate_point([], thresholds=S07, persist_s=600, now=at(0))
    assert (empty.tier, empty.latest, empty.peak_tier, empty.condition) == (
        Tier.OK,
        None,
        Tier.OK,
        Condition.NO_DATA,
    )


def test_two_readings_at_one_timestamp_the_later_given_wins() -> None:
    rows = [*held(32, 0, 9), (10, 32.0), (10, 12.0)]
    assert evaluate_point(series(rows), thresholds=S07, persist_s=600, now=at(10)).tier is Tier.OK


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"persist_s": -1}, InvalidInput),
        ({"persist_s": math.inf}, InvalidInput),
        ({"heartbeat_timeout_s": 0}, InvalidInput),
        ({"now": dt.datetime(2025, 6, 11, 8)}, ValueError),  # naive
    ],
)
def test_bad_settings_are_refused(kwargs, error) -> None:
    with pytest.raises(error):
        evaluate_point(series(held(32, 0, 1)), **{"thresholds": S07, "persist_s": 60, "now": at(1), **kwargs})


def test_naive_reading_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        evaluate_point([Reading(dt.datetime(2025, 6, 11, 8), 1.0)], thresholds=S07, persist_s=0, now=at(0))


# --- scenario 15 through the alert engine -------------------------------------------------


def run_alerts(rows, *, persist_s, minutes) -> tuple[list[tuple[int, str, str]], list[OpenAlert]]:
    """Evaluate S-07 every minute and reconcile with a store as the server will: returns the
    writes as (minute, create | update | resolve, tier) and the store at the end."""
    readings = series(rows)
    store: list[OpenAlert] = []
    writes: list[tuple[int, str, str]] = []
    for minute in minutes:
        state = evaluate_point(readings, thresholds=S07, persist_s=persist_s, now=at(minute))
        candidates = point_alert_candidates(
            state, point_code="S-07", metric="displacement", element_global_id=GUID
        )
        plan = reconcile(candidates, store, now=at(minute), cooldown_minutes={SENSOR_THRESHOLD: 0})
        for candidate in plan.create:
            store.append(
                OpenAlert(
                    len(store) + 1,
                    candidate.rule_code,
                    candidate.subject_key,
                    "open",
                    candidate.level,
                    candidate.value,
                    None,
                )
            )
            writes.append((minute, "create", str(candidate.facts["tier"])))
        for alert_id, candidate in plan.update:
            store[alert_id - 1] = replace(store[alert_id - 1], level=candidate.level, value=candidate.value)
            writes.append((minute, "update", str(candidate.facts["tier"])))
        for alert_id in plan.resolve:
            store[alert_id - 1] = replace(store[alert_id - 1], status="resolved", resolved_at=at(minute))
            writes.append((minute, "resolve", "ok"))
    return writes, store


def test_scenario_15_one_alarm_escalating_to_control_on_the_same_alert() -> None:
    rows = [*held(32, 0, 10), *held(41, 11, 21), *held(12, 22, 25)]
    writes, store = run_alerts(rows, persist_s=TEN_MIN, minutes=range(26))
    assert writes == [(10, "create", "alarm"), (21, "update", "control"), (22, "resolve", "ok")]
    assert [(a.rule_code, a.subject_key, a.level, a.status) for a in store] == [
        (SENSOR_THRESHOLD, "S-07", Light.RED, "resolved")
    ]


def test_scenario_15_a_single_spike_never_reaches_the_alert_engine() -> None:
    rows = [*held(10, 0, 4), (5, 45), *held(10, 6, 15)]
    writes, store = run_alerts(rows, persist_s=FIVE_MIN, minutes=range(16))
    assert (writes, store) == ([], [])


def test_the_alarm_candidate_carries_what_the_message_and_the_model_need() -> None:
    state = evaluate_point(series(held(32, 0, 10)), thresholds=S07, persist_s=TEN_MIN, now=at(10))
    (candidate,) = point_alert_candidates(
        state, point_code="S-07", metric=Metric.DISPLACEMENT, element_global_id=GUID, device_code="D-3"
    )
    assert (candidate.rule_code, candidate.kind, candidate.subject_type, candidate.subject_key) == (
        SENSOR_THRESHOLD,
        SENSOR_THRESHOLD,
        "sensor_point",
        "S-07",
    )
    assert (candidate.level, candidate.value) == (Light.RED, 32)
    assert candidate.facts == {
        "point": "S-07",
        "metric": "displacement",
        "unit": "mm",
        "value": 32,
        "tier": "alarm",
        "bound": 30,
        "side": "upper",
        "since": at(10).isoformat(),
        "exceeding_since": at(0).isoformat(),
        "element_global_id": GUID,
        "device": "D-3",
    }
    json.dumps(candidate.facts)  # stored as JSON with the alert
    assert sensor_alert_text(candidate) == "监测点 S-07 位移 32 mm，达到报警值（上限 30 mm）"
    assert (
        sensor_alert_text(candidate, "en-GB")
        == "Point S-07 displacement 32 mm reached the alarm limit (upper 30 mm)"
    )


def test_nothing_in_force_raises_nothing() -> None:
    state = evaluate_point(series(held(32, 0, 9)), thresholds=S07, persist_s=TEN_MIN, now=at(9))
    assert point_alert_candidates(state, point_code="S-07", metric="displacement") == []


def test_a_cold_pour_reads_as_a_lower_limit() -> None:
    state = evaluate_point(series(held(0.0, 0, 10)), thresholds=TEMPERATURE, persist_s=TEN_MIN, now=at(10))
    (candidate,) = point_alert_candidates(state, point_code="T-01", metric="temperature")
    assert (candidate.facts["tier"], candidate.facts["side"], candidate.facts["bound"]) == (
        "control",
        "lower",
        0,
    )
    assert sensor_alert_text(candidate) == "监测点 T-01 温度 0 °C，达到控制值（下限 0 °C）"
    assert sensor_alert_text((candidate.kind, candidate.facts), "en") == (
        "Point T-01 temperature 0 °C reached the control limit (lower 0 °C)"
    )
    with pytest.raises(ValueError, match="fr"):
        sensor_alert_text(candidate, "fr")


# --- offline --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("silent_s", "expected"),
    [(None, True), (0, False), (600, False), (601, True), (-60, False)],  # -60: seen after now (skew)
)
def test_offline_after_more_than_the_heartbeat_timeout(silent_s, expected) -> None:
    last_seen = None if silent_s is None else at(30) - dt.timedelta(seconds=silent_s)
    assert is_offline(last_seen, heartbeat_timeout_s=600, now=at(30)) is expected


def test_a_device_silent_in_alarm_stays_in_alarm_and_is_offline() -> None:
    readings = series(held(32, 0, 10))
    state = evaluate_point(readings, thresholds=S07, persist_s=TEN_MIN, now=at(30), heartbeat_timeout_s=600)
    assert (state.tier, state.offline, state.last_seen, state.condition) == (
        Tier.ALARM,
        True,
        at(10),
        Condition.ALARM,
    )
    threshold, offline = point_alert_candidates(
        state, point_code="S-07", metric="displacement", device_code="D-3"
    )
    assert threshold.subject_key == "S-07"
    assert (offline.rule_code, offline.subject_type, offline.subject_key, offline.level, offline.value) == (
        SENSOR_OFFLINE,
        "sensor_device",
        "D-3",
        Light.YELLOW,
        None,
    )
    assert offline.facts == {"device": "D-3", "last_seen": at(10).isoformat(), "heartbeat_timeout_s": 600}
    assert sensor_alert_text(offline) == "设备 D-3 离线：最后上报 2025-06-11 08:10（超过 10 分钟无数据）"
    assert (
        sensor_alert_text(offline, "en")
        == "Device D-3 offline: last seen 2025-06-11 08:10 (silent for more than 10 min)"
    )


def test_a_heartbeat_keeps_a_device_online_and_no_timeout_means_no_verdict() -> None:
    readings = series(held(5, 0, 10))
    beat = evaluate_point(
        readings, thresholds=S07, persist_s=0, now=at(30), last_seen=at(25), heartbeat_timeout_s=600
    )
    assert (beat.offline, beat.last_seen, beat.condition) == (False, at(25), Condition.OK)
    unjudged = evaluate_point(readings, thresholds=S07, persist_s=0, now=at(30))
    assert unjudged.offline is False
    silent = evaluate_point(readings, thresholds=S07, persist_s=0, now=at(30), heartbeat_timeout_s=600)
    assert silent.condition is Condition.OFFLINE
    (candidate,) = point_alert_candidates(silent, point_code="S-07", metric="displacement")
    assert (candidate.subject_type, candidate.subject_key, candidate.facts["point"]) == (
        "sensor_point",
        "S-07",
        "S-07",
    )


def test_points_of_one_offline_device_raise_one_alert() -> None:
    state = evaluate_point([], thresholds=S07, persist_s=0, now=at(0), heartbeat_timeout_s=600)
    candidates = [
        c
        for code in ("S-07", "S-08")
        for c in point_alert_candidates(state, point_code=code, metric="displacement", device_code="D-3")
    ]
    plan = reconcile(candidates, [], now=at(0), cooldown_minutes={})
    assert [(c.rule_code, c.subject_key) for c in plan.create] == [(SENSOR_OFFLINE, "D-3")]
    assert sensor_alert_text(plan.create[0]) == "设备 D-3 离线：从未上报（超过 10 分钟无数据）"


# --- time travel and the viewer ---------------------------------------------------------------

TIMELINE = [*held(32, 0, 10), *held(41, 11, 21), (22, 15)]


@pytest.mark.parametrize(
    ("minute", "tier", "pending"),
    [
        (-1, Tier.OK, None),  # before the first reading
        (5, Tier.OK, Tier.ALARM),
        (10, Tier.ALARM, None),
        (15, Tier.ALARM, Tier.CONTROL),
        (21, Tier.CONTROL, None),
        (22, Tier.OK, None),
        (90, Tier.OK, None),
    ],
)
def test_state_at_a_past_time_ignores_later_readings(minute, tier, pending) -> None:
    state = state_at(series(TIMELINE), thresholds=S07, persist_s=TEN_MIN, at=at(minute))
    assert (state.tier, state.pending, state.at) == (tier, pending, at(minute))
    # The same as if the later readings did not exist yet.
    earlier = [r for r in series(TIMELINE) if r.ts <= at(minute)]
    assert evaluate_point(earlier, thresholds=S07, persist_s=TEN_MIN, now=at(minute)) == state


def test_state_at_judges_offline_from_the_readings_of_the_time() -> None:
    state = state_at(series(held(5, 0, 10)), thresholds=S07, persist_s=0, at=at(25), heartbeat_timeout_s=600)
    assert (state.offline, state.condition) == (True, Condition.OFFLINE)
    assert (
        state_at(
            series(held(5, 0, 10)), thresholds=S07, persist_s=0, at=at(15), heartbeat_timeout_s=600
        ).offline
        is False
    )


def test_a_window_cut_as_documented_gives_the_same_tier_as_the_full_history() -> None:
    rng = random.Random(15)
    for _ in range(300):
        minute, rows = 0.0, []
        for _ in range(rng.randint(1, 40)):
            minute += rng.choice((0.5, 1, 1, 2, 7))
            rows.append((minute, rng.choice((5, 19.9, 20, 25, 30, 35, 40, 45))))
        persist_s = rng.choice((0, 60, 300, 600))
        readings = series(rows)
        now = readings[-1].ts + dt.timedelta(minutes=rng.choice((0, 3)))
        latest = max(r.ts for r in readings if r.ts <= now)
        before = [r.ts for r in readings if r.ts <= latest - dt.timedelta(seconds=persist_s)]
        cut = max(before) if before else min(r.ts for r in readings)
        window = [r for r in readings if r.ts >= cut]
        full = evaluate_point(readings, thresholds=S07, persist_s=persist_s, now=now)
        part = evaluate_point(window, thresholds=S07, persist_s=persist_s, now=now)
        assert (part.tier, part.pending, part.latest_tier) == (full.tier, full.pending, full.latest_tier), (
            rows
        )


def test_the_viewer_colours_each_element_by_its_worst_point() -> None:
    def state(tier=Tier.OK, *, offline=False, seen=True) -> PointState:
        latest = Reading(at(0), 1.0) if seen else None
        return PointState(at(0), tier, latest=latest, offline=offline, last_seen=at(0) if seen else None)

    links = [
        ("wall", state(Tier.ALARM)),
        ("wall", state(offline=True)),
        ("slab", state()),
        ("slab", state(offline=True)),
        ("column", state(Tier.WARN, offline=True)),
        ("beam", state(seen=False)),
        (None, state(Tier.CONTROL)),
    ]
    assert element_states(links) == {
        "beam": Condition.NO_DATA,
        "column": Condition.WARN,
        "slab": Condition.OFFLINE,
        "wall": Condition.ALARM,
    }


# --- day and night noise --------------------------------------------------------------------

NOISE = DayNightThresholds(day=DEFAULT_THRESHOLDS[Metric.NOISE], night=NIGHT_NOISE_THRESHOLDS)


@pytest.mark.parametrize(
    ("local_time", "tier"),
    [
        (dt.time(21, 59), Tier.OK),  # day: 58 < 65
        (dt.time(22, 0), Tier.ALARM),  # night: 55 ≤ 58 < 60
        (dt.time(3, 0), Tier.ALARM),
        (dt.time(5, 59), Tier.ALARM),
        (dt.time(6, 0), Tier.OK),
    ],
)
def test_noise_is_judged_by_the_limit_of_its_hour(local_time, tier) -> None:
    ts = dt.datetime.combine(dt.date(2025, 6, 11), local_time, tzinfo=CHINA_TZ)
    assert classify(58, NOISE.at(ts.astimezone(UTC))) is tier


def test_night_begins_mid_window() -> None:
    evening = dt.datetime(2025, 6, 11, 21, 50, tzinfo=CHINA_TZ)
    readings = [Reading(evening + dt.timedelta(minutes=m), 58) for m in range(21)]
    state = evaluate_point(readings, thresholds=NOISE, persist_s=TEN_MIN, now=readings[-1].ts)
    night = evening + dt.timedelta(minutes=10)
    assert (state.tier, state.exceeding_since, state.since, state.bound) == (
        Tier.ALARM,
        night,
        night + dt.timedelta(minutes=10),
        55,
    )


# --- parsing ------------------------------------------------------------------------------

TS = "2025-06-11T07:59:00+08:00"
TS_UTC = dt.datetime(2025, 6, 10, 23, 59, tzinfo=UTC)
EPOCH = int(TS_UTC.timestamp())


def ok(value=32.5, point="S-07", ts=TS_UTC, quality=Quality.GOOD) -> ParsedReading:
    return ParsedReading(point, ts, value, quality)


# (case, JSON object, expected reading or reject code)
JSON_CASES = [
    ("ISO 8601 with offset", {"point": "S-07", "ts": TS, "value": 32.5}, ok()),
    ("ISO 8601 in UTC", {"point": "S-07", "ts": "2025-06-10T23:59:00Z", "value": 32.5}, ok()),
    ("epoch seconds", {"point": "S-07", "ts": EPOCH, "value": 32.5}, ok()),
    (
        "epoch milliseconds",
        {"point": "S-07", "ts": EPOCH * 1000 + 250, "value": 32.5},
        ok(ts=TS_UTC.replace(microsecond=250_000)),
    ),
    ("epoch as digits", {"point": "S-07", "ts": str(EPOCH), "value": 32.5}, ok()),
    ("value as decimal text", {"point": "S-07", "ts": TS, "value": " 32.5 "}, ok()),
    ("an integer value", {"point": "S-07", "ts": TS, "value": 32}, ok(32.0)),
    (
        "quality in any case",
        {"point": "S-07", "ts": TS, "value": 32.5, "quality": "BAD"},
        ok(quality=Quality.BAD),
    ),
    ("unknown fields are ignored", {"point": " S-07 ", "ts": TS, "value": 32.5, "rssi": -70}, ok()),
    ("a Chinese point code", {"point": "基坑-S07", "ts": TS, "value": 32.5}, ok(point="基坑-S07")),
    (
        "5 min ahead is clock skew",
        {"point": "S-07", "ts": "2025-06-11T08:05:00+08:00", "value": 1},
        ok(1.0, ts=dt.datetime(2025, 6, 11, 0, 5, tzinfo=UTC)),
    ),
    ("naive: ambiguous", {"point": "S-07", "ts": "2025-06-11T07:59:00", "value": 1}, RejectCode.TS),
    ("not ISO", {"point": "S-07", "ts": "2025/06/11 07:59", "value": 1}, RejectCode.TS),
    ("far future", {"point": "S-07", "ts": "2025-06-11T08:05:01+08:00", "value": 1}, RejectCode.TS),
    ("clock never set", {"point": "S-07", "ts": 0, "value": 1}, RejectCode.TS),
    ("ts missing", {"point": "S-07", "value": 1}, RejectCode.TS),
    ("ts a boolean", {"point": "S-07", "ts": True, "value": 1}, RejectCode.TS),
    ("ts NaN", {"point": "S-07", "ts": math.nan, "value": 1}, RejectCode.TS),
    ("value NaN", {"point": "S-07", "ts": TS, "value": math.nan}, RejectCode.VALUE),
    ("value 'NaN'", {"point": "S-07", "ts": TS, "value": "NaN"}, RejectCode.VALUE),
    ("value infinite", {"point": "S-07", "ts": TS, "value": "1e999"}, RejectCode.VALUE),
    ("value too large for a float", {"point": "S-07", "ts": TS, "value": 10**400}, RejectCode.VALUE),
    ("value a boolean", {"point": "S-07", "ts": TS, "value": True}, RejectCode.VALUE),
    ("value text", {"point": "S-07", "ts": TS, "value": "32 mm"}, RejectCode.VALUE),
    ("value with underscores", {"point": "S-07", "ts": TS, "value": "1_000"}, RejectCode.VALUE),
    ("value missing", {"point": "S-07", "ts": TS}, RejectCode.VALUE),
    ("value a list", {"point": "S-07", "ts": TS, "value": [1]}, RejectCode.VALUE),
    ("point missing", {"ts": TS, "value": 1}, RejectCode.POINT),
    ("point blank", {"point": "  ", "ts": TS, "value": 1}, RejectCode.POINT),
    ("point a number", {"point": 7, "ts": TS, "value": 1}, RejectCode.POINT),
    ("point with a slash", {"point": "S/07", "ts": TS, "value": 1}, RejectCode.POINT),
    ("point too long", {"point": "S" * 65, "ts": TS, "value": 1}, RejectCode.POINT),
    ("quality unknown", {"point": "S-07", "ts": TS, "value": 1, "quality": "maybe"}, RejectCode.QUALITY),
    ("not an object", ["S-07", TS, 1], RejectCode.PAYLOAD),
]


@pytest.mark.parametrize(("case", "obj", "expected"), JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_parse_reading_json(case, obj, expected) -> None:
    result = parse_reading_json(obj, now=NOW, position=4)
    if isinstance(expected, ParsedReading):
        assert result == expected
        assert result.ts.tzinfo is UTC
    else:
        assert isinstance(result, Rejected)
        assert (result.position, result.code) == (4, expected)
        assert result.reason


def test_a_naive_timestamp_is_taken_in_the_zone_the_caller_names() -> None:
    obj = {"point": "S-07", "ts": "2025-06-11 07:59:00", "value": 32.5}
    assert parse_reading_json(obj, now=NOW, naive_tz=CHINA_TZ) == ok()


def test_the_mqtt_topic_names_the_point() -> None:
    assert parse_reading_json({"ts": TS, "value": 32.5}, now=NOW, point="S-07") == ok()
    assert parse_reading_json({"point": "S-07", "ts": TS, "value": 32.5}, now=NOW, point="S-07") == ok()
    mismatch = parse_reading_json({"point": "S-08", "ts": TS, "value": 1}, now=NOW, point="S-07")
    assert isinstance(mismatch, Rejected) and mismatch.code is RejectCode.POINT


def test_bad_items_in_a_json_batch_cost_only_themselves() -> None:
    items = [
        {"point": "S-07", "ts": TS, "value": 31},
        {"point": "S-07", "ts": TS, "value": "oops"},
        {"point": "S-07", "ts": "2025-06-11T07:58:00+08:00", "value": 32},
        "not an object",
        None,
        {"point": "S-07", "ts": "2025-06-11T07:57:00+08:00", "value": 33},
    ]
    for payload in (items, json.dumps(items), json.dumps(items).encode()):
        good, bad = parse_readings_json(payload, now=NOW)
        assert [r.value for r in good] == [31, 32, 33]
        assert [(r.position, r.code) for r in bad] == [
            (1, RejectCode.VALUE),
            (3, RejectCode.PAYLOAD),
            (4, RejectCode.PAYLOAD),
        ]
        assert '"oops"' in bad[0].raw


@pytest.mark.parametrize(
    ("payload", "point", "values", "rejected"),
    [
        ({"point": "S-07", "ts": TS, "value": 1}, None, [1], []),  # one reading
        (
            {"point": "S-07", "readings": [{"ts": TS, "value": 1}, {"ts": TS, "value": "x"}]},
            None,
            [1],
            [(1, "value")],
        ),
        ({"readings": [{"ts": TS, "value": 1}]}, "S-07", [1], []),  # point from the topic
        ({"point": "S-08", "readings": [{"ts": TS, "value": 1}]}, "S-07", [], [(None, "point")]),
        ({"point": 8, "readings": [{"ts": TS, "value": 1}]}, None, [], [(None, "point")]),
        ({"readings": {"ts": TS}}, None, [], [(None, "payload")]),
        (b"{oops", None, [], [(None, "payload")]),
        (b"\xff\xfe\x00garbage", None, [], [(None, "payload")]),
        ("42", None, [], [(None, "payload")]),
        ("[]", None, [], []),
        ('[{"point": "S-07", "ts": "' + TS + '", "value": NaN}]', None, [], [(0, "value")]),
    ],
)
def test_json_payload_shapes(payload, point, values, rejected) -> None:
    good, bad = parse_readings_json(payload, now=NOW, point=point)
    assert [r.value for r in good] == values
    assert [(r.position, r.code.value) for r in bad] == rejected
    assert all(r.point == "S-07" for r in good)


CSV = (
    "point,ts,value,quality\n"
    "S-07,2025-06-11T07:50:00+08:00,31.5,\n"  # 2
    "S-07,not a time,32,\n"  # 3: bad ts
    "S-07,2025-06-11T07:52:00+08:00,33,good\n"  # 4
    "S-07,2025-06-11T07:53:00+08:00\n"  # 5: too few fields
    "\n"  # 6: blank
    'S-07,"2025-06-11T07:54:00+08:00",34,bad\n'  # 7: quoted, flagged bad (kept)
    'S-07,"2025-06-11T07:55:00+08:00,35\n'  # 8: broken quoting
    "S-07,2025-06-11T07:56:00+08:00,36,good,extra\n"  # 9: an extra field
    "S-07,2025-06-11T07:57:00+08:00,37,,\n"  # 10: a trailing empty field is fine
    "S-07,2025-06-11T07:58:00+08:00,NaN,\n"  # 11: bad value
)


def test_bad_csv_lines_cost_only_themselves() -> None:
    good, bad = parse_readings_csv(CSV, now=NOW)
    assert [(r.value, r.quality) for r in good] == [
        (31.5, Quality.GOOD),
        (33, Quality.GOOD),
        (34, Quality.BAD),
        (37, Quality.GOOD),
    ]
    assert [(r.position, r.code) for r in bad] == [
        (3, RejectCode.TS),
        (5, RejectCode.ROW),
        (8, RejectCode.ROW),
        (9, RejectCode.ROW),
        (11, RejectCode.VALUE),
    ]
    assert bad[0].raw == "S-07,not a time,32,"


@pytest.mark.parametrize(
    ("text", "point", "values", "rejected"),
    [
        ("Value,TS,Point\n32.5,2025-06-11T07:59:00+08:00,S-07\n", None, [32.5], []),  # any order, any case
        ("\ufeffpoint,ts,value\r\nS-07,2025-06-11T07:59:00+08:00,32.5\r\n", None, [32.5], []),  # BOM, CRLF
        ("ts,value\n2025-06-11T07:59:00+08:00,32.5\n", "S-07", [32.5], []),  # point from the URL
        (f"\n\npoint,ts,value\n\nS-07,{EPOCH},32.5\n", None, [32.5], []),  # blank lines, epoch
        ("point,ts\nS-07,2025-06-11T07:59:00+08:00\n", None, [], [(1, "payload")]),  # no value column
        ("point,ts,value,ts\n", None, [], [(1, "payload")]),
        ("", None, [], [(None, "payload")]),
        ('"point,ts,value\n', None, [], [(1, "payload")]),
    ],
)
def test_csv_headers_and_layout(text, point, values, rejected) -> None:
    good, bad = parse_readings_csv(text, now=NOW, point=point)
    assert [r.value for r in good] == values
    assert [(r.position, r.code.value) for r in bad] == rejected
    assert all(r.key == ("S-07", TS_UTC) for r in good)


def test_csv_bytes_from_a_chinese_excel_are_read() -> None:
    text = "point,ts,value\n基坑-S07,2025-06-11T07:59:00+08:00,32.5\n"
    for data in (text.encode("gb18030"), text.encode("utf-8-sig"), text.encode()):
        good, bad = parse_readings_csv(data, now=NOW)
        assert (good, bad) == ([ok(point="基坑-S07")], [])


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("twin/P17/S-07", ("P17", "S-07")),
        ("twin/17/基坑-S07", ("17", "基坑-S07")),
        ("twin/P17", None),
        ("twin/P17/S-07/extra", None),
        ("site/P17/S-07", None),
        ("twin//S-07", None),
        ("twin/P17/", None),
        ("twin/+/S-07", None),
        ("twin/P17/#", None),
    ],
)
def test_parse_topic(topic, expected) -> None:
    assert parse_topic(topic) == expected


# --- idempotency ----------------------------------------------------------------------------


def test_dedupe_keeps_the_last_value_per_point_and_instant() -> None:
    same_instant = TS_UTC.astimezone(CHINA_TZ)
    batch = [ok(1.0), ok(5.0, point="S-08"), ok(2.0), ParsedReading("S-07", same_instant, 3.0)]
    assert [(r.point, r.ts, r.value) for r in dedupe(batch)] == [("S-07", TS_UTC, 3.0), ("S-08", TS_UTC, 5.0)]


def test_ingesting_a_batch_twice_changes_nothing() -> None:
    store: dict[tuple[str, dt.datetime], float] = {}

    def ingest(payload) -> int:
        good, _ = parse_readings_json(payload, now=NOW)
        for reading in dedupe(good):  # the upsert on (point, ts)
            store[reading.key] = reading.value
        return len(store)

    payload = json.dumps(
        [
            {"point": "S-07", "ts": TS, "value": 31},
            {"point": "S-07", "ts": EPOCH, "value": 32},  # the same instant, later in the batch
            {"point": "S-07", "ts": "2025-06-11T07:58:00+08:00", "value": 30},
        ]
    )
    assert ingest(payload) == 2
    first = dict(store)
    assert ingest(payload) == 2
    assert store == first == {("S-07", TS_UTC): 32, ("S-07", TS_UTC - dt.timedelta(minutes=1)): 30}


# --- aggregates -----------------------------------------------------------------------------


def reading(hh: int, mm: int, ss: int, value: float, quality=Quality.GOOD) -> Reading:
    return Reading(dt.datetime(2025, 6, 11, hh, mm, ss, tzinfo=CHINA_TZ), value, quality)


READINGS = [
    reading(8, 0, 50, 3.0),
    reading(8, 0, 10, 1.0),
    reading(8, 0, 30, 100.0, Quality.BAD),  # left out
    reading(8, 1, 0, 5.0),
    reading(8, 59, 59, 7.0),
    reading(9, 0, 0, 9.0),
]


def bucket(hh: int, mm: int) -> dt.datetime:
    return dt.datetime(2025, 6, 11, hh, mm, tzinfo=CHINA_TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (
            "minute",
            [
                (bucket(8, 0), 2, 1.0, 3.0, 2.0, 3.0),
                (bucket(8, 1), 1, 5.0, 5.0, 5.0, 5.0),
                (bucket(8, 59), 1, 7.0, 7.0, 7.0, 7.0),
                (bucket(9, 0), 1, 9.0, 9.0, 9.0, 9.0),
            ],
        ),
        ("hour", [(bucket(8, 0), 4, 1.0, 7.0, 4.0, 7.0), (bucket(9, 0), 1, 9.0, 9.0, 9.0, 9.0)]),
    ],
)
def test_aggregates_per_bucket(size, expected) -> None:
    result = aggregate(READINGS, bucket=size)
    assert [(a.bucket_start, a.count, a.min, a.max, a.mean, a.last) for a in result] == expected
    assert all(a.bucket_start.tzinfo is UTC for a in result)


def test_minutes_roll_up_into_the_same_hours() -> None:
    assert rollup(aggregate(READINGS, bucket="minute")) == aggregate(READINGS, bucket="hour")


def test_the_last_of_a_bucket_is_the_latest_and_ties_go_to_the_one_given_last() -> None:
    (agg,) = aggregate([reading(8, 0, 5, 2.0), reading(8, 0, 5, 4.0), reading(8, 0, 1, 9.0)], bucket="minute")
    assert (agg.last, agg.last_at) == (4.0, reading(8, 0, 5, 0).ts)
    assert agg == Aggregate(bucket(8, 0), 3, 2.0, 9.0, 5.0, 4.0, reading(8, 0, 5, 0).ts)


def test_only_minute_and_hour_buckets() -> None:
    with pytest.raises(ValueError, match="bucket"):
        aggregate(READINGS, bucket="day")


def test_alert_candidate_is_the_engine_type() -> None:
    state = evaluate_point(series([(0, 45)]), thresholds=S07, persist_s=0, now=at(0))
    (candidate,) = point_alert_candidates(state, point_code="S-07", metric="displacement")
    assert isinstance(candidate, AlertCandidate)
    assert candidate.kind == SENSOR_THRESHOLD  # a str today; RuleKind.SENSOR_THRESHOLD once added
