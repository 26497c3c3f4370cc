"""The portfolio dashboard: its pure parts (sparklines, the table, cards, alerts, the bottom
three) and the page's own logic with a stand-in client (no server): what it shows for whom,
in which language, and what it sends when an alert is acknowledged or an action recorded."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re

import pytest

from viewer.client import (
    Action,
    AlertItem,
    Me,
    PortfolioSummary,
    ProjectHealth,
    RankedProject,
    Ranking,
    Reason,
    RegionRanking,
    RegionRollup,
    TrendPoint,
    UserRef,
)
from viewer.i18n import CATALOGUE, text
from viewer.pages.portfolio import (
    KPI_UNITS,
    LIGHT_COLOURS,
    PortfolioPage,
    alert_html,
    bottom_html,
    format_kpi,
    months_back,
    projects_table_html,
    reason_text,
    region_cards_html,
    sort_projects,
    sparkline_svg,
)

TODAY = dt.date(2026, 12, 6)
NOW = dt.datetime(2026, 12, 6, 2, 30, tzinfo=dt.UTC)
zh = lambda key, **v: text(key, "zh").format(**v) if v else text(key, "zh")  # noqa: E731
en = lambda key, **v: text(key, "en").format(**v) if v else text(key, "en")  # noqa: E731


def _trend(*scores_lights) -> tuple[TrendPoint, ...]:
    months = ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"][-len(scores_lights) :]
    return tuple(TrendPoint(m, s, light) for m, (s, light) in zip(months, scores_lights, strict=True))


def _project(pid, code, region_id, region, light, score, rank, *, alerts=(0, 0), trend=()) -> ProjectHealth:
    return ProjectHealth(
        id=pid,
        code=code,
        name=f"项目 {code}",
        region_id=region_id,
        region=region,
        contract_value_cny=6.8e8,
        light=light,
        score=score,
        rank_in_region=rank,
        lights={"schedule": light or "green", "quality": "green", "safety": "yellow", "other": "green"},
        trend=trend,
        open_alerts=alerts[0],
        red_alerts=alerts[1],
    )


PROJECTS = (
    _project(
        1,
        "SH-PD-01",
        10,
        "华东区域公司",
        "red",
        62.0,
        3,
        alerts=(5, 5),
        trend=_trend((90, "green"), (62, "red")),
    ),
    _project(2, "HZ-XS-02", 10, "华东区域公司", "green", 99.4, 2, alerts=(1, 0)),
    _project(3, "NJ-JB-01", 10, "华东区域公司", "green", 100.0, 1),
    _project(4, "SZ-NS-01", 20, "华南区域公司", "yellow", 88.0, 1, alerts=(2, 0)),
    _project(5, "GZ-NEW-01", 20, "华南区域公司", None, None, None),
)
SUMMARY = PortfolioSummary(
    period="2026-12",
    projects=PROJECTS,
    regions=(
        RegionRollup(10, "EAST", "华东区域公司", 3, {"green": 2, "yellow": 0, "red": 1, "none": 0}, 87.1, 6),
        RegionRollup(20, "SOUTH", "华南区域公司", 2, {"green": 0, "yellow": 1, "red": 0, "none": 1}, 88.0, 2),
    ),
    by_light={"green": 2, "yellow": 1, "red": 1, "none": 1},
)
WORST = RankedProject(
    1,
    "SH-PD-01",
    "项目 SH-PD-01",
    62.0,
    "red",
    1,
    3,
    (Reason("schedule", "max_delay_days", 622.0, 30.0), Reason("quality", "closure_rate", 0.25, 5.0)),
)
RANKING = Ranking(
    period="2026-12",
    frozen=False,
    regions=(
        RegionRanking(10, "华东区域公司", ranked=(), bottom=(WORST,)),
        RegionRanking(20, "华南区域公司", ranked=(), bottom=()),
    ),
)


def _alert(aid: int, project_id: int, level: str = "red", status: str = "open") -> AlertItem:
    code = next(p.code for p in PROJECTS if p.id == project_id)
    return AlertItem(
        id=aid,
        project_id=project_id,
        project_code=code,
        project_name=f"项目 {code}",
        rule_code="task_delay",
        kind="task_delay",
        level=level,
        value=8.0,
        message_zh="任务「<b>主体结构</b>」滞后 8 天",
        message_en="Task '<b>Structure</b>' is 8 days late",
        status=status,
        opened_at=NOW,
        updated_at=NOW,
        acknowledged_by="east" if status == "acknowledged" else None,
        resolved_by=None,
    )


# --------------------------------------------------------------------------- pure parts


def test_the_sparkline_puts_the_newest_month_at_the_right_edge_in_its_light() -> None:
    svg = sparkline_svg(_trend((95, "green"), (90, "yellow"), (62, "red")), zh, width_px=100, height_px=26)
    assert "data-points='3'" in svg and "<polyline" in svg
    circles = re.findall(r"<circle cx='([\d.]+)' cy='([\d.]+)' r='([\d.]+)' fill='(#\w+)'", svg)
    assert [c[3] for c in circles] == [LIGHT_COLOURS["green"], LIGHT_COLOURS["yellow"], LIGHT_COLOURS["red"]]
    xs = [float(c[0]) for c in circles]
    assert xs[-1] == 96.0 and xs == sorted(xs)  # six slots, the newest at the right edge
    ys = [float(c[1]) for c in circles]
    assert ys[0] < ys[1] < ys[2]  # falling score, falling line (SVG y grows downwards)
    assert float(circles[-1][2]) > float(circles[0][2])  # this month's dot stands out
    assert "2026-12 62.0" in svg  # the hover title names month and score
    # A flat trend stays flat-looking: a half-point wobble is not drawn as a cliff.
    flat = sparkline_svg(_trend((99.5, "green"), (100.0, "green")), zh)
    ys = [float(y) for y in re.findall(r"cy='([\d.]+)'", flat)]
    assert abs(ys[0] - ys[1]) < 1.0
    assert "data-points='0'" in sparkline_svg((), zh) and "暂无数据" in sparkline_svg((), zh)
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing to fetch


def test_kpi_values_read_as_people_read_them() -> None:
    assert format_kpi("closure_rate", 0.25, zh) == "25%"
    assert (
        format_kpi("max_delay_days", 622.0, zh) == "622 天" and format_kpi("max_delay_days", 6.0, en) == "6 d"
    )
    assert format_kpi("late_tasks", 3.0, en) == "3" and format_kpi("spi", 0.876, en) == "0.88"
    assert format_kpi("spi", None, en) == "—"
    assert reason_text(WORST.reasons[0], zh) == "进度 · 最大滞后天数 622 天 (−30.0 分)"
    assert reason_text(WORST.reasons[1], en) == "Quality · Closure rate 25% (−5.0 pts)"


def test_the_viewer_knows_every_kpi_and_alert_kind_the_server_has() -> None:
    """The viewer keeps its own labels and units (it imports nothing of the server): they
    must not drift from the server's definitions."""
    from twin_server.domain.alerts import RuleKind
    from twin_server.domain.kpis import KPI_DEFINITIONS, Dimension

    definitions = (
        KPI_DEFINITIONS if isinstance(KPI_DEFINITIONS, dict) else {d.code: d for d in KPI_DEFINITIONS}
    )
    assert {code: d.unit for code, d in definitions.items()} == KPI_UNITS
    for code, definition in definitions.items():
        assert CATALOGUE[f"kpi_{code}"] == {"zh": definition.label_zh, "en": definition.label_en}
    assert {f"dim_{d.value}" for d in Dimension} <= set(CATALOGUE)
    assert {f"alert_kind_{k.value}" for k in RuleKind} <= set(CATALOGUE)


def test_the_table_links_each_project_to_its_model_and_escapes_everything() -> None:
    evil = dataclasses.replace(PROJECTS[0], name="<script>alert(1)</script>", code="A&B")
    page = projects_table_html([evil, PROJECTS[4]], zh, "zh")
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "A&amp;B" in page
    assert "href='/viewer/model?project=1&amp;lang=zh'" in page
    assert "data-role='project-row' data-project='1' data-light='red'" in page
    assert "data-light='none'" in page and "未计算" in page  # not computed yet: grey, and said so
    assert page.count("data-role='sparkline'") == 2
    assert "6.80" in page  # 6.8 亿元
    english = projects_table_html([PROJECTS[0]], en, "en")
    assert "lang=en" in english and "Last 6 months" in english and "680" in english
    assert "Schedule: Red" in english  # each dimension's dot is named in words
    assert "没有项目" in projects_table_html([], zh, "zh")


def test_sorting_by_rank_score_or_alerts() -> None:
    codes = lambda how: [p.code for p in sort_projects(PROJECTS, how)]  # noqa: E731
    assert codes("rank") == ["NJ-JB-01", "HZ-XS-02", "SH-PD-01", "SZ-NS-01", "GZ-NEW-01"]
    assert codes("score") == ["SH-PD-01", "SZ-NS-01", "HZ-XS-02", "NJ-JB-01", "GZ-NEW-01"]
    assert codes("alerts")[:3] == ["SH-PD-01", "SZ-NS-01", "HZ-XS-02"]
    # By rank, the regions come in the server's order (as the cards and the bottom three).
    south_first = sort_projects(PROJECTS, "rank", region_order={20: 0, 10: 1})
    assert [p.code for p in south_first][:2] == ["SZ-NS-01", "GZ-NEW-01"]


def test_region_cards_count_lights_and_add_an_all_card_only_for_several_regions() -> None:
    cards = region_cards_html(SUMMARY, None, zh)
    assert cards.count("data-role='region-card'") == 3
    assert "data-region='all'" in cards and "全部项目" in cards and "5 个项目" in cards
    east = cards[cards.index("data-region='EAST'") :]
    assert re.search(r"data-light-count='red'>.*?<span class='n'>1</span>", east)
    assert "87.1" in east
    assert "data-light-count='none'" in cards  # SOUTH has a project not yet computed
    one = PortfolioSummary("2026-12", PROJECTS[:3], SUMMARY.regions[:1], SUMMARY.regions[0].by_light)
    assert "data-region='all'" not in region_cards_html(one, None, en)
    assert "erji-card chosen' data-role='region-card' data-region='SOUTH'" in region_cards_html(
        SUMMARY, 20, zh
    )


def test_an_alert_speaks_the_page_language_and_escapes_the_message() -> None:
    chinese = alert_html(_alert(7, 1), zh, "zh")
    assert "任务滞后" in chinese and "待处理" in chinese and "&lt;b&gt;主体结构" in chinese
    assert "<b>主体结构" not in chinese
    assert "href='/viewer/model?project=1&amp;lang=zh'" in chinese
    english = alert_html(_alert(7, 1, status="acknowledged"), en, "en")
    assert "Task delay" in english and "Acknowledged" in english and "by east" in english
    assert "&lt;b&gt;Structure" in english


def test_a_bottom_project_shows_its_two_reasons_and_its_actions() -> None:
    action = Action(
        3, 1, "2026-12", (), "增加<浇筑>班组", 5, "华东区域经理", dt.date(2026, 12, 20), "planned", None
    )
    block = bottom_html(WORST, 3, [action], zh, "zh")
    assert "3/3" in block and "最大滞后天数 622 天" in block and "问题闭合率 25%" in block
    assert "增加&lt;浇筑&gt;班组" in block and "华东区域经理" in block and "2026-12-20" in block
    assert "红灯维度 1 个" in block
    assert "本月尚无整改措施" in bottom_html(WORST, 3, [], zh, "zh")
    assert "No improvement action" in bottom_html(WORST, 3, [], en, "en")


def test_months_back_crosses_the_year() -> None:
    assert months_back(dt.date(2026, 2, 10), 4) == ["2026-02", "2026-01", "2025-12", "2025-11"]


# --------------------------------------------------------------------------- the page


class FakeClient:
    """Answers as the server would for one user; records what the page sends."""

    def __init__(self, capabilities=("read", "manage_org", "handle_alerts")) -> None:
        self.capabilities = frozenset(capabilities)
        self.alerts = [_alert(7, 1), _alert(8, 4, level="yellow"), _alert(9, 2, status="acknowledged")]
        self.acknowledged: list[tuple[int, int]] = []
        self.resolved: list[tuple[int, int, str | None]] = []
        self.created: list[dict] = []
        self.periods: list[str | None] = []

    async def me(self) -> Me:
        return Me(5, "east", "regional_manager", self.capabilities)

    async def portfolio_summary(self, period=None) -> PortfolioSummary:
        self.periods.append(period)
        return SUMMARY

    async def portfolio_ranking(self, period=None) -> Ranking:
        return RANKING

    async def list_alerts(self, *, statuses=("open", "acknowledged"), levels=(), limit=200):
        return [a for a in self.alerts if not levels or a.level in levels]

    async def acknowledge_alert(self, project_id: int, alert_id: int) -> AlertItem:
        self.acknowledged.append((project_id, alert_id))
        self.alerts = [
            _alert(a.id, a.project_id, a.level, "acknowledged") if a.id == alert_id else a
            for a in self.alerts
        ]
        return next(a for a in self.alerts if a.id == alert_id)

    async def resolve_alert(self, project_id: int, alert_id: int, *, note=None) -> AlertItem:
        self.resolved.append((project_id, alert_id, note))
        done = next(a for a in self.alerts if a.id == alert_id)
        self.alerts = [a for a in self.alerts if a.id != alert_id]
        return done

    async def list_actions(self, project_id: int) -> list[Action]:
        return [
            Action(
                n + 1,
                project_id,
                c["period"],
                (),
                c["action"],
                c["owner_id"],
                "east",
                c["due_date"],
                "planned",
                None,
            )
            for n, c in enumerate(self.created)
            if c["project_id"] == project_id
        ]

    async def create_action(self, project_id: int, *, period, action, due_date, owner_id=None) -> Action:
        self.created.append(
            {
                "project_id": project_id,
                "period": period,
                "action": action,
                "due_date": due_date,
                "owner_id": owner_id,
            }
        )
        return (await self.list_actions(project_id))[-1]

    async def list_users(self, project_id: int) -> list[UserRef]:
        return [
            UserRef(5, "east", "华东区域经理", "regional_manager"),
            UserRef(9, "pm", "项目经理", "site_manager"),
        ]


def _page(client: FakeClient, **params) -> PortfolioPage:
    page = PortfolioPage(client=client, today=TODAY, **params)
    asyncio.run(page.load())
    return page


def _html(objects) -> str:
    """Every HTML pane's text under a Panel layout."""
    found = []
    for obj in objects:
        if hasattr(obj, "objects"):
            found.append(_html(obj.objects))
        elif isinstance(getattr(obj, "object", None), str):
            found.append(obj.object)
    return "".join(found)


def _buttons(layout, css: str) -> list:
    found = []
    for obj in layout.objects:
        if css in (getattr(obj, "css_classes", None) or []):
            found.append(obj)
        if hasattr(obj, "objects"):
            found += _buttons(obj, css)
    return found


def test_the_page_shows_this_months_portfolio_alerts_and_bottom_three() -> None:
    client = FakeClient()
    page = _page(client)
    assert page.period == "2026-12" and client.periods == ["2026-12"]
    assert page.period_select.options[0] == "2026-12" and len(page.period_select.options) == 12
    assert page.table.object.count("data-role='project-row'") == 5
    assert page.cards.object.count("data-role='region-card'") == 3
    feed = _html(page.alert_list.objects)
    assert feed.count("data-role='alert'") == 3 and "任务滞后" in feed
    bottom = _html(page.bottom_list.objects)
    assert "SH-PD-01" in bottom and "最大滞后天数" in bottom and "本月实时" in page.bottom_title.object
    assert page.region_select.visible  # HQ-like: several regions to choose from
    assert len(_buttons(page.alert_list, "erji-alert-ack")) == 2  # the open ones only
    assert len(_buttons(page.bottom_list, "erji-improvement-add")) == 1


def test_the_region_filter_cuts_the_table_the_feed_and_the_bottom_three() -> None:
    page = _page(FakeClient())
    page.region_select.value = 20
    assert page.region_id == 20
    assert page.table.object.count("data-role='project-row'") == 2 and "SH-PD-01" not in page.table.object
    assert _html(page.alert_list.objects).count("data-role='alert'") == 1
    assert "SH-PD-01" not in _html(page.bottom_list.objects)
    page.region_select.value = 0
    assert page.region_id is None and page.table.object.count("data-role='project-row'") == 5


def test_switching_the_language_redraws_every_word_and_keeps_the_choices() -> None:
    page = _page(FakeClient())
    page.region_select.value = 10
    page.lang = "en"
    assert "Portfolio dashboard" in page.title.object and "Rank in region" in page.sort_select.options
    assert "Last 6 months" in page.table.object and "lang=en" in page.table.object
    assert "Task delay" in _html(page.alert_list.objects) and "Largest delay" in _html(
        page.bottom_list.objects
    )
    assert (
        page.region_id == 10
        and page.region_select.value == 10
        and "All regions" in page.region_select.options
    )
    page.lang = "zh"
    assert "区域管控看板" in page.title.object and "近 6 个月" in page.table.object


def test_acknowledging_and_resolving_an_alert_refresh_the_feed() -> None:
    client = FakeClient()
    page = _page(client)
    asyncio.run(page.acknowledge(7))
    assert client.acknowledged == [(1, 7)]
    assert "data-alert='7' data-status='acknowledged'" in _html(page.alert_list.objects)
    assert page.alerts_feedback.alert_type == "success" and "SH-PD-01" in page.alerts_feedback.object
    page._open_resolve(8)
    assert _buttons(page.alert_list, "erji-alert-resolve-confirm")
    asyncio.run(page.resolve(8, "  已处理 "))
    assert client.resolved == [(4, 8, "已处理")]
    assert "data-alert='8'" not in _html(page.alert_list.objects)


def test_an_improvement_action_goes_to_the_month_shown_owned_by_the_user_by_default() -> None:
    client = FakeClient()
    page = _page(client)
    asyncio.run(page.open_form(1))
    assert page.action_owner.value == 5 and set(page.action_owner.options.values()) == {5, 9}
    assert page.form in _buttons_or_form(page.bottom_list)
    asyncio.run(page.save_action())  # nothing written yet: asked for, not sent
    assert client.created == [] and page.bottom_feedback.alert_type == "warning"
    page.action_text.value = "每周进度例会"
    asyncio.run(page.save_action())
    (sent,) = client.created
    assert sent["project_id"] == 1 and sent["period"] == "2026-12" and sent["owner_id"] == 5
    assert sent["due_date"] == TODAY + dt.timedelta(days=14)
    assert "每周进度例会" in _html(page.bottom_list.objects) and page.form not in _buttons_or_form(
        page.bottom_list
    )


def _buttons_or_form(layout) -> list:
    found = []
    for obj in layout.objects:
        found.append(obj)
        if hasattr(obj, "objects"):
            found += _buttons_or_form(obj)
    return found


@pytest.mark.parametrize(
    ("capabilities", "acks", "adds"),
    [(("read",), 0, 0), (("read", "handle_alerts"), 2, 0), (("read", "manage_org"), 0, 1)],
    ids=["hq viewer", "site manager", "manage only"],
)
def test_buttons_appear_only_for_what_the_user_may_do(capabilities, acks, adds) -> None:
    page = _page(FakeClient(capabilities))
    assert len(_buttons(page.alert_list, "erji-alert-ack")) == acks
    assert len(_buttons(page.bottom_list, "erji-improvement-add")) == adds


def test_a_month_from_the_url_is_kept_and_a_bad_one_falls_back_to_this_month() -> None:
    client = FakeClient()
    page = _page(client, period="2025-03")
    assert client.periods == ["2025-03"] and "2025-03" in page.period_select.options
    assert PortfolioPage(client=client, today=TODAY, period="2026-13").period == "2026-12"
