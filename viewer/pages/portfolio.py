"""The portfolio dashboard: the regional centre's page (domain.md §3.6, §3.8; scenarios 4, 7,
10, 11) — how every project in the user's part of the organisation is doing this month.

From top to bottom: one card per region (projects counted by traffic light, mean score, open
alerts); the projects table (light, composite score, rank in the region, the light of each
dimension, a six-month score sparkline, open alerts), whose names open the project's 4D
model page; the alert feed, where a manager acknowledges or resolves an alert; and each
region's bottom three with the two main reasons and their improvement actions (PDCA).

State is params on ``PortfolioPage`` (month, region filter, sort order, alert level,
language). Data comes from the server's API through ``TwinClient``; every number shown is
the server's (lights, scores, ranks, reasons): the page only lays them out. Sparklines are
inline SVG written here, so the page loads nothing from any other host.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import html
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence

import panel as pn
import param

from ..client import (
    Action,
    AlertItem,
    Me,
    PortfolioSummary,
    ProjectHealth,
    RankedProject,
    Ranking,
    Reason,
    Refused,
    TrendPoint,
    TwinClient,
    UserRef,
    ViewerError,
)
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, text
from .layout import FORM_STYLES, load_or_warn, page_header

__all__ = [
    "DIMENSIONS",
    "KPI_UNITS",
    "LIGHT_COLOURS",
    "PortfolioPage",
    "alert_html",
    "bottom_html",
    "format_kpi",
    "light_dot",
    "months_back",
    "projects_table_html",
    "region_cards_html",
    "sort_projects",
    "sparkline_svg",
]

log = logging.getLogger(__name__)

LIGHTS = ("green", "yellow", "red")
#: The health dimensions in display order (the server's order).
DIMENSIONS = ("schedule", "quality", "safety", "other")
#: Light → dot colour; ``None`` (not computed yet) is grey. Colours chosen to stay apart for
#: the common red–green colour deficiency by lightness too (the labels say it in words).
LIGHT_COLOURS: dict[str | None, str] = {
    "green": "#2e9d5b",
    "yellow": "#f2b705",
    "red": "#d93025",
    None: "#b8c0cc",
}
#: KPI code → unit, as the server defines them: "" an index, "%" a fraction 0..1, "days", "count".
KPI_UNITS = {
    "spi": "",
    "late_tasks": "count",
    "max_delay_days": "days",
    "milestones_at_risk": "count",
    "max_milestone_delay_days": "days",
    "issues_raised": "count",
    "issues_closed": "count",
    "closure_rate": "%",
    "on_time_rate": "%",
    "overdue_issues": "count",
    "rework_rate": "%",
    "hazards_open_minor": "count",
    "hazards_open_major": "count",
    "major_hazards_overdue": "count",
    "open_alarms": "count",
    "control_alarms_unacked": "count",
}
ALERT_KINDS = ("task_delay", "milestone_delay", "spi", "major_hazard_overdue", "rework_rising")
ALERT_STATUSES = ("open", "acknowledged", "resolved")
ACTION_STATUSES = ("planned", "done", "checked")
#: Months offered by the month selector, this one included (the server keeps six of history
#: for the trend; older months are still there for a ranking asked for later).
MONTHS_OFFERED = 12
#: Slots of the sparkline: the trend the server sends covers at most six months.
TREND_MONTHS = 6
#: The feed shows this many alerts (red first, newest first): a long feed is read from the top.
MAX_ALERTS_SHOWN = 30
#: Height of the alert feed's box before it scrolls, in CSS px (about five alerts).
ALERT_FEED_MAX_PX = 560
#: Default time an improvement action gets, in days.
ACTION_DUE_DAYS = 14
SIDE_PX = 430

_Translate = Callable[..., str]

_CSS = f"""
:host {{ font-size: 13px; color: #1f2933; }}
.erji-dot {{ display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  vertical-align: middle; box-shadow: inset 0 0 0 1px rgba(0,0,0,.18); }}
.erji-dot.small {{ width: 9px; height: 9px; margin-right: 3px; }}
.erji-muted {{ color: #6a7480; }}
a.erji-project {{ color: #1f5fbf; text-decoration: none; font-weight: 500; }}
a.erji-project:hover {{ text-decoration: underline; }}
.erji-code {{ color: #6a7480; font-size: 11px; }}
.erji-badge {{ display: inline-block; border-radius: 9px; padding: 0 7px; font-size: 11px; line-height: 18px;
  background: #eef1f5; color: #44505f; white-space: nowrap; }}
.erji-badge.red {{ background: #fdecea; color: #b42318; }}
.erji-badge.yellow {{ background: #fff6d6; color: #7a5a00; }}
.erji-badge.green {{ background: #e6f4ea; color: #1e6b3a; }}
/* region cards */
.erji-cards {{ display: flex; flex-wrap: wrap; gap: 10px; }}
.erji-card {{ flex: 1 1 170px; max-width: 320px; background: #fff; border: 1px solid #dde3ea;
  border-radius: 8px; padding: 10px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.04); }}
.erji-card.chosen {{ border-color: #1f5fbf; box-shadow: 0 0 0 2px rgba(31,95,191,.15); }}
.erji-card h3 {{ margin: 0 0 4px; font-size: 14px; }}
.erji-card .lights {{ display: flex; gap: 12px; margin: 6px 0; font-size: 18px; font-weight: 600; }}
.erji-card .lights span.n {{ margin-left: 4px; vertical-align: middle; }}
.erji-card .facts {{ display: flex; flex-wrap: wrap; justify-content: space-between; gap: 2px 10px;
  color: #44505f; }}
.erji-card .facts span {{ white-space: nowrap; }}
.erji-card .facts b {{ color: #1f2933; font-size: 15px; }}
/* projects table */
.erji-table-wrap {{ overflow-x: auto; border: 1px solid #dde3ea; border-radius: 8px; background: #fff; }}
table.erji-projects {{ border-collapse: collapse; width: 100%; }}
table.erji-projects th {{ background: #f7f9fb; text-align: left; font-weight: 600; color: #44505f;
  padding: 7px 8px; border-bottom: 1px solid #d0d6de; white-space: nowrap; font-size: 12px; }}
table.erji-projects td {{ padding: 6px 8px; border-bottom: 1px solid #edf0f3; vertical-align: middle; }}
table.erji-projects tr:last-child td {{ border-bottom: 0; }}
table.erji-projects tbody tr:hover td {{ background: #f5f8fc; }}
table.erji-projects .num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
table.erji-projects td.name {{ min-width: 160px; }}
table.erji-projects td.nowrap {{ white-space: nowrap; }}
@media (max-width: 760px) {{
  .erji-wide {{ display: none; }}
  table.erji-projects td.name {{ min-width: 120px; }}
  table.erji-projects th, table.erji-projects td {{ padding: 6px 5px; }}
}}
/* alert feed and bottom three */
.erji-alert {{ border-left: 4px solid #b8c0cc; padding: 2px 0 2px 8px; }}
.erji-alert.red {{ border-left-color: {LIGHT_COLOURS["red"]}; }}
.erji-alert.yellow {{ border-left-color: {LIGHT_COLOURS["yellow"]}; }}
.erji-alert .head {{ display: flex; gap: 6px; align-items: center; flex-wrap: wrap; font-size: 12px; }}
.erji-alert .msg {{ margin: 2px 0; }}
.erji-bottom h4 {{ margin: 0 0 2px; font-size: 13px; }}
.erji-bottom ul {{ margin: 2px 0 2px 18px; padding: 0; }}
.erji-bottom li {{ margin: 1px 0; }}
.erji-bottom .rank {{ display: inline-block; min-width: 34px; font-weight: 600; color: #44505f; }}
"""
_SECTION_STYLES = {
    "background": "#fff",
    "border": "1px solid #dde3ea",
    "border-radius": "8px",
    "padding": "6px 8px",
}
# Main column | side column (alerts, bottom three) on a desktop; one column on a phone.
_FLEX_CSS = f"""
.erji-main {{ flex: 1 1 600px; min-width: 0; }}
.erji-side {{ flex: 0 1 {SIDE_PX}px; min-width: 300px; }}
@media (max-width: 900px) {{ .erji-main, .erji-side {{ flex: 1 1 100%; min-width: 0; }} }}
"""


# --------------------------------------------------------------------------- pure parts


def month_of(day: dt.date) -> str:
    """The period (``YYYY-MM``) a day falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def months_back(today: dt.date, count: int = MONTHS_OFFERED) -> list[str]:
    """``count`` months ending with ``today``'s, newest first."""
    year, month = today.year, today.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found


def _valid_period(value: str) -> bool:
    return (
        len(value) == 7
        and value[4] == "-"
        and value[:4].isdigit()
        and value[5:].isdigit()
        and 1 <= int(value[5:]) <= 12
    )


def format_kpi(code: str, value: float | None, t: _Translate) -> str:
    """A KPI value as people read it: a fraction as a percentage, days with their unit,
    counts as integers, an index with two decimals; ``—`` when there is none."""
    if value is None:
        return "—"
    unit = KPI_UNITS.get(code, "")
    if unit == "%":
        return f"{value * 100:.0f}%"
    if unit == "days":
        return f"{value:.0f} {t('unit_days')}"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.2f}"


def light_dot(light: str | None, t: _Translate, *, small: bool = False, label: str = "") -> str:
    """A coloured dot for a light, named in words for screen readers and on hover."""
    known = light if light in LIGHTS else None
    name = t(f"light_{known or 'none'}")
    title = f"{label}: {name}" if label else name
    size = " small" if small else ""
    return (
        f"<span class='erji-dot{size}' data-light='{known or 'none'}' role='img' "
        f"aria-label='{html.escape(title)}' title='{html.escape(title)}' "
        f"style='background:{LIGHT_COLOURS[known]}'></span>"
    )


def sparkline_svg(
    trend: Sequence[TrendPoint], t: _Translate, *, width_px: int = 100, height_px: int = 26
) -> str:
    """The score trend as a small inline SVG: one slot per month (the newest at the right
    edge), a line through the scores and a dot per month in that month's light colour.

    The vertical scale spans the scores shown, but at least 20 points, so a project that
    wobbles by half a point does not look like it is falling off a cliff."""
    points = list(trend)[-TREND_MONTHS:]
    if not points:
        none = html.escape(t("trend_none"))
        return f"<span class='erji-muted' data-role='sparkline' data-points='0'>{none}</span>"
    pad_px = 4.0
    scores = [p.score for p in points]
    low, high = min(scores), max(scores)
    span = max(high - low, 20.0)
    middle = (low + high) / 2
    bottom, top = middle - span / 2, middle + span / 2
    step = (width_px - 2 * pad_px) / (TREND_MONTHS - 1)
    first_slot = TREND_MONTHS - len(points)

    def xy(i: int, score: float) -> tuple[float, float]:
        x = pad_px + (first_slot + i) * step
        y = pad_px + (top - score) / (top - bottom) * (height_px - 2 * pad_px)
        return round(x, 1), round(y, 1)

    coords = [xy(i, p.score) for i, p in enumerate(points)]
    title = " · ".join(f"{p.period} {p.score:.1f}" for p in points)
    parts = [
        f"<svg class='erji-spark' data-role='sparkline' data-points='{len(points)}' width='{width_px}' "
        f"height='{height_px}' viewBox='0 0 {width_px} {height_px}' role='img' "
        f"aria-label='{html.escape(title)}' "
        "xmlns='http://www.w3.org/2000/svg'>",
        f"<title>{html.escape(title)}</title>",
    ]
    if len(coords) > 1:
        line = " ".join(f"{x},{y}" for x, y in coords)
        parts.append(
            f"<polyline points='{line}' fill='none' stroke='#5b6b7f' stroke-width='1.5' "
            "stroke-linejoin='round' stroke-linecap='round'/>"
        )
    for i, ((x, y), point) in enumerate(zip(coords, points, strict=True)):
        radius = 3.2 if i == len(points) - 1 else 2.2
        colour = LIGHT_COLOURS.get(point.light if point.light in LIGHTS else None)
        parts.append(
            f"<circle cx='{x}' cy='{y}' r='{radius}' fill='{colour}' stroke='#fff' stroke-width='0.8'/>"
        )
    parts.append("</svg>")
    return "".join(parts)


def model_link(project_id: int, lang: str) -> str:
    """The project's model page (its 4D view) in the same language."""
    return f"/viewer/model?project={project_id}&lang={lang}"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _contract(value_cny: float | None, lang: str) -> str:
    if value_cny is None:
        return "—"
    # 亿元 (10^8 CNY) is how a Chinese contract value is read; English readers get millions.
    return f"{value_cny / 1e8:.2f}" if lang == "zh" else f"{value_cny / 1e6:,.0f}"


def region_cards_html(summary: PortfolioSummary, region_id: int | None, t: _Translate) -> str:
    """One card per region (projects by light, mean score, open alerts); with more than
    one region, a first card for all of them. The chosen region's card is outlined."""
    e = html.escape
    cards: list[str] = []

    def card(
        key: str, name: str, projects: int, by_light: dict, mean: float | None, alerts: int, chosen: bool
    ):
        lights = "".join(
            f"<span data-light-count='{light}'>{light_dot(light, t)}"
            f"<span class='n'>{int(by_light.get(light, 0))}</span></span>"
            for light in LIGHTS
        )
        count = t("projects_count_one") if projects == 1 else t("projects_count", n=projects)
        none = int(by_light.get("none", 0))
        if none:
            lights += (
                f"<span data-light-count='none'>{light_dot(None, t)}<span class='n'>{none}</span></span>"
            )
        cards.append(
            f"<div class='erji-card{' chosen' if chosen else ''}' data-role='region-card' "
            f"data-region='{e(key)}'>"
            f"<h3>{e(name)}</h3><div class='erji-muted'>{e(count)}</div>"
            f"<div class='lights'>{lights}</div>"
            f"<div class='facts'><span>{e(t('mean_score'))} <b>{_score(mean)}</b></span>"
            f"<span>{e(t('open_alerts'))} <b>{alerts}</b></span></div></div>"
        )

    regions = summary.regions
    if len(regions) > 1:
        scored = [p.score for p in summary.projects if p.score is not None]
        card(
            "all",
            t("all_projects"),
            len(summary.projects),
            summary.by_light,
            sum(scored) / len(scored) if scored else None,
            sum(r.open_alerts for r in regions),
            region_id is None,
        )
    for region in regions:
        card(
            region.code,
            region.name,
            region.projects,
            region.by_light,
            region.mean_score,
            region.open_alerts,
            region_id == region.id and len(regions) > 1,
        )
    return f"<div class='erji-cards' data-role='region-cards'>{''.join(cards)}</div>"


def sort_projects(
    projects: Iterable[ProjectHealth], how: str, *, region_order: Mapping[int | None, int] | None = None
) -> list[ProjectHealth]:
    """``rank``: by region (in ``region_order``, the server's order; else by name), then rank
    in it (unranked last); ``score``: lowest score first (none last); ``alerts``: most red
    alerts first, then most open ones."""
    never = 10**9
    if how == "score":
        key = lambda p: (p.score is None, p.score if p.score is not None else 0.0, p.code)  # noqa: E731
    elif how == "alerts":
        key = lambda p: (-p.red_alerts, -p.open_alerts, p.score if p.score is not None else never, p.code)  # noqa: E731
    elif region_order is not None:
        key = lambda p: (region_order.get(p.region_id, never), p.rank_in_region or never, p.code)  # noqa: E731
    else:
        key = lambda p: (p.region or "", p.rank_in_region or never, p.code)  # noqa: E731
    return sorted(projects, key=key)


def projects_table_html(projects: Sequence[ProjectHealth], t: _Translate, lang: str) -> str:
    """The projects table; the name links to the project's 4D model. Columns that matter
    least (region, dimension lights, contract value) give way on a narrow screen."""
    e = html.escape
    if not projects:
        return f"<p class='erji-muted' data-role='projects-empty'>{e(t('no_portfolio'))}</p>"
    head = (
        f"<tr><th class='num'>{e(t('col_rank'))}</th><th>{e(t('col_project'))}</th>"
        f"<th class='erji-wide'>{e(t('region'))}</th><th>{e(t('col_light'))}</th>"
        f"<th class='num'>{e(t('col_score'))}</th><th class='erji-wide'>{e(t('col_dimensions'))}</th>"
        f"<th>{e(t('col_trend'))}</th><th class='num'>{e(t('col_alerts'))}</th>"
        f"<th class='num erji-wide'>{e(t('col_contract'))}</th></tr>"
    )
    rows = []
    for p in projects:
        dims = "".join(light_dot(p.lights.get(d), t, small=True, label=t(f"dim_{d}")) for d in DIMENSIONS)
        red = f" <span class='erji-badge red'>{p.red_alerts}</span>" if p.red_alerts else ""
        light_name = t(f"light_{p.light if p.light in LIGHTS else 'none'}")
        rows.append(
            f"<tr data-role='project-row' data-project='{p.id}' data-light='{e(p.light or 'none')}'>"
            f"<td class='num'>{p.rank_in_region or '—'}</td>"
            f"<td class='name'><a class='erji-project' data-role='project-link' data-project='{p.id}' "
            f"href='{e(model_link(p.id, lang))}'>{e(p.name)}</a><br>"
            f"<span class='erji-code'>{e(p.code)}</span></td>"
            f"<td class='erji-wide nowrap'>{e(p.region or '—')}</td>"
            f"<td class='nowrap'>{light_dot(p.light, t)} "
            f"<span class='erji-muted erji-wide'>{e(light_name)}</span></td>"
            f"<td class='num'><b>{_score(p.score)}</b></td>"
            f"<td class='nowrap erji-wide'>{dims}</td>"
            f"<td class='nowrap'>{sparkline_svg(p.trend, t)}</td>"
            f"<td class='num'>{p.open_alerts}{red}</td>"
            f"<td class='num erji-wide'>{_contract(p.contract_value_cny, lang)}</td></tr>"
        )
    return (
        "<div class='erji-table-wrap'><table class='erji-projects' data-role='projects-table'>"
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _local_time(moment: dt.datetime) -> str:
    # The server's time zone is the sites' (as the server's calendar day is, see viewer.app).
    return moment.astimezone().strftime("%m-%d %H:%M")


def alert_html(alert: AlertItem, t: _Translate, lang: str) -> str:
    """One alert of the feed: level, kind, status, when; the project (a link to its model);
    the server's message in the page's language."""
    e = html.escape
    level = alert.level if alert.level in LIGHTS else "yellow"
    kind = t(f"alert_kind_{alert.kind}") if alert.kind in ALERT_KINDS else alert.kind
    status_class = "red" if alert.status == "open" and level == "red" else ""
    by = f" · {e(t('alert_by'))} {e(alert.acknowledged_by)}" if alert.acknowledged_by else ""
    status = t(f"alert_status_{alert.status}") if alert.status in ALERT_STATUSES else alert.status
    return (
        f"<div class='erji-alert {level}' data-role='alert' data-alert='{alert.id}' "
        f"data-status='{e(alert.status)}'>"
        f"<div class='head'>{light_dot(level, t, small=True)}<b>{e(kind)}</b>"
        f"<span class='erji-badge {status_class}' data-role='alert-status'>{e(status)}</span>"
        f"<span class='erji-muted'>{e(_local_time(alert.opened_at))}{by}</span></div>"
        f"<a class='erji-project' data-role='project-link' data-project='{alert.project_id}' "
        f"href='{e(model_link(alert.project_id, lang))}'>{e(alert.project_code)} {e(alert.project_name)}</a>"
        f"<div class='msg'>{e(alert.message(lang))}</div></div>"
    )


def reason_text(reason: Reason, t: _Translate) -> str:
    """``进度 · 最大滞后天数 622 天（−30.0 分）``: the dimension, the KPI, its value, the cost."""
    kpi = t(f"kpi_{reason.code}") if reason.code in KPI_UNITS else reason.code
    dimension = t(f"dim_{reason.dimension}") if reason.dimension in DIMENSIONS else reason.dimension
    value = format_kpi(reason.code, reason.value, t)
    return f"{dimension} · {kpi} {value} (−{reason.shortfall:.1f} {t('points')})"


def bottom_html(
    ranked: RankedProject, out_of: int, actions: Sequence[Action], t: _Translate, lang: str
) -> str:
    """One bottom-three project: rank, name (a link to its model), light, score, its two
    main reasons and the improvement actions recorded for the period."""
    e = html.escape
    reasons = "".join(f"<li>{e(reason_text(r, t))}</li>" for r in ranked.reasons[:2])
    red = (
        f" <span class='erji-badge red'>{e(t('red_dimensions', n=ranked.red_count))}</span>"
        if ranked.red_count
        else ""
    )
    if actions:
        items = "".join(
            f"<li data-role='improvement-action'>{e(a.action)} <span class='erji-muted'>— "
            f"{e(a.owner or '—')} · {e(t('improvement_due'))} {a.due_date.isoformat()} · "
            f"{e(t(f'improvement_status_{a.status}') if a.status in ACTION_STATUSES else a.status)}"
            "</span></li>"
            for a in actions
        )
        done = f"<div class='erji-muted'>{e(t('improvement_actions'))}</div><ul>{items}</ul>"
    else:
        done = f"<div class='erji-muted' data-role='no-improvement'>{e(t('improvement_none'))}</div>"
    return (
        f"<div class='erji-bottom' data-role='bottom-project' data-project='{ranked.project_id}'>"
        f"<h4><span class='rank'>{ranked.rank_in_region}/{out_of}</span>{light_dot(ranked.light, t)} "
        f"<a class='erji-project' data-role='project-link' data-project='{ranked.project_id}' "
        f"href='{e(model_link(ranked.project_id, lang))}'>{e(ranked.code)} {e(ranked.name)}</a> "
        f"<b>{_score(ranked.score)}</b>{red}</h4><ul>{reasons}</ul>{done}</div>"
    )


# --------------------------------------------------------------------------- the page


class PortfolioPage(pn.viewable.Viewer):
    """One user's portfolio (HQ: every region; a regional manager: their region); ``client``
    acts as that user, so the server decides which projects and alerts appear."""

    period = param.String(default="", doc="Month shown, YYYY-MM (lights, scores, ranking); '': this month.")
    region_id = param.Integer(
        default=None, allow_None=True, doc="Region the table and panels show; None: all."
    )
    sort = param.Selector(
        default="rank", objects=["rank", "score", "alerts"], doc="Order of the projects table."
    )
    alert_level = param.Selector(default="all", objects=["all", "red"], doc="Alerts listed in the feed.")
    lang = param.Selector(default=DEFAULT_LANGUAGE, objects=list(LANGUAGES), doc="Page language.")

    def __init__(self, *, client: TwinClient, today: dt.date, **params) -> None:
        super().__init__(**params)
        self._client = client
        self._today = today
        if not _valid_period(self.period):
            self.period = month_of(today)
        self._me: Me | None = None
        self._summary: PortfolioSummary | None = None
        self._ranking: Ranking | None = None
        self._alerts: list[AlertItem] = []
        self._actions: dict[int, list[Action]] = {}
        self._users: list[UserRef] = []
        self._form_project: int | None = None
        self._resolving: int | None = None
        self._period_ticket = 0
        self._alert_ticket = 0
        self._quiet = 0
        self._build_widgets()

    # ---- layout ---------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.title = pn.pane.HTML("", margin=(4, 10), styles={"font-size": "18px", "font-weight": "600"})
        self.map_link = pn.pane.HTML("", margin=(10, 6))
        self.period_select = pn.widgets.Select(width=120, css_classes=["erji-period"])
        self.region_select = pn.widgets.Select(width=180, css_classes=["erji-region"], visible=False)
        self.period_select.param.watch(self._on_period_choice, "value")
        self.region_select.param.watch(self._on_region_choice, "value")
        self.user_line = pn.pane.HTML("", margin=(10, 10))
        self.language = pn.widgets.RadioButtonGroup(
            options={"中文": "zh", "English": "en"}, value=self.lang, width=150
        )
        self.language.link(self, value="lang")
        self.message = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")
        self.cards = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[_CSS], margin=(8, 10))

        self.table_title = pn.pane.HTML("", margin=(6, 10, 0, 10))
        self.sort_select = pn.widgets.Select(width=200, css_classes=["erji-sort"])
        self.sort_select.param.watch(self._on_sort_choice, "value")
        self.table = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[_CSS], margin=(4, 10))

        self.alerts_title = pn.pane.HTML("", margin=(4, 4, 0, 4))
        self.level_select = pn.widgets.Select(width=150, css_classes=["erji-alert-level"])
        self.level_select.param.watch(self._on_level_choice, "value")
        self.alerts_feedback = pn.pane.Alert(
            "", alert_type="info", visible=False, sizing_mode="stretch_width"
        )
        # A long feed scrolls inside its box, so the bottom three stay in sight below it.
        self.alert_list = pn.Column(
            sizing_mode="stretch_width",
            # Panel's max_height becomes min(…px, 100%), which a parent of automatic height
            # voids: the limit is set in CSS directly.
            styles={"max-height": f"{ALERT_FEED_MAX_PX}px", "overflow-y": "auto"},
            css_classes=["erji-alert-feed"],
        )
        self.alerts_count = pn.pane.HTML("", margin=(0, 4))

        self.bottom_title = pn.pane.HTML("", margin=(4, 4, 0, 4))
        self.bottom_feedback = pn.pane.Alert(
            "", alert_type="info", visible=False, sizing_mode="stretch_width"
        )
        self.bottom_list = pn.Column(sizing_mode="stretch_width", css_classes=["erji-bottom-three"])
        # The improvement-action form: shown under the bottom-three project it is for.
        self.form_title = pn.pane.HTML("", margin=(2, 4))
        self.action_text = pn.widgets.TextAreaInput(
            sizing_mode="stretch_width", height=60, max_length=4000, css_classes=["erji-action-text"]
        )
        self.action_owner = pn.widgets.Select(sizing_mode="stretch_width")
        self.action_due = pn.widgets.DatePicker(
            value=self._today + dt.timedelta(days=ACTION_DUE_DAYS), sizing_mode="stretch_width"
        )
        self.action_save = pn.widgets.Button(color="primary", css_classes=["erji-action-save"])
        self.action_save.on_click(lambda _event: pn.state.execute(self.save_action))
        self.action_cancel = pn.widgets.Button(color="light")
        self.action_cancel.on_click(lambda _event: self.close_form())
        self.form = pn.Column(
            self.form_title,
            self.action_text,
            self.action_owner,
            self.action_due,
            pn.Row(self.action_save, self.action_cancel),
            sizing_mode="stretch_width",
            styles=FORM_STYLES,
            css_classes=["erji-improvement-form"],
        )
        self._relabel()

    def __panel__(self):
        header = page_header(
            self.title,
            self.map_link,
            self.period_select,
            self.region_select,
            user_line=self.user_line,
            language=self.language,
        )
        main = pn.Column(
            pn.FlexBox(self.table_title, self.sort_select, align_items="center", sizing_mode="stretch_width"),
            self.table,
            sizing_mode="stretch_width",
            css_classes=["erji-main"],
        )
        alerts = pn.Column(
            pn.FlexBox(
                self.alerts_title, self.level_select, align_items="center", sizing_mode="stretch_width"
            ),
            self.alerts_feedback,
            self.alert_list,
            self.alerts_count,
            sizing_mode="stretch_width",
            styles=_SECTION_STYLES,
            css_classes=["erji-alerts-section"],
        )
        bottom = pn.Column(
            self.bottom_title,
            self.bottom_feedback,
            self.bottom_list,
            sizing_mode="stretch_width",
            styles=_SECTION_STYLES,
            css_classes=["erji-bottom-section"],
        )
        side = pn.Column(alerts, bottom, sizing_mode="stretch_width", css_classes=["erji-side"])
        return pn.Column(
            header,
            self.message,
            self.cards,
            pn.FlexBox(
                main,
                side,
                flex_wrap="wrap",
                align_items="flex-start",
                sizing_mode="stretch_width",
                stylesheets=[_FLEX_CSS],
            ),
            sizing_mode="stretch_width",
            styles={"background": "#eef1f5", "min-height": "100vh"},
        )

    def _t(self, key: str, **values) -> str:
        value = text(key, self.lang)
        return value.format(**values) if values else value

    @contextlib.contextmanager
    def _syncing(self):
        """Widget changes made by the page itself (filling options) are not user choices."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    @param.depends("lang", watch=True)
    def _relabel(self) -> None:
        """Every visible word in the current language (choices are kept)."""
        t = self._t
        self.language.value = self.lang
        with self._syncing():
            self.period_select.name = t("period")
            self._fill_periods()
            self.region_select.name = t("region")
            self._fill_regions()
            self.sort_select.name = t("sort_by")
            self.sort_select.options = {t(f"sort_{s}"): s for s in ("rank", "score", "alerts")}
            self.sort_select.value = self.sort
            self.level_select.name = t("alert_level")
            self.level_select.options = {t("alert_level_all"): "all", t("alert_level_red"): "red"}
            self.level_select.value = self.alert_level
        self.action_text.name = t("improvement_text")
        self.action_owner.name = t("improvement_owner")
        self.action_due.name = t("improvement_due")
        self.action_save.name = t("improvement_save")
        self.action_cancel.name = t("issue_cancel")
        self.title.object = html.escape(f"{t('app_title')} · {t('portfolio_title')}")
        self.table_title.object = (
            f"<b style='font-size:15px'>{html.escape(t('projects_table'))}</b> "
            f"<small style='color:#6a7480'>{html.escape(t('projects_hint'))}</small>"
        )
        self.alerts_title.object = f"<b style='font-size:15px'>{html.escape(t('alert_feed'))}</b>"
        self._link_map()
        self._show_user()
        self._render()

    def _link_map(self) -> None:
        """The site map, showing the same month and region in the same language."""
        query = {"period": self.period, "region": self.region_id, "lang": self.lang}
        href = "/viewer/map?" + "&".join(f"{k}={v}" for k, v in query.items() if v)
        self.map_link.object = (
            f"<a href='{html.escape(href)}' data-role='map-link'>{html.escape(self._t('map_link'))} →</a>"
        )

    def _show_user(self) -> None:
        if self._me is not None:
            self.user_line.object = (
                f"{html.escape(self._t('signed_in_as'))}: <b>{html.escape(self._me.username)}</b> · "
                f"<a href='/login?logout=1&lang={self.lang}'>{html.escape(self._t('log_out'))}</a>"
            )

    def _fill_periods(self) -> None:
        months = months_back(self._today)
        if self.period not in months:
            months = sorted({*months, self.period}, reverse=True)
        self.period_select.options = months
        self.period_select.value = self.period

    def _fill_regions(self) -> None:
        regions = self._summary.regions if self._summary else ()
        options = {self._t("all_regions"): 0, **{r.name: r.id for r in regions}}
        self.region_select.options = options
        self.region_select.value = self.region_id if self.region_id in options.values() else 0
        # A regional manager has one region: nothing to choose.
        self.region_select.visible = len(regions) > 1

    def _warn(self, message: str) -> None:
        self.message.object = message
        self.message.visible = bool(message)

    def _say(self, pane: pn.pane.Alert, message: str, kind: str = "info") -> None:
        pane.object = message
        pane.alert_type = kind
        pane.visible = bool(message)

    @property
    def may_handle_alerts(self) -> bool:
        return self._me is not None and "handle_alerts" in self._me.capabilities

    @property
    def may_manage(self) -> bool:
        return self._me is not None and "manage_org" in self._me.capabilities

    # ---- loading --------------------------------------------------------------------
    async def load(self) -> None:
        """Who the user is, then the month's portfolio, ranking and actions, and the feed."""

        async def everything() -> None:
            self._me = await self._client.me()
            self._show_user()
            await self.load_period()
            await self.load_alerts()

        await self._reload(everything)

    # Answers can come back out of order (a quick second month chosen), so every fetch takes
    # a ticket and its result is dropped unless it is still the latest asked for.
    async def load_period(self) -> None:
        """The summary and ranking of ``period`` and the improvement actions of every
        bottom-three project, then everything is drawn again."""
        self._period_ticket += 1
        ticket = self._period_ticket
        period = self.period
        summary = await self._client.portfolio_summary(period)
        ranking = await self._client.portfolio_ranking(period)
        bottom = sorted({r.project_id for region in ranking.regions for r in region.bottom})
        lists = await asyncio.gather(*(self._client.list_actions(pid) for pid in bottom))
        if ticket != self._period_ticket:
            return
        self._summary, self._ranking = summary, ranking
        self._actions = {
            pid: [a for a in found if a.period == period] for pid, found in zip(bottom, lists, strict=True)
        }
        if self.region_id is not None and self.region_id not in {r.id for r in summary.regions}:
            self.region_id = None
        with self._syncing():
            self._fill_regions()
        self._render()

    async def load_alerts(self) -> None:
        """The live alert feed (open and acknowledged; red only if so filtered)."""
        self._alert_ticket += 1
        ticket = self._alert_ticket
        levels = ("red",) if self.alert_level == "red" else ()
        alerts = await self._client.list_alerts(levels=levels)
        if ticket == self._alert_ticket:
            self._alerts = alerts
            self._render_alerts()

    async def _reload(self, what: Callable[[], object]) -> None:
        await load_or_warn(what, warn=self._warn, text=self._t)

    # ---- choices --------------------------------------------------------------------
    # Plain functions on purpose (as on the model page): ``_quiet`` must be read while the
    # page is still filling the options; an async watcher would run after it is lowered.
    def _on_period_choice(self, event) -> None:
        if self._quiet or not event.new or event.new == self.period:
            return
        self.period = event.new
        self.close_form()
        self._mirror_url()
        pn.state.execute(functools.partial(self._reload, self.load_period))

    def _on_region_choice(self, event) -> None:
        if self._quiet:
            return
        self.region_id = event.new or None
        self._mirror_url()
        self._render()

    def _on_sort_choice(self, event) -> None:
        if self._quiet or not event.new:
            return
        self.sort = event.new
        self._render_table()

    def _on_level_choice(self, event) -> None:
        if self._quiet or not event.new:
            return
        self.alert_level = event.new
        pn.state.execute(functools.partial(self._reload, self.load_alerts))

    @param.depends("lang", watch=True)
    def _mirror_url(self) -> None:
        """The address bar names the month, region and language, so a link or a reload
        shows the same view (one way, page → URL: see ``viewer.app``)."""
        self._link_map()
        location = pn.state.location
        if location is None:
            return
        query = {"period": self.period, "region": self.region_id, "lang": self.lang}
        with contextlib.suppress(Exception):  # no browser connected yet: nothing to update
            location.search = "?" + "&".join(f"{k}={v}" for k, v in query.items() if v)

    # ---- drawing --------------------------------------------------------------------
    def _visible_projects(self) -> list[ProjectHealth]:
        projects = self._summary.projects if self._summary else ()
        if self.region_id is not None:
            projects = [p for p in projects if p.region_id == self.region_id]
        order = {r.id: n for n, r in enumerate(self._summary.regions)} if self._summary else None
        return sort_projects(projects, self.sort, region_order=order)

    def _render(self) -> None:
        if self._summary is not None:
            self.cards.object = region_cards_html(self._summary, self.region_id, self._t)
        self._render_table()
        self._render_alerts()
        self._render_bottom()

    def _render_table(self) -> None:
        if self._summary is None:
            return
        self.table.object = projects_table_html(self._visible_projects(), self._t, self.lang)

    def _render_alerts(self) -> None:
        t = self._t
        alerts = self._alerts
        if self.region_id is not None and self._summary is not None:
            here = {p.id for p in self._summary.projects if p.region_id == self.region_id}
            alerts = [a for a in alerts if a.project_id in here]
        shown = alerts[:MAX_ALERTS_SHOWN]
        cards = [self._alert_card(a) for a in shown]
        if not cards:
            cards = [
                pn.pane.HTML(
                    f"<p style='color:#6a7480' data-role='no-alerts'>{html.escape(t('no_alerts'))}</p>"
                )
            ]
        self.alert_list.objects = cards
        count = t("alerts_shown", shown=len(shown), total=len(alerts))
        self.alerts_count.object = (
            f"<small style='color:#6a7480'>{html.escape(count)}</small>" if len(alerts) > len(shown) else ""
        )

    def _alert_card(self, alert: AlertItem) -> pn.viewable.Viewable:
        t = self._t
        body = pn.pane.HTML(
            alert_html(alert, t, self.lang), sizing_mode="stretch_width", stylesheets=[_CSS], margin=(2, 4)
        )
        controls: list = []
        if self.may_handle_alerts:
            if alert.status == "open":
                ack = pn.widgets.Button(
                    label=t("alert_acknowledge"), color="primary", width=90, css_classes=["erji-alert-ack"]
                )
                ack.on_click(lambda _e, a=alert: pn.state.execute(functools.partial(self.acknowledge, a.id)))
                controls.append(ack)
            resolve = pn.widgets.Button(
                label=t("alert_resolve"),
                color="primary",
                variant="outline",
                width=90,
                css_classes=["erji-alert-resolve"],
            )
            resolve.on_click(lambda _e, a=alert: self._open_resolve(a.id))
            controls.append(resolve)
        parts: list = [body]
        if controls:
            parts.append(pn.Row(*controls, margin=(0, 4)))
        if self._resolving == alert.id:
            note = pn.widgets.TextInput(
                placeholder=t("alert_resolve_note"),
                sizing_mode="stretch_width",
                max_length=4000,
                css_classes=["erji-alert-note"],
            )
            confirm = pn.widgets.Button(
                label=t("alert_resolve_confirm"),
                color="danger",
                width=100,
                css_classes=["erji-alert-resolve-confirm"],
            )
            confirm.on_click(
                lambda _e, a=alert, n=note: pn.state.execute(functools.partial(self.resolve, a.id, n.value))
            )
            parts.append(pn.Row(note, confirm, sizing_mode="stretch_width"))
        return pn.Column(
            *parts,
            sizing_mode="stretch_width",
            styles={"border-bottom": "1px solid #edf0f3"},
            margin=(0, 0, 4, 0),
        )

    def _render_bottom(self) -> None:
        t = self._t
        e = html.escape
        ranking = self._ranking
        state = ""
        if ranking is not None:
            state = t("ranking_frozen") if ranking.frozen else t("ranking_live")
        self.bottom_title.object = (
            f"<b style='font-size:15px'>{e(t('bottom_three'))}</b> "
            f"<small style='color:#6a7480' data-role='ranking-state'>{e(self.period)} · {e(state)}</small>"
        )
        if ranking is None:
            self.bottom_list.objects = []
            return
        blocks: list = []
        for region in ranking.regions:
            if self.region_id is not None and region.region_id != self.region_id:
                continue
            blocks.append(pn.pane.HTML(f"<b>{e(region.region)}</b>", margin=(6, 4, 0, 4)))
            if not region.bottom:
                blocks.append(pn.pane.HTML(f"<small style='color:#6a7480'>{e(t('no_bottom'))}</small>"))
            for ranked in region.bottom:
                actions = self._actions.get(ranked.project_id, [])
                body = pn.pane.HTML(
                    bottom_html(ranked, len(region.ranked), actions, t, self.lang),
                    sizing_mode="stretch_width",
                    stylesheets=[_CSS],
                    margin=(2, 4),
                )
                parts: list = [body]
                if self.may_manage and self._form_project != ranked.project_id:
                    add = pn.widgets.Button(
                        label=t("improvement_add"),
                        color="primary",
                        variant="outline",
                        width=120,
                        css_classes=["erji-improvement-add"],
                    )
                    add.on_click(
                        lambda _e, r=ranked: pn.state.execute(functools.partial(self.open_form, r.project_id))
                    )
                    parts.append(add)
                if self._form_project == ranked.project_id:
                    parts.append(self.form)
                blocks.append(
                    pn.Column(
                        *parts, sizing_mode="stretch_width", styles={"border-bottom": "1px solid #edf0f3"}
                    )
                )
        if not blocks:
            blocks = [pn.pane.HTML(f"<small style='color:#6a7480'>{e(t('no_bottom'))}</small>")]
        self.bottom_list.objects = blocks

    # ---- acting on alerts -----------------------------------------------------------
    def _open_resolve(self, alert_id: int) -> None:
        self._resolving = None if self._resolving == alert_id else alert_id
        self._render_alerts()

    async def acknowledge(self, alert_id: int) -> None:
        """Acknowledge an alert of the feed (the server checks the user may)."""
        alert = next((a for a in self._alerts if a.id == alert_id), None)
        if alert is None:
            return
        try:
            done = await self._client.acknowledge_alert(alert.project_id, alert.id)
        except ViewerError as exc:
            return self._say(self.alerts_feedback, f"{self._t('issue_refused')}: {exc}", "warning")
        self._say(self.alerts_feedback, self._t("alert_acknowledged", project=done.project_code), "success")
        await self._reload(self.load_alerts)

    async def resolve(self, alert_id: int, note: str | None) -> None:
        """Resolve an alert by hand, with what was done."""
        alert = next((a for a in self._alerts if a.id == alert_id), None)
        if alert is None:
            return
        try:
            done = await self._client.resolve_alert(
                alert.project_id, alert.id, note=(note or "").strip() or None
            )
        except ViewerError as exc:
            return self._say(self.alerts_feedback, f"{self._t('issue_refused')}: {exc}", "warning")
        self._resolving = None
        self._say(self.alerts_feedback, self._t("alert_resolved", project=done.project_code), "success")
        await self._reload(self.load_alerts)

    # ---- improvement actions --------------------------------------------------------
    def _project_label(self, project_id: int) -> str:
        for region in self._ranking.regions if self._ranking else ():
            for ranked in region.bottom:
                if ranked.project_id == project_id:
                    return f"{ranked.code} {ranked.name}"
        return str(project_id)

    async def open_form(self, project_id: int) -> None:
        """The improvement-action form for a bottom-three project; the owner is the user
        unless they choose someone else who can see the project."""
        self._form_project = project_id
        self.form_title.object = (
            f"<b>{html.escape(self._t('improvement_for', project=self._project_label(project_id)))}</b>"
        )
        self.action_text.value = ""
        self.action_due.value = self._today + dt.timedelta(days=ACTION_DUE_DAYS)
        try:
            self._users = await self._client.list_users(project_id)
        except ViewerError:
            self._users = []  # the owner list is a convenience: the user can still own it
        me = self._me
        options = {u.label: u.id for u in self._users}
        if me is not None and me.user_id not in options.values():
            options = {me.username: me.user_id, **options}
        self.action_owner.options = options
        if me is not None:
            self.action_owner.value = me.user_id
        self._say(self.bottom_feedback, "")
        self._render_bottom()

    def close_form(self) -> None:
        if self._form_project is not None:
            self._form_project = None
            self._render_bottom()

    async def save_action(self) -> None:
        """Record the form's improvement action for the project and the month shown."""
        project_id = self._form_project
        if project_id is None:
            return
        what = (self.action_text.value or "").strip()
        if not what:
            return self._say(self.bottom_feedback, self._t("improvement_text_needed"), "warning")
        due = self.action_due.value or (self._today + dt.timedelta(days=ACTION_DUE_DAYS))
        try:
            await self._client.create_action(
                project_id,
                period=self.period,
                action=what,
                due_date=due,
                owner_id=self.action_owner.value or None,
            )
            found = await self._client.list_actions(project_id)
        except Refused as exc:
            return self._say(self.bottom_feedback, f"{self._t('issue_refused')}: {exc}", "warning")
        except ViewerError as exc:
            return self._say(self.bottom_feedback, f"{self._t('server_error')}: {exc}", "warning")
        self._actions[project_id] = [a for a in found if a.period == self.period]
        self._form_project = None
        self._say(
            self.bottom_feedback,
            self._t("improvement_saved", project=self._project_label(project_id)),
            "success",
        )
        self._render_bottom()
