"""IoT monitoring on the twin (智慧工地): metrics and units, three-tier thresholds with a
persistence window, device offline, time travel, alert candidates, payload parsing and
aggregates (domain.md §1.5, §3.5, §3.8; scenario 15).

Pure: no I/O and no clock; ``now`` and ``at`` are arguments. The server's flow, per point::

    payload ──parse_readings_json / parse_readings_csv──► readings + rejected items (counted, logged)
    readings ──dedupe──► upsert on (point, ts)            a replayed batch changes nothing
    the point's window ──evaluate_point(thresholds, persist_s, now)──► PointState
    PointState ──point_alert_candidates──► AlertCandidate(s) ──alerts.reconcile──► one alert per point

**Thresholds** (the YFConstruction ``EqWarnManager`` model domain.md adopts). Three tiers,
预警 warn < 报警 alarm < 控制 control, each with an optional lower and upper bound; the bands
nest (warn inside alarm inside control). A value *at* a bound is in that tier — ``value ≥
upper`` or ``value ≤ lower`` — because the rule in Chinese practice is 达到 (reaching) the
报警值, not passing it. Only the highest tier a value reaches counts. A point's null bound
inherits its metric's default (``effective_thresholds``).

**Persistence.** A tier comes into force once the readings have stayed at or beyond it for
``persist_s``, measured between readings: from the first reading of the unbroken run at or
beyond the tier to a later reading of that run. A single spike never fires (with
``persist_s = 0`` the first reading does), and a device that reported once and fell silent
has not shown that anything held. A tier goes out of force at the first reading back below
it, with no hold: the state drops at once to the highest tier the readings still support
(control → alarm while the alarm run is unbroken; → OK at the first in-range reading).
Going up waits, going down does not. Why: this is YFConstruction's rule ("clears when back in
range", domain.md §1.5). It also keeps the state a function of the readings up to a moment
and nothing else, so time travel is exact, late or back-filled readings only need a
re-evaluation, and the server stores no state. A flapping value cannot re-raise without
persisting again. Readings flagged ``bad`` are skipped, so a flagged glitch never clears a
tier.

**Time.** Every datetime is aware. Parsed timestamps are normalised to UTC. Naive ones are
refused unless the caller names their time zone (``naive_tz``).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from itertools import combinations
from types import MappingProxyType

from .alerts import AlertCandidate, RuleKind
from .errors import InvalidInput
from .kpis import Light

__all__ = [
    "CHINA_TZ",
    "DEFAULT_THRESHOLDS",
    "MAX_FUTURE_S",
    "NIGHT_NOISE_THRESHOLDS",
    "SENSOR_OFFLINE",
    "SENSOR_THRESHOLD",
    "TIER_LIGHTS",
    "Aggregate",
    "Bounds",
    "Condition",
    "DayNightThresholds",
    "Metric",
    "ParsedReading",
    "PointState",
    "Quality",
    "Reading",
    "RejectCode",
    "Rejected",
    "ThresholdOverrides",
    "Thresholds",
    "Tier",
    "aggregate",
    "classify",
    "dedupe",
    "effective_thresholds",
    "element_states",
    "evaluate_point",
    "is_offline",
    "parse_reading_json",
    "parse_readings_csv",
    "parse_readings_json",
    "parse_topic",
    "point_alert_candidates",
    "rated_load_overrides",
    "rollup",
    "sensor_alert_text",
    "state_at",
]

#: China Standard Time (UTC+8, no daylight saving). Used for night hours and message times.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


# --- metrics and tiers ----------------------------------------------------------------------


class Metric(StrEnum):
    """What a monitor point measures. Readings are stored in ``unit`` and never converted."""

    DISPLACEMENT = "displacement"
    # GB 50497 monitors vertical movement (竖向位移, 沉降) as its own item with its own
    # thresholds, and a legend or message must call it 沉降, not 位移.
    SETTLEMENT = "settlement"
    TILT = "tilt"
    STRAIN = "strain"
    TEMPERATURE = "temperature"
    PM25 = "pm25"
    PM10 = "pm10"
    NOISE = "noise"
    WIND = "wind"
    LOAD = "load"

    @property
    def unit(self) -> str:
        """The unit symbol, e.g. ``"mm"``, ``"µg/m³"``, ``"dB(A)"``."""
        return _METRICS[self][0]

    @property
    def label_zh(self) -> str:
        return _METRICS[self][1]

    @property
    def label_en(self) -> str:
        return _METRICS[self][2]


# fmt: off
_METRICS: Mapping[Metric, tuple[str, str, str]] = MappingProxyType({
    # metric               unit      label_zh   label_en
    Metric.DISPLACEMENT: ("mm",     "位移",    "Displacement"),
    Metric.SETTLEMENT:   ("mm",     "沉降",    "Settlement"),
    Metric.TILT:         ("°",      "倾斜",    "Tilt"),
    Metric.STRAIN:       ("µε",     "应变",    "Strain"),
    Metric.TEMPERATURE:  ("°C",     "温度",    "Temperature"),
    Metric.PM25:         ("µg/m³",  "PM2.5",   "PM2.5"),
    Metric.PM10:         ("µg/m³",  "PM10",    "PM10"),
    Metric.NOISE:        ("dB(A)",  "噪声",    "Noise"),
    Metric.WIND:         ("m/s",    "风速",    "Wind speed"),
    Metric.LOAD:         ("t",      "荷载",    "Load"),
})
# fmt: on


class Tier(StrEnum):
    """Threshold tier, ordered OK < WARN < ALARM < CONTROL by ``rank``, not by the strings
    (预警 / 报警 / 控制; YFConstruction's ``alertType`` 0 / 1 / 2)."""

    OK = "ok"
    WARN = "warn"
    ALARM = "alarm"
    CONTROL = "control"

    @property
    def rank(self) -> int:
        """0 (ok) … 3 (control): larger is worse."""
        return _TIER_RANK[self]

    @property
    def light(self) -> Light:
        """The alert level this tier raises (``TIER_LIGHTS``)."""
        return TIER_LIGHTS[self]

    @property
    def label_zh(self) -> str:
        return _TIER_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _TIER_LABELS[self][1]


_TIER_RANK = {Tier.OK: 0, Tier.WARN: 1, Tier.ALARM: 2, Tier.CONTROL: 3}
_TIER_LABELS = {
    Tier.OK: ("正常", "normal"),
    Tier.WARN: ("预警", "warning"),
    Tier.ALARM: ("报警", "alarm"),
    Tier.CONTROL: ("控制", "control"),
}
_FIRING = (Tier.CONTROL, Tier.ALARM, Tier.WARN)  # highest first: only the highest fires

#: The regional layer's alert level for each tier. The light has only two alarm colours, so
#: alarm and control are both RED. What sets control apart is the tier in the alert's
#: facts: an unacknowledged control alert older than 30 minutes turns the project RED
#: (domain.md §3.8; ``ProjectFacts.control_alarms_unacked``), an alarm alert does not.
TIER_LIGHTS: Mapping[Tier, Light] = MappingProxyType(
    {Tier.OK: Light.GREEN, Tier.WARN: Light.YELLOW, Tier.ALARM: Light.RED, Tier.CONTROL: Light.RED}
)


# --- thresholds -----------------------------------------------------------------------------


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{what} must be a finite number, not {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Bounds:
    """One tier's limits: a value ``≤ lower`` or ``≥ upper`` is in the tier. ``None`` means
    no limit on that side. ``lower`` must be below ``upper``."""

    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        for side in ("lower", "upper"):
            value = getattr(self, side)
            if value is not None:
                object.__setattr__(self, side, _finite(value, f"a {side} bound"))
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise InvalidInput(
                f"the lower bound {_fmt(self.lower)} is not below the upper bound {_fmt(self.upper)}"
            )


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A point's three tiers. They must nest, so that a worse tier is always further out.
    Upper bounds: warn ≤ alarm ≤ control. Lower bounds: warn ≥ alarm ≥ control. Every
    lower bound must lie below every upper bound, so some values are in range. A tier with
    no bounds never fires. Equal bounds are allowed: the higher tier takes the value, so the
    lower one is never seen on that side. Breaking a rule raises ``InvalidInput``."""

    warn: Bounds = Bounds()
    alarm: Bounds = Bounds()
    control: Bounds = Bounds()

    def __post_init__(self) -> None:
        tiers = ((Tier.WARN, self.warn), (Tier.ALARM, self.alarm), (Tier.CONTROL, self.control))
        for (inner, a), (outer, b) in combinations(tiers, 2):
            if a.upper is not None and b.upper is not None and a.upper > b.upper:
                raise InvalidInput(
                    f"the {inner} upper bound {_fmt(a.upper)} is above the {outer} upper bound "
                    f"{_fmt(b.upper)}: upper bounds must rise warn ≤ alarm ≤ control"
                )
            if a.lower is not None and b.lower is not None and a.lower < b.lower:
                raise InvalidInput(
                    f"the {inner} lower bound {_fmt(a.lower)} is below the {outer} lower bound "
                    f"{_fmt(b.lower)}: lower bounds must fall warn ≥ alarm ≥ control"
                )
        for low_tier, low in tiers:
            for high_tier, high in tiers:
                if low.lower is not None and high.upper is not None and low.lower >= high.upper:
                    raise InvalidInput(
                        f"the {low_tier} lower bound {_fmt(low.lower)} is not below the {high_tier} "
                        f"upper bound {_fmt(high.upper)}: no value would be in range"
                    )

    @classmethod
    def of(
        cls,
        *,
        upper: tuple[float | None, float | None, float | None] = (None, None, None),
        lower: tuple[float | None, float | None, float | None] = (None, None, None),
    ) -> Thresholds:
        """Build from ``(warn, alarm, control)`` triples:
        ``Thresholds.of(upper=(20, 30, 40), lower=(-20, -30, -40))``."""
        return cls(*(Bounds(lo, up) for lo, up in zip(lower, upper, strict=True)))

    def bounds(self, tier: Tier) -> Bounds:
        """The bounds of ``tier`` (WARN, ALARM or CONTROL; OK has none)."""
        tier = Tier(tier)
        if tier is Tier.OK:
            raise ValueError("the OK tier has no bounds")
        return getattr(self, tier.value)


@dataclass(frozen=True, slots=True)
class DayNightThresholds:
    """Thresholds that change at night, for noise. GB 12523-2011 limits construction-site
    boundary noise to 70 dB(A) by day and 55 at night. Night is 22:00–06:00 local time
    (噪声污染防治法, 2022) [K]. Local governments may change the hours, so they are fields. Each
    reading is judged by the thresholds in force at its own timestamp."""

    day: Thresholds
    night: Thresholds
    night_from: dt.time = dt.time(22)
    night_until: dt.time = dt.time(6)
    utc_offset_h: float = 8.0

    def at(self, ts: dt.datetime) -> Thresholds:
        """The thresholds in force at ``ts`` (aware)."""
        local = ts.astimezone(dt.timezone(dt.timedelta(hours=self.utc_offset_h))).time()
        if self.night_from > self.night_until:  # night spans midnight
            night = local >= self.night_from or local < self.night_until
        else:
            night = self.night_from <= local < self.night_until
        return self.night if night else self.day


def _symmetric(warn: float, alarm: float, control: float) -> Thresholds:
    return Thresholds.of(upper=(warn, alarm, control), lower=(-warn, -alarm, -control))


# Defaults per metric. They are configuration, not law: limits are local (domain.md §1.5),
# and each point overrides any bound. [K] marks practitioner values from domain.md's legend
# that should be checked against the official text before anyone relies on them.
# fmt: off
DEFAULT_THRESHOLDS: Mapping[Metric, Thresholds] = MappingProxyType({
    # Excavation wall displacement: scenario 15's S-07 (warn 20, alarm 30, control 40 mm).
    # GB 50497-2019 sets 预警/控制 values per design, often the 预警 at 70–80 % of the 控制 [K].
    # Signed readings: movement either way counts.
    Metric.DISPLACEMENT: _symmetric(20, 30, 40),
    # Settlement takes the same values until a design sets its own. The limit for ground
    # next to a class-1 excavation is 25–35 mm in GB 50497 [K].
    Metric.SETTLEMENT:   _symmetric(20, 30, 40),
    # Tilt (°): control ≈ 4/1000 = 0.23°, the tower-crane verticality limit of GB 5144 [K].
    # Warn and alarm sit at about ½ and ¾ of it, as for displacement.
    Metric.TILT:         _symmetric(0.12, 0.17, 0.23),
    # Strain of steel struts (µε, + tension, − compression): Q235 yields at about
    # 235 MPa / 206 GPa ≈ 1140 µε, and control is about 80 % of that [K]. Set it from the design.
    Metric.STRAIN:       _symmetric(500, 700, 900),
    # Concrete curing temperature (°C). Low: below 5 °C is winter work (JGJ/T 104) and 0 °C
    # freezes young concrete [K]. High: 70 °C is a usual cap on the core temperature of mass
    # concrete (GB 50496) [K].
    Metric.TEMPERATURE:  Thresholds.of(lower=(5, 2, 0), upper=(60, 65, 70)),
    # Dust (µg/m³): warn at GB 3095-2012's grade II 24-hour limit, then the HJ 633-2012 AQI
    # breakpoints for 轻度 and 中度 pollution [K]. Those are 24-hour means and a reading is
    # not, so the persistence window does the averaging.
    Metric.PM25:         Thresholds.of(upper=(75, 115, 150)),
    Metric.PM10:         Thresholds.of(upper=(150, 250, 350)),
    # Noise (dB(A)), by day: alarm at the GB 12523-2011 limit of 70, warn 5 dB below it,
    # control 5 dB above it. Night limits: NIGHT_NOISE_THRESHOLDS.
    Metric.NOISE:        Thresholds.of(upper=(65, 70, 75)),
    # Wind at the crane (m/s). Warn at 9.0: no crane erection or dismantling (JGJ 33) [K].
    # Alarm at 10.8, Beaufort 6 (六级风): stop lifting [K]. Control at 20, the in-service
    # design wind of tower cranes (GB/T 13752, 250 Pa) [K], the limit hard-coded in
    # linqiu126/mfunhcu [S].
    Metric.WIND:         Thresholds.of(upper=(9.0, 10.8, 20.0)),
    # Load (t) depends on the crane and the radius (or on the formwork design), so there is
    # no default. Set it per point; rated_load_overrides gives 90/100/110 % of rated.
    Metric.LOAD:         Thresholds(),
})
# fmt: on

#: Night noise (dB(A)): alarm at GB 12523-2011's night limit of 55, warn and control 5 dB away.
NIGHT_NOISE_THRESHOLDS = Thresholds.of(upper=(50, 55, 60))


@dataclass(frozen=True, slots=True)
class ThresholdOverrides:
    """A monitor point's own bounds (the six columns of ``MonitorPoint``). ``None``
    inherits the metric's default. To switch a default bound off at a point, override it
    with ``math.inf`` (upper) or ``-math.inf`` (lower)."""

    warn_lower: float | None = None
    warn_upper: float | None = None
    alarm_lower: float | None = None
    alarm_upper: float | None = None
    control_lower: float | None = None
    control_upper: float | None = None

    def __post_init__(self) -> None:
        for name in _OVERRIDE_NAMES:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise InvalidInput(f"{name} must be a number, not {value!r}")
            if value == (-math.inf if name.endswith("upper") else math.inf):
                raise InvalidInput(f"{name} cannot be {value}: use ±inf only to switch a bound off")
            object.__setattr__(self, name, float(value))


_OVERRIDE_NAMES = tuple(f.name for f in fields(ThresholdOverrides))


def _metric(metric: Metric | str) -> Metric:
    try:
        return Metric(metric)
    except ValueError:
        raise InvalidInput(f"unknown metric '{metric}' ({', '.join(m.value for m in Metric)})") from None


def effective_thresholds(
    metric: Metric | str,
    overrides: ThresholdOverrides | Mapping[str, float | None] | None = None,
    *,
    defaults: Mapping[Metric, Thresholds] = DEFAULT_THRESHOLDS,
) -> Thresholds:
    """The thresholds a point of ``metric`` works to. Each bound is the point's override,
    or the metric's default where the override is ``None``. An override of ±inf removes
    the bound. ``overrides`` may be a mapping with the ``ThresholdOverrides`` field names.
    Raises ``InvalidInput`` when the result does not nest, for example an inherited warn
    bound left outside an overridden alarm bound. ``defaults`` is the deployment's table.

    >>> effective_thresholds("displacement", {"alarm_upper": 25}).alarm
    Bounds(lower=-30.0, upper=25.0)
    """
    metric = _metric(metric)
    if overrides is None:
        overrides = ThresholdOverrides()
    elif not isinstance(overrides, ThresholdOverrides):
        unknown = sorted(set(overrides) - set(_OVERRIDE_NAMES))
        if unknown:
            raise InvalidInput(
                f"unknown threshold field(s) {', '.join(unknown)} ({', '.join(_OVERRIDE_NAMES)})"
            )
        overrides = ThresholdOverrides(**overrides)
    base = defaults.get(metric, Thresholds())

    def pick(override: float | None, default: float | None) -> float | None:
        if override is None:
            return default
        return None if math.isinf(override) else override

    try:
        return Thresholds(
            *(
                Bounds(
                    pick(getattr(overrides, f"{tier}_lower"), base.bounds(tier).lower),
                    pick(getattr(overrides, f"{tier}_upper"), base.bounds(tier).upper),
                )
                for tier in (Tier.WARN, Tier.ALARM, Tier.CONTROL)
            )
        )
    except InvalidInput as error:
        raise InvalidInput(f"{metric} thresholds: {error.detail}") from None


def rated_load_overrides(rated_t: float) -> ThresholdOverrides:
    """Load bounds for a crane or a support with a rated load of ``rated_t`` tonnes: warn at
    90 %, alarm at 100 %, control at 110 %. These are the 起重量限制器 stages (GB 12602) [K]."""
    rated = _finite(rated_t, "the rated load")
    if rated <= 0:
        raise InvalidInput("the rated load must be positive")
    return ThresholdOverrides(warn_upper=0.9 * rated, alarm_upper=rated, control_upper=1.1 * rated)


def _crossing(value: float, thresholds: Thresholds) -> tuple[Tier, float | None, str | None]:
    """(highest tier reached, its bound, "upper" | "lower"); ``(OK, None, None)`` in range."""
    for tier in _FIRING:
        bounds = thresholds.bounds(tier)
        if bounds.upper is not None and value >= bounds.upper:
            return tier, bounds.upper, "upper"
        if bounds.lower is not None and value <= bounds.lower:
            return tier, bounds.lower, "lower"
    return Tier.OK, None, None


def classify(value: float, thresholds: Thresholds) -> Tier:
    """The tier ``value`` is in: the highest one whose band it reaches (``≥ upper`` or
    ``≤ lower``; at the bound counts), OK when it is inside every band.

    >>> classify(30.0, DEFAULT_THRESHOLDS[Metric.DISPLACEMENT])
    <Tier.ALARM: 'alarm'>
    """
    return _crossing(value, thresholds)[0]


# --- readings and the state of a point ------------------------------------------------------


class Quality(StrEnum):
    """A reading's quality flag, as the device or the gateway reports it. ``bad`` readings
    are stored but play no part in the state or the aggregates."""

    GOOD = "good"
    SUSPECT = "suspect"
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one point at an aware timestamp, in the metric's unit."""

    ts: dt.datetime
    value: float
    quality: Quality = Quality.GOOD


class Condition(StrEnum):
    """What the viewer's ``sensors`` colour mode shows for a point, ordered by ``rank``.
    A threshold tier outranks offline: a device that went silent while in alarm stays in
    alarm. Offline outranks OK, because silence says nothing is known."""

    NO_DATA = "no_data"
    OK = "ok"
    OFFLINE = "offline"
    WARN = "warn"
    ALARM = "alarm"
    CONTROL = "control"

    @property
    def rank(self) -> int:
        return _CONDITION_RANK[self]


_CONDITION_RANK = {condition: rank for rank, condition in enumerate(Condition)}


@dataclass(frozen=True, slots=True)
class PointState:
    """A monitor point at ``at``, as ``evaluate_point`` judges it.

    * ``tier``: the tier in force, the one the alert carries. OK when nothing has persisted.
      ``since`` is the reading that completed the persistence window, and ``value`` is that
      reading's value: the trigger, which stays fixed while the tier holds. ``bound`` and
      ``side`` ("upper" | "lower") are the limit of ``tier`` that the trigger crossed.
      ``exceeding_since`` is the first reading of the run at or beyond ``tier``.
    * ``pending``: a higher tier that the latest reading reaches but that has not yet
      persisted. ``pending_since`` is when its run began and ``pending_fires_at`` when it
      will fire if a reading then confirms it. All three are ``None`` otherwise.
    * ``latest``: the latest reading considered. ``latest_tier`` is that reading's own
      tier, without persistence.
    * ``peak_tier``: the highest tier any single reading passed in reached, spikes included.
      ``peak_value`` and ``peak_at`` are the first reading that reached it.
    * ``last_seen``: the device's latest message. ``offline`` is ``is_offline`` at ``at``,
      always False when no heartbeat timeout was given.

    The times since the start of a run (``exceeding_since``, ``since``, ``pending_since``)
    are the earliest the readings passed in show. If the window was cut they may be later
    than the truth. ``tier`` is exact either way (see ``evaluate_point``).
    """

    at: dt.datetime
    tier: Tier
    since: dt.datetime | None = None
    value: float | None = None
    bound: float | None = None
    side: str | None = None
    exceeding_since: dt.datetime | None = None
    pending: Tier | None = None
    pending_since: dt.datetime | None = None
    pending_fires_at: dt.datetime | None = None
    latest: Reading | None = None
    latest_tier: Tier = Tier.OK
    peak_tier: Tier = Tier.OK
    peak_value: float | None = None
    peak_at: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    offline: bool = False
    heartbeat_timeout_s: float | None = None

    @property
    def light(self) -> Light:
        """The alert level of the tier in force (``TIER_LIGHTS``)."""
        return TIER_LIGHTS[self.tier]

    @property
    def condition(self) -> Condition:
        """The viewer's colour for the point. Order: tier above OK, then no data (never
        seen), then offline, then OK."""
        if self.tier is not Tier.OK:
            return Condition(self.tier.value)
        if self.latest is None and self.last_seen is None:
            return Condition.NO_DATA
        return Condition.OFFLINE if self.offline else Condition.OK


def _aware(value: dt.datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, not naive {value.isoformat()}")


def _duration(value: float, what: str, *, positive: bool = False) -> float:
    seconds = _finite(value, what)
    if seconds < 0 or (positive and seconds == 0):
        raise InvalidInput(f"{what} must be {'positive' if positive else 'zero or more'} (seconds)")
    return seconds


def is_offline(last_seen: dt.datetime | None, *, heartbeat_timeout_s: float, now: dt.datetime) -> bool:
    """Whether a device has been silent for more than ``heartbeat_timeout_s``. Silence of
    exactly the timeout is still online. A device never seen (``None``) is offline. One
    seen after ``now`` (clock skew) is online."""
    timeout = _duration(heartbeat_timeout_s, "heartbeat_timeout_s", positive=True)
    _aware(now, "now")
    if last_seen is None:
        return True
    _aware(last_seen, "last_seen")
    return now - last_seen > dt.timedelta(seconds=timeout)


def _thresholds_at(thresholds: Thresholds | DayNightThresholds, ts: dt.datetime) -> Thresholds:
    return thresholds.at(ts) if isinstance(thresholds, DayNightThresholds) else thresholds


def _run_start(tiers: Sequence[Tier], tier: Tier) -> int:
    """Index of the first reading of the unbroken run at or beyond ``tier`` that ends with
    the latest reading; ``len(tiers)`` when the latest reading is below ``tier``."""
    start = len(tiers)
    while start > 0 and tiers[start - 1].rank >= tier.rank:
        start -= 1
    return start


def evaluate_point(
    readings: Iterable[Reading],
    *,
    thresholds: Thresholds | DayNightThresholds,
    persist_s: float,
    now: dt.datetime,
    last_seen: dt.datetime | None = None,
    heartbeat_timeout_s: float | None = None,
) -> PointState:
    """The state of one point at ``now``, from its readings alone. Stateless: no previous
    state goes in. Call it on every ingest batch and from the periodic job (for offline).

    Rules (see the module docstring): a tier is in force once an unbroken run of readings at
    or beyond it spans ``persist_s``, and only the highest such tier counts. It goes out of
    force at the first reading back below it. Readings after ``now`` and ``bad`` ones are
    ignored. Where two share a timestamp, the later one in ``readings`` wins, as in ``dedupe``.
    The order of ``readings`` does not matter otherwise.

    Which readings to pass: the tier in force is exact when ``readings`` holds every reading
    from ``c`` up to ``now``. To find ``c``, take ``L``, the latest reading at or before
    ``now``. Then ``c`` is the latest reading at or before ``L − persist_s``, or the first
    reading if there is none that early. Anchor the window on ``L``, not on ``now``: a device
    that falls silent while in alarm stays in alarm, and it is also offline. More readings do
    no harm.

    ``last_seen`` is the device's latest heartbeat, if it reports any besides readings. The
    latest reading counts as a heartbeat too. Offline is judged only when
    ``heartbeat_timeout_s`` is given. ``persist_s`` (≥ 0) and the timeout are point and
    device settings, so bad values raise ``InvalidInput``. Naive datetimes raise ``ValueError``.
    """
    _aware(now, "now")
    persist = dt.timedelta(seconds=_duration(persist_s, "persist_s"))
    timeout = (
        None
        if heartbeat_timeout_s is None
        else _duration(heartbeat_timeout_s, "heartbeat_timeout_s", positive=True)
    )
    seen = last_seen
    if seen is not None:
        _aware(seen, "last_seen")
    by_ts: dict[dt.datetime, Reading] = {}
    for reading in readings:
        _aware(reading.ts, "a reading's ts")
        if reading.ts > now:
            continue
        if seen is None or reading.ts > seen:
            seen = reading.ts
        if Quality(reading.quality) is not Quality.BAD:
            by_ts[reading.ts] = reading
    series = [by_ts[ts] for ts in sorted(by_ts)]
    offline = False if timeout is None else is_offline(seen, heartbeat_timeout_s=timeout, now=now)
    common = {"at": now, "last_seen": seen, "offline": offline, "heartbeat_timeout_s": timeout}
    if not series:
        return PointState(tier=Tier.OK, **common)

    tiers = [_crossing(r.value, _thresholds_at(thresholds, r.ts))[0] for r in series]
    latest, latest_tier = series[-1], tiers[-1]
    peak_i = max(range(len(series)), key=lambda i: (tiers[i].rank, -i))
    state = {
        **common,
        "latest": latest,
        "latest_tier": latest_tier,
        "peak_tier": tiers[peak_i],
        "peak_value": series[peak_i].value if tiers[peak_i] is not Tier.OK else None,
        "peak_at": series[peak_i].ts if tiers[peak_i] is not Tier.OK else None,
    }
    in_force = Tier.OK
    # Runs nest (a run at ≥ alarm lies inside the run at ≥ warn), so the first tier from the
    # top whose run spans the window is the highest in force.
    for tier in _FIRING:
        start = _run_start(tiers, tier)
        if start == len(series):
            continue
        first = series[start].ts
        trigger = next((r for r in series[start:] if r.ts - first >= persist), None)
        if trigger is None:
            continue
        bounds = _thresholds_at(thresholds, trigger.ts).bounds(tier)
        upper = bounds.upper is not None and trigger.value >= bounds.upper
        in_force = tier
        state.update(
            since=trigger.ts,
            value=trigger.value,
            bound=bounds.upper if upper else bounds.lower,
            side="upper" if upper else "lower",
            exceeding_since=first,
        )
        break
    if latest_tier.rank > in_force.rank:
        pending_since = series[_run_start(tiers, latest_tier)].ts
        state.update(
            pending=latest_tier, pending_since=pending_since, pending_fires_at=pending_since + persist
        )
    return PointState(tier=in_force, **state)


def state_at(
    readings: Iterable[Reading],
    *,
    thresholds: Thresholds | DayNightThresholds,
    persist_s: float,
    at: dt.datetime,
    heartbeat_timeout_s: float | None = None,
) -> PointState:
    """Time travel: the state as it was at ``at``. Readings after ``at`` are ignored, and
    offline is judged from the readings alone. The thresholds are the ones passed in, which
    are today's unless the caller keeps a history of them. This is ``evaluate_point`` with
    ``now=at``; the viewer's timeline colours elements by it."""
    return evaluate_point(
        readings, thresholds=thresholds, persist_s=persist_s, now=at, heartbeat_timeout_s=heartbeat_timeout_s
    )


def element_states(links: Iterable[tuple[str | None, PointState]]) -> dict[str, Condition]:
    """``{GlobalId: condition}`` for the ``sensors`` colour mode, from (element GlobalId,
    state) pairs. An element with several points takes the worst condition. Points linked to
    no element (``None``) are skipped. Keys are sorted."""
    worst: dict[str, Condition] = {}
    for global_id, state in links:
        if global_id is None:
            continue
        condition = state.condition
        if global_id not in worst or condition.rank > worst[global_id].rank:
            worst[global_id] = condition
    return dict(sorted(worst.items()))


# --- alert candidates -----------------------------------------------------------------------

#: Rule code and kind of the threshold alert: one alert per point, whose level and tier
#: change as the tier does (alarm → control updates the same alert).
SENSOR_THRESHOLD = "sensor_threshold"
#: Rule code and kind of the device-offline alert (domain.md §1.5: a separate alert type).
SENSOR_OFFLINE = "sensor_offline"


def _kind(value: str) -> RuleKind | str:
    # RuleKind does not list the sensor kinds yet, and alerts.py belongs to another change.
    # Until it does, the kind travels as its string. reconcile() reads only the rule code,
    # subject, level and value, so it works either way. Once RuleKind gains the members,
    # the candidates carry them.
    try:
        return RuleKind(value)
    except ValueError:
        return value


def point_alert_candidates(
    state: PointState,
    *,
    point_code: str,
    metric: Metric | str,
    element_global_id: str | None = None,
    device_code: str | None = None,
    threshold_rule_code: str = SENSOR_THRESHOLD,
    offline_rule_code: str = SENSOR_OFFLINE,
) -> list[AlertCandidate]:
    """The alerts ``state`` calls for, shaped for ``alerts.reconcile``, in [threshold, offline] order.

    * Threshold, when a tier is in force: subject ``("sensor_point", point_code)`` and level
      ``TIER_LIGHTS[tier]``. ``value`` is the trigger value, which stays fixed while the tier
      holds. Reconcile therefore writes when the tier changes, not on every batch. It creates
      the alert on the first tier, updates it on escalation or de-escalation, and resolves it
      at OK. ``facts``: point, metric, unit, value, tier, bound, side, since,
      exceeding_since, element_global_id, device.
    * Offline, when ``state.offline``: subject ``("sensor_device", device_code)``, or
      ``("sensor_point", point_code)`` without a device, so that a device with several
      points raises one alert. The level is YELLOW: nothing can be seen, but nothing is
      known to be wrong. ``value`` is ``None``, so a growing silence never rewrites the
      alert. ``facts``: device, point (only when keyed by point), last_seen,
      heartbeat_timeout_s.
    """
    metric = _metric(metric)
    found: list[AlertCandidate] = []
    if state.tier is not Tier.OK:
        facts = {
            "point": point_code,
            "metric": metric.value,
            "unit": metric.unit,
            "value": state.value,
            "tier": state.tier.value,
            "bound": state.bound,
            "side": state.side,
            "since": _iso(state.since),
            "exceeding_since": _iso(state.exceeding_since),
            "element_global_id": element_global_id,
            "device": device_code,
        }
        found.append(
            AlertCandidate(
                threshold_rule_code,
                _kind(SENSOR_THRESHOLD),  # type: ignore[arg-type]
                "sensor_point",
                point_code,
                state.light,
                state.value,
                facts,
            )
        )
    if state.offline:
        subject = ("sensor_device", device_code) if device_code else ("sensor_point", point_code)
        offline_facts: dict[str, object] = {
            "device": device_code,
            "last_seen": _iso(state.last_seen),
            "heartbeat_timeout_s": state.heartbeat_timeout_s,
        }
        if not device_code:
            offline_facts["point"] = point_code
        found.append(
            AlertCandidate(
                offline_rule_code,
                _kind(SENSOR_OFFLINE),  # type: ignore[arg-type]
                *subject,
                Light.YELLOW,
                None,
                offline_facts,
            )
        )
    return found


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def sensor_alert_text(
    alert: AlertCandidate | tuple[str, Mapping[str, object]], lang: str = "zh", *, tz: dt.tzinfo = CHINA_TZ
) -> str:
    """The one-line message of a sensor alert in ``lang`` (``"zh"`` or ``"en"``), rebuilt
    from ``(kind, facts)`` the same way ``alerts.alert_text`` does. Times are shown in
    ``tz``. Example: ``监测点 S-07 位移 32 mm，达到报警值（上限 30 mm）`` /
    ``Point S-07 displacement 32 mm reached the alarm limit (upper 30 mm)``."""
    kind, f = (alert.kind, alert.facts) if isinstance(alert, AlertCandidate) else alert
    base = lang.split("-")[0].split("_")[0].lower()
    if base not in ("zh", "en"):
        raise ValueError(f"no sensor alert texts in '{lang}' (zh, en)")
    zh = base == "zh"
    if str(kind) == SENSOR_OFFLINE:
        seen = f.get("last_seen")
        when = (
            dt.datetime.fromisoformat(str(seen)).astimezone(tz).strftime("%Y-%m-%d %H:%M") if seen else None
        )
        minutes = _fmt(float(f.get("heartbeat_timeout_s") or 0) / 60)
        who = f"设备 {f['device']}" if f.get("device") else f"监测点 {f.get('point')}"
        if zh:
            last = f"最后上报 {when}" if when else "从未上报"
            return f"{who} 离线：{last}（超过 {minutes} 分钟无数据）"
        who = f"Device {f['device']}" if f.get("device") else f"Point {f.get('point')}"
        last = f"last seen {when}" if when else "never seen"
        return f"{who} offline: {last} (silent for more than {minutes} min)"
    if str(kind) != SENSOR_THRESHOLD:
        raise ValueError(f"'{kind}' is not a sensor alert kind")
    metric, tier = Metric(str(f["metric"])), Tier(str(f["tier"]))
    value, bound = _quantity(f["value"], metric.unit), _quantity(f["bound"], metric.unit)
    if zh:
        side = "上限" if f.get("side") == "upper" else "下限"
        return f"监测点 {f['point']} {metric.label_zh} {value}，达到{tier.label_zh}值（{side} {bound}）"
    return (
        f"Point {f['point']} {metric.label_en.lower()} {value} reached the {tier.label_en} limit "
        f"({'upper' if f.get('side') == 'upper' else 'lower'} {bound})"
    )


def _fmt(value: float) -> str:
    """``32.0`` → ``"32"``, ``0.175`` → ``"0.175"`` (three decimals at most, no trailing zeros)."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _quantity(value: object, unit: str) -> str:
    text = "?" if value is None else _fmt(float(value))  # type: ignore[arg-type]
    return f"{text}{unit}" if unit == "°" else f"{text} {unit}"


# --- payloads -------------------------------------------------------------------------------

#: How far ahead of ``now`` a timestamp may be (seconds): device clocks drift, and a batch
#: can arrive in the same second it was stamped. Anything further is a wrong clock.
MAX_FUTURE_S = 300.0
#: Timestamps before this are a device whose clock was never set (1970, 2000-01-01 after a reset).
_EARLIEST = dt.datetime(2000, 1, 2, tzinfo=dt.UTC)
#: Epoch numbers of this size or more are milliseconds: 1e11 s is the year 5138, while 1e11
#: ms is 1973, so no real timestamp is ambiguous.
_MS_FROM = 1e11
_MAX_POINT_LENGTH = 64
_QUALITIES = frozenset(q.value for q in Quality)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# "/", "+" and "#" would break the MQTT topic twin/{project}/{point}.
_BAD_POINT_CHARS = re.compile(r"[/+#\x00-\x1f\x7f]")


class RejectCode(StrEnum):
    """Why an item was rejected, for counting. ``Rejected.reason`` gives the sentence."""

    PAYLOAD = "payload"  # not JSON, not an object or list, CSV without the needed header
    ROW = "row"  # a CSV line with the wrong number of fields or broken quoting
    POINT = "point"
    TS = "ts"
    VALUE = "value"
    QUALITY = "quality"


@dataclass(frozen=True, slots=True)
class ParsedReading:
    """A reading taken from a payload: point code, timestamp (aware, UTC), finite value, quality."""

    point: str
    ts: dt.datetime
    value: float
    quality: Quality = Quality.GOOD

    @property
    def key(self) -> tuple[str, dt.datetime]:
        """The idempotency key: one stored value per (point, ts)."""
        return (self.point, self.ts)

    @property
    def reading(self) -> Reading:
        return Reading(self.ts, self.value, self.quality)


@dataclass(frozen=True, slots=True)
class Rejected:
    """An item that was not taken. ``position`` is the index in a JSON batch or the line
    number in a CSV text (the header is line 1). It is ``None`` when the whole payload was
    refused. ``raw`` is the item as received, cut to 200 characters, for the log."""

    position: int | None
    code: RejectCode
    reason: str
    raw: str = field(default="", compare=False)


def _snippet(raw: object) -> str:
    if isinstance(raw, bytes | bytearray):
        text = bytes(raw[:400]).decode("utf-8", "replace")
    elif isinstance(raw, str):
        text = raw
    else:
        try:
            text = json.dumps(raw, ensure_ascii=False, default=repr)
        except (TypeError, ValueError, RecursionError):
            text = repr(raw)
    return text if len(text) <= 200 else text[:199] + "…"


def _number(raw: object) -> float | None:
    """A finite float from a JSON number or decimal text, ``None`` otherwise. Booleans,
    ``"NaN"``, ``"inf"``, ``"1_000"`` and hex are refused."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        try:
            number = float(raw)
        except OverflowError:
            return None
    elif isinstance(raw, str) and _NUMBER.fullmatch(raw.strip()):
        number = float(raw.strip())
    else:
        return None
    return number if math.isfinite(number) else None


def _timestamp(raw: object, naive_tz: dt.tzinfo | None) -> tuple[dt.datetime | None, str]:
    numeric = isinstance(raw, int | float) and not isinstance(raw, bool)
    if numeric or (isinstance(raw, str) and _NUMBER.fullmatch(raw.strip())):
        number = _number(raw)
        if number is None:
            return None, f"ts {raw!r} is not a finite number"
        try:
            return dt.datetime.fromtimestamp(number / 1000 if abs(number) >= _MS_FROM else number, dt.UTC), ""
        except (OverflowError, OSError, ValueError):
            return None, f"ts {raw!r} is out of range"
    if not isinstance(raw, str) or not raw.strip():
        return None, "ts must be ISO 8601 text with a UTC offset, or epoch seconds or milliseconds"
    try:
        ts = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        return None, f"ts '{raw}' is not ISO 8601"
    if ts.tzinfo is None or ts.utcoffset() is None:
        if naive_tz is None:
            return None, f"ts '{raw}' has no UTC offset (add one, e.g. +08:00)"
        ts = ts.replace(tzinfo=naive_tz)
    return ts.astimezone(dt.UTC), ""


def _item(
    record: Mapping[str, object],
    *,
    position: int | None,
    raw: object,
    now: dt.datetime,
    point: str | None,
    naive_tz: dt.tzinfo | None,
    max_future_s: float,
) -> ParsedReading | Rejected:
    def reject(code: RejectCode, reason: str) -> Rejected:
        return Rejected(position, code, reason, _snippet(raw))

    code = record.get("point")
    if code is None or code == "":
        code = point
    elif point is not None and isinstance(code, str) and code.strip() != point:
        return reject(RejectCode.POINT, f"point '{code}' differs from '{point}' named by the topic or batch")
    if not isinstance(code, str) or not code.strip():
        return reject(RejectCode.POINT, "point must be a non-empty code")
    code = code.strip()
    if len(code) > _MAX_POINT_LENGTH or _BAD_POINT_CHARS.search(code):
        return reject(
            RejectCode.POINT,
            f"point '{code[:80]}' is not a code "
            f"(at most {_MAX_POINT_LENGTH} characters, no / + # or control characters)",
        )
    if record.get("ts") is None:
        return reject(RejectCode.TS, "ts is missing")
    ts, problem = _timestamp(record["ts"], naive_tz)
    if ts is None:
        return reject(RejectCode.TS, problem)
    if ts < _EARLIEST:
        return reject(RejectCode.TS, f"ts {ts.isoformat()} is before 2000-01-02: the device clock is not set")
    if ts > now + dt.timedelta(seconds=max_future_s):
        return reject(
            RejectCode.TS, f"ts {ts.isoformat()} is in the future (now {now.astimezone(dt.UTC).isoformat()})"
        )
    if record.get("value") is None or record.get("value") == "":
        return reject(RejectCode.VALUE, "value is missing")
    value = _number(record["value"])
    if value is None:
        return reject(RejectCode.VALUE, f"value {record['value']!r} is not a finite number")
    quality = record.get("quality")
    if quality is None or quality == "":
        quality = Quality.GOOD
    elif not isinstance(quality, str) or quality.strip().lower() not in _QUALITIES:
        return reject(RejectCode.QUALITY, f"quality {quality!r} is not one of good, suspect, bad")
    return ParsedReading(code, ts, value, Quality(str(quality).strip().lower()))


def parse_reading_json(
    obj: object,
    *,
    now: dt.datetime,
    point: str | None = None,
    position: int | None = 0,
    naive_tz: dt.tzinfo | None = None,
    max_future_s: float = MAX_FUTURE_S,
) -> ParsedReading | Rejected:
    """One reading from a decoded JSON object ``{"point", "ts", "value", "quality"?}``.
    Other fields are ignored.

    * ``point``: the point code, a non-empty string of at most 64 characters with no
      ``/ + #``. It may be left out when the caller names the point (``point``, taken from
      the MQTT topic or a batch envelope). If both are given they must agree.
    * ``ts``: ISO 8601 text with a UTC offset (``Z`` or ``+08:00``), or epoch seconds or
      milliseconds as a number or digits (1e11 or more is read as milliseconds). Naive
      text is ambiguous and refused, unless ``naive_tz`` says which zone it is in (e.g.
      ``CHINA_TZ``). Refused too: later than ``now + max_future_s``, or before 2000
      (a device whose clock was never set).
    * ``value``: a finite number or decimal text (``"32.5"``). Booleans, NaN, infinities
      and other text are refused.
    * ``quality``: optional ``good`` (default), ``suspect`` or ``bad``.

    Returns a ``ParsedReading`` (ts in UTC) or a ``Rejected`` carrying ``position``. It
    never raises on a bad payload.
    """
    _aware(now, "now")
    if not isinstance(obj, dict):
        return Rejected(position, RejectCode.PAYLOAD, "a reading must be a JSON object", _snippet(obj))
    return _item(
        obj, position=position, raw=obj, now=now, point=point, naive_tz=naive_tz, max_future_s=max_future_s
    )


def parse_readings_json(
    payload: str | bytes | object,
    *,
    now: dt.datetime,
    point: str | None = None,
    naive_tz: dt.tzinfo | None = None,
    max_future_s: float = MAX_FUTURE_S,
) -> tuple[list[ParsedReading], list[Rejected]]:
    """Every reading of an HTTP batch or an MQTT message: (good, rejected), each in payload
    order. A bad item never costs the good ones around it.

    ``payload`` is JSON text or bytes, or already decoded. It may be a list of readings, one
    reading, or an envelope ``{"point"?: code, "readings": [...]}`` whose point is the
    default for its items. ``point`` is the code from the MQTT topic. Positions are indexes
    into the list. A payload that is not JSON or has the wrong shape gives one
    ``Rejected`` with position ``None``.
    """
    _aware(now, "now")
    if isinstance(payload, str | bytes | bytearray):
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            return [], [Rejected(None, RejectCode.PAYLOAD, f"not JSON: {error}", _snippet(payload))]
    items: list[object]
    if isinstance(payload, list):
        items = payload
    elif isinstance(payload, dict) and "readings" in payload:
        if not isinstance(payload["readings"], list):
            return [], [Rejected(None, RejectCode.PAYLOAD, "'readings' must be a list", _snippet(payload))]
        outer = payload.get("point")
        if outer is not None:
            if not isinstance(outer, str) or (point is not None and outer.strip() != point):
                reason = f"the batch's point {outer!r} is not a code, or differs from '{point}' of the topic"
                return [], [Rejected(None, RejectCode.POINT, reason, _snippet(payload))]
            point = outer.strip()
        items = payload["readings"]
    elif isinstance(payload, dict):
        items = [payload]
    else:
        reason = "a payload is a reading, a list of readings or {'readings': [...]}"
        return [], [Rejected(None, RejectCode.PAYLOAD, reason, _snippet(payload))]
    good: list[ParsedReading] = []
    bad: list[Rejected] = []
    for position, obj in enumerate(items):
        item = parse_reading_json(
            obj, now=now, point=point, position=position, naive_tz=naive_tz, max_future_s=max_future_s
        )
        (bad if isinstance(item, Rejected) else good).append(item)  # type: ignore[arg-type]
    return good, bad


def parse_readings_csv(
    text: str | bytes,
    *,
    now: dt.datetime,
    point: str | None = None,
    naive_tz: dt.tzinfo | None = None,
    max_future_s: float = MAX_FUTURE_S,
) -> tuple[list[ParsedReading], list[Rejected]]:
    """Every reading of a CSV batch: (good, rejected), in line order.

    The first non-blank line is the header. It names ``point`` (may be left out when
    ``point`` is given), ``ts`` and ``value``, and optionally ``quality``, in any order and
    any case. Other columns are ignored. Every line has the header's number of fields
    (empty extra ones at the end are tolerated). Fields follow ``parse_reading_json``;
    empty quality means good. Separator: comma. Each record is one line: a quoted line break is
    not supported, which is what lets a broken line cost only itself. Blank lines are
    skipped. ``bytes`` are decoded as UTF-8, with or without BOM, or else GB18030, which is
    what Excel writes on a Chinese Windows. Positions are line numbers, with the header on
    line 1.
    """
    _aware(now, "now")
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = bytes(text).decode("gb18030")
            except UnicodeDecodeError:
                return [], [
                    Rejected(None, RejectCode.PAYLOAD, "neither UTF-8 nor GB18030 text", _snippet(text))
                ]
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header: list[str] | None = None
    good: list[ParsedReading] = []
    bad: list[Rejected] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = next(csv.reader([line], strict=True))
        except csv.Error as error:
            if header is None:
                return [], [Rejected(number, RejectCode.PAYLOAD, f"unreadable CSV header: {error}", line)]
            bad.append(Rejected(number, RejectCode.ROW, f"unreadable CSV line: {error}", _snippet(line)))
            continue
        if header is None:
            header = [name.strip().lower() for name in row]
            needed = [n for n in ("point", "ts", "value") if n not in header and not (n == "point" and point)]
            if needed or len(set(header)) != len(header):
                reason = (
                    f"the header lacks {', '.join(needed)}" if needed else "the header repeats a column name"
                ) + f" (got: {', '.join(header)})"
                return [], [Rejected(number, RejectCode.PAYLOAD, reason, _snippet(line))]
            continue
        if len(row) < len(header) or any(cell.strip() for cell in row[len(header) :]):
            reason = f"the line has {len(row)} fields, the header {len(header)}"
            bad.append(Rejected(number, RejectCode.ROW, reason, _snippet(line)))
            continue
        item = _item(
            dict(zip(header, (cell.strip() for cell in row), strict=False)),
            position=number,
            raw=line,
            now=now,
            point=point,
            naive_tz=naive_tz,
            max_future_s=max_future_s,
        )
        (bad if isinstance(item, Rejected) else good).append(item)  # type: ignore[arg-type]
    if header is None:
        return [], [Rejected(None, RejectCode.PAYLOAD, "empty CSV: no header", "")]
    return good, bad


def parse_topic(topic: str) -> tuple[str, str] | None:
    """``(project, point)`` from an MQTT topic ``twin/{project}/{point}``, or ``None`` when
    the topic has another shape (wrong prefix, wrong depth, empty level, wildcard)."""
    levels = topic.split("/")
    if len(levels) != 3 or levels[0] != "twin":
        return None
    project, point = levels[1], levels[2]
    if not project or not point or any(c in topic for c in "+#") or _BAD_POINT_CHARS.search(point):
        return None
    return project, point


def dedupe(readings: Iterable[ParsedReading]) -> list[ParsedReading]:
    """One reading per (point, ts) in a batch; the last value given for a key wins, as the
    upsert does across batches. Sorted by (point, ts). Timestamps compare as instants:
    ``08:00+08:00`` and ``00:00Z`` are the same key."""
    latest: dict[tuple[str, dt.datetime], ParsedReading] = {}
    for reading in readings:
        latest[reading.key] = reading
    return sorted(latest.values(), key=lambda r: r.key)


# --- aggregates -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Aggregate:
    """The readings of one point in one bucket. ``bucket_start`` is aware UTC. ``last`` is
    the value at ``last_at``, the bucket's latest reading (``last_at`` added so that minutes
    roll up into hours)."""

    bucket_start: dt.datetime
    count: int
    min: float
    max: float
    mean: float
    last: float
    last_at: dt.datetime


def _bucket_start(ts: dt.datetime, bucket: str) -> dt.datetime:
    utc = ts.astimezone(dt.UTC)
    if bucket == "minute":
        return utc.replace(second=0, microsecond=0)
    if bucket == "hour":
        return utc.replace(minute=0, second=0, microsecond=0)
    raise ValueError(f"bucket must be 'minute' or 'hour', not {bucket!r}")


def aggregate(readings: Iterable[Reading], *, bucket: str) -> list[Aggregate]:
    """Minute or hour aggregates of one point's readings, sorted by bucket. Buckets are
    whole UTC minutes or hours, which are the same as China's (UTC+8, a whole number of
    hours). ``bad`` readings are left out, as in the state. Among readings with the same
    timestamp, ``last`` is the one given last."""
    groups: dict[dt.datetime, list[Reading]] = {}
    for reading in readings:
        if Quality(reading.quality) is Quality.BAD:
            continue
        _aware(reading.ts, "a reading's ts")
        groups.setdefault(_bucket_start(reading.ts, bucket), []).append(reading)
    result = []
    for start in sorted(groups):
        group = groups[start]
        values = [r.value for r in group]
        last = max(reversed(group), key=lambda r: r.ts)  # reversed: ties go to the one given last
        result.append(
            Aggregate(
                bucket_start=start,
                count=len(values),
                min=min(values),
                max=max(values),
                mean=math.fsum(values) / len(values),
                last=last.value,
                last_at=last.ts,
            )
        )
    return result


def rollup(aggregates: Iterable[Aggregate], *, bucket: str = "hour") -> list[Aggregate]:
    """Combine finer aggregates into ``bucket`` (minute aggregates into hours). The result
    equals ``aggregate`` over the same readings, up to float rounding of the mean, so hours
    can still be built after the raw readings have passed their retention."""
    groups: dict[dt.datetime, list[Aggregate]] = {}
    for agg in aggregates:
        groups.setdefault(_bucket_start(agg.bucket_start, bucket), []).append(agg)
    result = []
    for start in sorted(groups):
        group = groups[start]
        count = sum(a.count for a in group)
        last = max(reversed(group), key=lambda a: a.last_at)
        result.append(
            Aggregate(
                bucket_start=start,
                count=count,
                min=min(a.min for a in group),
                max=max(a.max for a in group),
                mean=math.fsum(a.mean * a.count for a in group) / count,
                last=last.last,
                last_at=last.last_at,
            )
        )
    return result
