"""The sensors side of the model page (智慧工地 monitoring): which elements are watched and
in what condition, now or at the timeline's date, the monitor points as a list, and one
point's readings as a chart over its threshold bands.

``SensorsPanel`` talks to the server only through ``TwinClient`` and to the 3D view only
through the page (``ModelPage`` wires it). It turns the server's answer into what the 3D
view renders: ``conditions``, one byte per GLB element row (``SENSOR_CODES``, painted by
the ``sensors`` colour mode exactly as the defects bytes are), and ``pins``, one per point
linked to an element of the revision shown. The browser computes nothing but where a pin
sits on its element (the top centre of the element's box: geometry lives there).

Time travel: at a timeline date before today the state is the server's recomputation at
the *end of that day in China time* (``sensor_moment``: 23:59:59.999999 UTC+8); at today
or later it is the state now. Chart times are China time too.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import panel as pn
import param

from ..client import PointState, ReadingSeries, SensorStates, Thresholds, TwinClient, ViewerError
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, text

__all__ = [
    "CHINA_TZ",
    "CONDITION_RGB",
    "SENSOR_CODES",
    "SPANS",
    "Band",
    "ChartData",
    "SensorsPanel",
    "chart_data",
    "chart_window",
    "condition_bytes",
    "point_detail_html",
    "sensor_moment",
    "sensor_pins",
    "threshold_bands",
]

log = logging.getLogger(__name__)

#: China Standard Time (UTC+8, no daylight saving): the sites' calendar.
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")

#: The 3D view's byte per GLB element row in the ``sensors`` colour mode: 0 = no monitor
#: point on the element, then the server's conditions (``domain.sensors.Condition``) in
#: rank order, worse last. ``viewer/js/src/paint.js`` (SENSOR_KEYS, SENSOR_RGB) reads them.
SENSOR_CODES: Mapping[str, int] = {
    "no_data": 1,
    "ok": 2,
    "offline": 3,
    "warn": 4,
    "alarm": 5,
    "control": 6,
}
#: Colours of the conditions, as paint.js draws them (the chart's bands and the badges).
CONDITION_RGB: Mapping[str, tuple[int, int, int]] = {
    "none": (200, 203, 207),
    "no_data": (144, 164, 174),
    "ok": (46, 160, 67),
    "offline": (97, 97, 97),
    "warn": (251, 192, 45),
    "alarm": (239, 108, 0),
    "control": (183, 28, 28),
}
TIERS = ("warn", "alarm", "control")
#: Chart ranges: how far back from the moment shown, and the bucket the server sums into.
SPANS: Mapping[str, tuple[dt.timedelta, str]] = {
    "24h": (dt.timedelta(hours=24), "minute"),
    "7d": (dt.timedelta(days=7), "hour"),
}


def sensor_moment(day: dt.date | None, today: dt.date) -> dt.datetime | None:
    """The moment the sensor colours show for a timeline day: None (now) at today or later
    (the future is not known yet), else the end of that day in China time."""
    if day is None or day >= today:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), CHINA_TZ) - dt.timedelta(
        microseconds=1
    )


def condition_bytes(elements: Mapping[str, str], rows: Mapping[str, int], count: int) -> bytes:
    """One byte per GLB row: the element's worst condition (``SENSOR_CODES``), 0 where no
    point watches it. Elements the revision lacks (no row) or rows beyond ``count`` are
    skipped; an unknown condition counts as no data. Empty when no model is loaded."""
    if count <= 0:
        return b""
    out = bytearray(count)
    for global_id, condition in elements.items():
        row = rows.get(global_id)
        if row is not None and 0 <= row < count:
            out[row] = max(out[row], SENSOR_CODES.get(condition, SENSOR_CODES["no_data"]))
    return bytes(out)


def sensor_pins(points: Sequence[PointState], rows: Mapping[str, int], t: Callable[[str], str]) -> list[dict]:
    """The 3D view's sensor pins: every point linked to an element of the revision shown,
    with its code and condition (the browser anchors it on its element's row)."""
    pins = []
    for p in points:
        row = rows.get(p.element_global_id or "")
        if row is None:
            continue
        value = f" {_number(p.latest_value)} {p.unit}" if p.latest_value is not None else ""
        title = f"{p.code} {p.name or ''} · {_condition_label(p.condition, t)}{value}".replace("  ", " ")
        pins.append({"id": p.point_id, "code": p.code, "row": row, "condition": p.condition, "title": title})
    return pins


def chart_window(
    moment: dt.datetime | None, now: dt.datetime, span: str
) -> tuple[dt.datetime, dt.datetime, str]:
    """(start, end, bucket) of the chart: the ``span`` (``SPANS``) up to the moment shown."""
    length, bucket = SPANS[span]
    end = moment or now
    return end - length, end, bucket


@dataclass(frozen=True, slots=True)
class Band:
    """A tier's band on the chart, from ``bottom`` to ``top`` (None: no end on that side)."""

    tier: str
    bottom: float | None
    top: float | None


def threshold_bands(thresholds: Thresholds) -> list[Band]:
    """The shaded bands: above each upper bound up to the next tier's upper bound (or
    without end), below each lower bound down to the next tier's lower bound. The tiers
    nest (warn inside alarm inside control), so the bands tile without overlapping."""
    bands = []
    for i, tier in enumerate(TIERS):
        lower, upper = getattr(thresholds, tier)
        higher = [getattr(thresholds, h) for h in TIERS[i + 1 :]]
        if upper is not None:
            bands.append(Band(tier, upper, next((u for _, u in higher if u is not None), None)))
        if lower is not None:
            bands.append(Band(tier, next((lo for lo, _ in higher if lo is not None), None), lower))
    return bands


@dataclass(frozen=True, slots=True)
class ChartData:
    """What the chart draws. ``times`` are China wall-clock times (naive: the axis shows them
    as they are); ``values`` are readings or bucket means, ``lows``/``highs`` the buckets'
    min and max; ``y_range`` covers the values and every bound, so the bands show."""

    times: list[dt.datetime]
    values: list[float]
    lows: list[float]
    highs: list[float]
    bands: list[Band]
    start: dt.datetime
    end: dt.datetime
    y_range: tuple[float, float]
    unit: str
    bucket: str


def _china(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(CHINA_TZ).replace(tzinfo=None)


def chart_data(series: ReadingSeries) -> ChartData:
    times = [_china(p.ts) for p in series.points]
    values = [p.value for p in series.points]
    lows = [p.low for p in series.points]
    highs = [p.high for p in series.points]
    bands = threshold_bands(series.thresholds)
    bounds = [b for band in bands for b in (band.bottom, band.top) if b is not None]
    seen = [*lows, *highs, *bounds]
    lo, hi = (min(seen), max(seen)) if seen else (0.0, 1.0)
    pad = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 1.0)
    return ChartData(
        times=times,
        values=values,
        lows=lows,
        highs=highs,
        bands=bands,
        start=_china(series.start),
        end=_china(series.end),
        y_range=(lo - pad, hi + pad),
        unit=series.unit,
        bucket=series.bucket,
    )


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.4g}"


def _clock(moment: dt.datetime | None) -> str:
    return _china(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _condition_label(condition: str, t: Callable[[str], str]) -> str:
    return t(f"sensors_{condition}") if condition in CONDITION_RGB else condition


def _metric_label(metric: str, t: Callable[[str], str]) -> str:
    try:
        return t(f"metric_{metric}")
    except KeyError:
        return metric


def _badge(condition: str, t: Callable[[str], str]) -> str:
    rgb = CONDITION_RGB.get(condition, CONDITION_RGB["no_data"])
    dark = condition in ("warn",)
    return (
        f"<span class='erji-cond' data-condition='{html.escape(condition)}' style='background:{_hex(rgb)};"
        f"color:{'#3a2c00' if dark else '#fff'};padding:0 6px;border-radius:3px'>"
        f"{html.escape(_condition_label(condition, t))}</span>"
    )


def moment_caption(states: SensorStates | None, t: Callable[[str], str], *, short: bool = False) -> str:
    """What moment the states are of, in words (``short``: for the 3D view's legend)."""
    if states is None:
        return ""
    if states.live:
        return t("sensors_legend_now" if short else "sensors_at_now")
    return t("sensors_legend_at" if short else "sensors_at_moment").format(at=_clock(states.at))


def point_detail_html(point: PointState | None, t: Callable[[str], str]) -> str:
    """One point: what and where it measures, its condition, the tier in force and since
    when (the reading that brought it), the latest reading. Every value is escaped."""
    e = html.escape
    if point is None:
        return f"<p style='color:#6a7480'>{e(t('sensors_choose_point'))}</p>"
    unit = f" {point.unit}" if point.unit else ""
    tier = t(f"tier_{point.tier}") if point.tier in ("ok", *TIERS) else point.tier
    rows = [
        (t("sensors_condition"), _badge(point.condition, t)),
        (t("sensors_metric"), e(_metric_label(point.metric, t))),
        (t("sensors_tier"), f"<span data-role='sensor-tier'>{e(tier)}</span>"),
        (t("sensors_since"), e(_clock(point.since))),
        (t("sensors_trigger"), e(_number(point.value) + unit) if point.value is not None else "—"),
        (
            t("sensors_latest"),
            f"<span data-role='sensor-value'>{e(_number(point.latest_value) + unit)}</span>"
            f" <small>{e(_clock(point.latest_ts))}</small>"
            if point.latest_value is not None
            else "—",
        ),
        (t("sensors_device"), e(point.device_code)),
        (
            t("issue_elements"),
            f"<code>{e(point.element_global_id)}</code>" if point.element_global_id else "—",
        ),
    ]
    if point.pending:
        pending = t(f"tier_{point.pending}") if point.pending in TIERS else point.pending
        rows.append((t("sensors_pending"), e(pending)))
    if point.offline:
        rows.append((t("sensors_last_seen"), e(_clock(point.last_seen))))
    title = f"{point.code} {point.name or ''}".strip()
    parts = [
        f"<h4 style='margin:6px 0' data-role='sensor-title'>{e(title)}</h4><table class='erji-kv'>",
        *(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows),
        "</table>",
    ]
    return "".join(parts)


def bands_legend_html(data: ChartData | None, t: Callable[[str], str]) -> str:
    if data is None or not data.bands:
        return ""
    seen = []
    for band in data.bands:
        if band.tier not in seen:
            seen.append(band.tier)
    swatches = "".join(
        f"<span style='display:inline-flex;align-items:center;gap:3px;margin-right:8px'>"
        f"<span style='width:12px;height:10px;background:{_hex(CONDITION_RGB[tier])};opacity:.45;"
        f"border:1px solid {_hex(CONDITION_RGB[tier])}'></span>{html.escape(t(f'tier_{tier}'))}</span>"
        for tier in seen
    )
    return f"<div style='font-size:12px;color:#44505f' data-role='sensor-bands'>{swatches}</div>"


def sensor_chart(data: ChartData, t: Callable[[str], str]):
    """A Bokeh figure: the readings (bucket means, with the min–max range) over the
    threshold bands. Bokeh's JS comes with Panel's own resources: nothing from another host."""
    from bokeh.models import BoxAnnotation, ColumnDataSource, DatetimeTickFormatter, HoverTool, Range1d
    from bokeh.plotting import figure

    fig = figure(
        x_axis_type="datetime",
        height=230,
        sizing_mode="stretch_width",
        tools="pan,xwheel_zoom,box_zoom,reset",
        toolbar_location="above",
        y_axis_label=data.unit or None,
        x_range=Range1d(data.start, data.end),
        y_range=Range1d(*data.y_range),
    )
    fig.toolbar.logo = None
    fig.xaxis.axis_label = t("sensors_chart_time")
    # Time over date on two lines, no context row (it overlaps on a narrow panel).
    fig.xaxis.formatter = DatetimeTickFormatter(
        minutes="%H:%M",
        hourmin="%H:%M\n%m-%d",
        hours="%H:%M\n%m-%d",
        days="%m-%d",
        months="%Y-%m",
        years="%Y",
        context=None,
    )
    fig.xaxis.ticker.desired_num_ticks = 5
    for band in data.bands:
        extent = {k: v for k, v in (("bottom", band.bottom), ("top", band.top)) if v is not None}
        fig.add_layout(
            BoxAnnotation(
                **extent,
                fill_color=_hex(CONDITION_RGB[band.tier]),
                fill_alpha=0.22,
                line_alpha=0,
                level="underlay",
            )
        )
    source = ColumnDataSource({"x": data.times, "y": data.values, "low": data.lows, "high": data.highs})
    if data.bucket != "raw":
        fig.varea(x="x", y1="low", y2="high", source=source, fill_color="#1f6feb", fill_alpha=0.15)
    line = fig.line(x="x", y="y", source=source, line_color="#1f4e99", line_width=2)
    if len(data.times) <= 200:
        fig.scatter(x="x", y="y", source=source, size=4, color="#1f4e99")
    fig.add_tools(
        HoverTool(
            renderers=[line],
            tooltips=[
                (t("sensors_chart_time"), "@x{%F %H:%M}"),
                (t("sensors_value"), f"@y{{0.[000]}} {data.unit}"),
            ],
            formatters={"@x": "datetime"},
            mode="vline",
        )
    )
    return fig


class SensorsPanel(pn.viewable.Viewer):
    """Monitor points of one project (colours and pins on one revision) for one user."""

    lang = param.Selector(default=DEFAULT_LANGUAGE, objects=list(LANGUAGES), doc="Panel language.")
    element_count = param.Integer(default=0, doc="Rows of the GLB shown (set by the page).")
    conditions = param.Bytes(default=b"", doc="One byte per GLB row (SENSOR_CODES); empty: none yet.")
    pins = param.List(default=[], item_type=dict, doc="Sensor pins of the points on the revision's elements.")
    selected_point = param.Integer(default=0, doc="The point shown in detail (0: none).")
    span = param.Selector(default="24h", objects=list(SPANS), doc="The chart's range.")
    moment_label = param.String(default="", doc="What moment the colours show, in a few words.")

    def __init__(
        self,
        *,
        client: TwinClient,
        today: dt.date,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        **params,
    ) -> None:
        super().__init__(**params)
        self._client = client
        self._today = today
        self._now = now
        self._project_id: int | None = None
        self._revision_id: int | None = None
        self._rows: dict[str, int] = {}  # GlobalId -> GLB row in the revision shown
        self._looked_up: set[str] = set()
        self._states: SensorStates | None = None
        self._moment: dt.datetime | None = None
        self._series: ReadingSeries | None = None
        self._ticket = 0
        self._chart_ticket = 0
        self._quiet = 0
        self._build()

    # ---- widgets --------------------------------------------------------------------
    def _build(self) -> None:
        self.caption = pn.pane.HTML("", sizing_mode="stretch_width", margin=(4, 8))
        self.table = pn.widgets.Tabulator(
            value=None,
            disabled=True,
            selectable=1,
            show_index=False,
            hidden_columns=["id"],
            sizing_mode="stretch_width",
            max_height=240,
            layout="fit_data_fill",
            css_classes=["erji-sensor-table"],
        )
        self.table.param.watch(self._on_table_choice, "selection")
        self.detail = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 8))
        self.span_choice = pn.widgets.RadioButtonGroup(value=self.span, sizing_mode="stretch_width")
        self.span_choice.param.watch(self._on_span, "value")
        self.chart = pn.pane.Bokeh(None, sizing_mode="stretch_width", css_classes=["erji-sensor-chart"])
        self.chart_note = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 8))
        self.feedback = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")
        self.chart_box = pn.Column(
            self.detail,
            self.span_choice,
            self.chart,
            self.chart_note,
            visible=False,
            sizing_mode="stretch_width",
        )
        self._relabel()

    def __panel__(self):
        return pn.Column(
            self.caption,
            self.feedback,
            self.table,
            self.chart_box,
            sizing_mode="stretch_width",
            css_classes=["erji-sensors"],
        )

    def _t(self, key: str) -> str:
        return text(key, self.lang)

    @param.depends("lang", watch=True)
    def _relabel(self) -> None:
        self._quiet += 1
        try:
            self.span_choice.options = {self._t(f"sensors_span_{k}"): k for k in SPANS}
        finally:
            self._quiet -= 1
        self.moment_label = moment_caption(self._states, self._t, short=True)
        if self._states is not None:
            self.pins = sensor_pins(self._states.points, self._rows, self._t)  # their titles
        self._show_list()
        self._show_detail()
        self._show_chart()

    def _say(self, message: str) -> None:
        self.feedback.object = message
        self.feedback.visible = bool(message)

    # ---- loading --------------------------------------------------------------------
    async def load(self, *, project_id: int, revision_id: int | None) -> None:
        """A new project or revision: element rows are looked up again when next needed."""
        if (project_id, revision_id) != (self._project_id, self._revision_id):
            self._rows, self._looked_up = {}, set()
            self.pins = []
            self.conditions = b""
        if project_id != self._project_id:
            self._states, self._series = None, None
            self.selected_point = 0
        self._project_id, self._revision_id = project_id, revision_id

    async def refresh(self, *, day: dt.date | None) -> None:
        """The states at the timeline ``day`` (now at today or later), the colours and pins
        on the revision shown, and the chosen point's chart; stale answers are dropped."""
        if self._project_id is None:
            return
        self._ticket += 1
        ticket = self._ticket
        moment = sensor_moment(day, self._today)
        try:
            states = await self._client.sensor_states(self._project_id, at=moment)
            linked = {p.element_global_id for p in states.points if p.element_global_id}
            missing = linked - self._looked_up
            if missing and self._revision_id is not None:
                found = await self._client.element_rows(self._project_id, self._revision_id, sorted(missing))
                if ticket != self._ticket:
                    return
                self._rows.update(found)
                self._looked_up |= missing
        except ViewerError as exc:
            if ticket == self._ticket:
                self._say(f"{self._t('server_error')}: {exc}")
            return
        if ticket != self._ticket:
            return
        self._say("")
        self._states, self._moment = states, moment
        self.moment_label = moment_caption(states, self._t, short=True)
        self._paint()
        self.pins = sensor_pins(states.points, self._rows, self._t)
        self._show_list()
        self._show_detail()
        if self.selected_point:
            await self._load_chart()

    @param.depends("element_count", watch=True)
    def _paint(self) -> None:
        elements = self._states.elements if self._states else {}
        self.conditions = condition_bytes(elements, self._rows, self.element_count)

    @property
    def live(self) -> bool:
        """The colours show the state now (not a past day's)."""
        return self._states is not None and self._states.live

    def needs_refresh(self, day: dt.date | None) -> bool:
        """Nothing shown yet, or the states shown are not those of ``day``."""
        return self._states is None or sensor_moment(day, self._today) != self._moment

    # ---- the list ---------------------------------------------------------------------
    @property
    def points(self) -> tuple[PointState, ...]:
        return self._states.points if self._states else ()

    def _show_list(self) -> None:
        import pandas as pd  # Panel's own dependency; only the table needs it

        t = self._t
        self.caption.object = (
            f"<b data-role='sensor-moment'>{html.escape(moment_caption(self._states, t))}</b>"
            if self._states
            else ""
        )
        # Worst first, then by code: the points that need someone on top.
        points = sorted(self.points, key=lambda p: (-SENSOR_CODES.get(p.condition, 1), p.code))
        self._listed = points
        rows = [
            {
                "id": p.point_id,
                t("sensors_point"): p.code,
                t("sensors_metric"): _metric_label(p.metric, t),
                t("sensors_condition"): _condition_label(p.condition, t),
                t("sensors_value"): f"{_number(p.latest_value)} {p.unit}".strip()
                if p.latest_value is not None
                else "",
            }
            for p in points
        ]
        columns = [
            "id",
            *(t(k) for k in ("sensors_point", "sensors_metric", "sensors_condition", "sensors_value")),
        ]
        self._quiet += 1
        try:
            self.table.value = pd.DataFrame(rows, columns=columns)
            chosen = [n for n, p in enumerate(points) if p.point_id == self.selected_point]
            self.table.selection = chosen[:1]
        finally:
            self._quiet -= 1
        self.table.placeholder = t("sensors_none_here")

    _listed: Sequence[PointState] = ()

    def _on_table_choice(self, event) -> None:
        if self._quiet or not event.new or event.new[0] >= len(self._listed):
            return
        pn.state.execute(functools.partial(self.choose, self._listed[event.new[0]].point_id))

    def _on_span(self, event) -> None:
        if self._quiet or event.new == self.span:
            return
        self.span = event.new
        pn.state.execute(self._load_chart)

    # ---- one point --------------------------------------------------------------------
    async def choose(self, point_id: int) -> None:
        """Show one point: its state and its readings chart."""
        self.selected_point = point_id
        self._series = None
        self._show_list()
        self._show_detail()
        self._show_chart()
        await self._load_chart()

    def _chosen(self) -> PointState | None:
        return next((p for p in self.points if p.point_id == self.selected_point), None)

    def _show_detail(self) -> None:
        self.detail.object = point_detail_html(self._chosen(), self._t)
        self.chart_box.visible = bool(self.selected_point)

    async def _load_chart(self) -> None:
        if not self.selected_point or self._project_id is None:
            return
        self._chart_ticket += 1
        ticket = self._chart_ticket
        start, end, bucket = chart_window(self._moment, self._now(), self.span)
        try:
            series = await self._client.point_readings(
                self._project_id, self.selected_point, start=start, end=end, bucket=bucket
            )
        except ViewerError as exc:
            if ticket == self._chart_ticket:
                self._say(f"{self._t('server_error')}: {exc}")
            return
        if ticket != self._chart_ticket:
            return
        self._series = series
        self._show_chart()

    def _show_chart(self) -> None:
        series = self._series
        if series is None or series.point_id != self.selected_point:
            self.chart.object = None
            self.chart_note.object = ""
            return
        data = chart_data(series)
        self.chart.object = sensor_chart(data, self._t)
        notes = [bands_legend_html(data, self._t)]
        if not series.points:
            notes.append(
                f"<p style='color:#6a7480;margin:2px 0'>{html.escape(self._t('sensors_no_readings'))}</p>"
            )
        if series.night_thresholds is not None:
            notes.append(
                f"<p style='color:#6a7480;margin:2px 0'>{html.escape(self._t('sensors_night_limits'))}</p>"
            )
        if series.truncated:
            notes.append(
                f"<p style='color:#6a7480;margin:2px 0'>{html.escape(self._t('sensors_truncated'))}</p>"
            )
        self.chart_note.object = "".join(notes)
