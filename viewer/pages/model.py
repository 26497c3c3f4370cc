"""The project model page: the 3D model, its 4D timeline, the tasks of the day and the
picked element — the page a manager tours and an inspector searches.

State is params on ``ModelPage`` (project, revision, schedule, date, selection, language)
mirrored in the URL, so the address bar always shares the current view. Data comes from
the server's API through ``TwinClient``; the 3D view fetches its GLB and 4D payload itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import html
import logging
from collections.abc import Callable, Sequence

import panel as pn
import param

from ..client import ElementDetail, IssueDetail, NotAuthenticated, NotFound, TaskRow, TwinClient, ViewerError
from ..components import ModelScene
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, labels, text
from .issues import IssuesPanel
from .layout import page_header
from .sensors import SensorsPanel

__all__ = ["ModelPage", "active_tasks", "day_number", "iso_date"]

log = logging.getLogger(__name__)
_EPOCH = dt.date(1970, 1, 1)
SIDEBAR_PX = 250
PANEL_PX = 400
# Scrubbing sends a day every 250 ms; the task list waits for this much quiet first.
TASK_REFRESH_DELAY_S = 0.4
# The sensor colours shown "now" are asked again this often while the sensors are on screen.
SENSOR_REFRESH_MS = 60_000
# The right-hand panel's views (switched by buttons).
TAB_ELEMENT, TAB_ISSUES, TAB_SENSORS = 0, 1, 2
# The page's three parts share a wrapping flex row: sidebar | 3D view | panel on a desktop;
# on a narrow screen (a phone on site) the 3D view comes first at full width, then the
# issues/element panel, then the view controls.
_FLEX_CSS = f"""
.erji-sidebar {{ flex: 0 0 {SIDEBAR_PX}px; }}
.erji-scene {{ flex: 1 1 480px; min-width: 0; }}
.erji-panel {{ flex: 0 1 {PANEL_PX}px; min-width: 300px; overflow-y: auto; }}
@media (max-width: 900px) {{
  :host {{ height: auto !important; align-content: flex-start; }}
  .erji-scene {{ order: 1; flex: 1 1 100%; height: 60vh; min-height: 320px; }}
  .erji-panel {{ order: 2; flex: 1 1 100%; min-width: 0; max-height: none !important; overflow: visible; }}
  .erji-sidebar {{ order: 3; flex: 1 1 100%; max-height: none !important; }}
}}
"""


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01: the timeline's unit, as in the 4D engine."""
    return (day - _EPOCH).days


def iso_date(day: int) -> str:
    return (_EPOCH + dt.timedelta(days=day)).isoformat()


def active_tasks(tasks: Sequence[TaskRow], day: dt.date) -> list[TaskRow]:
    """Work tasks (no summaries) going on at ``day``: inside their planned window, or
    started and not finished by then (running late or early counts as active)."""
    found = []
    for t in tasks:
        if t.is_summary:
            continue
        planned = t.planned_start is not None and t.planned_start <= day <= (
            t.planned_finish or t.planned_start
        )
        running = (
            t.actual_start is not None
            and t.actual_start <= day
            and (t.actual_finish is None or day <= t.actual_finish)
        )
        if planned or running:
            found.append(t)
    return found


def _schedule_span(tasks: Sequence[TaskRow]) -> tuple[dt.date, dt.date] | None:
    days = [
        d
        for t in tasks
        for d in (t.planned_start, t.planned_finish, t.actual_start, t.actual_finish)
        if d is not None
    ]
    return (min(days), max(days)) if days else None


class ModelPage(pn.viewable.Viewer):
    """One user's view of one project revision. ``client`` acts as that user."""

    project_id = param.Integer(default=None, allow_None=True, doc="Project shown.")
    revision_id = param.Integer(default=None, allow_None=True, doc="Model revision shown.")
    schedule_id = param.Integer(default=None, allow_None=True, doc="Schedule of the 4D colours; None: none.")
    date = param.String(default="", doc="Timeline date, ISO YYYY-MM-DD.")
    element = param.String(default="", doc="Selected element's GlobalId.")
    issue_id = param.Integer(default=None, allow_None=True, doc="Issue shown in the issues panel.")
    lang = param.Selector(default=DEFAULT_LANGUAGE, objects=list(LANGUAGES), doc="Page language.")

    def __init__(self, *, client: TwinClient, today: dt.date, **params) -> None:
        super().__init__(**params)
        self._client = client
        self._today = today
        self._tasks: list[TaskRow] = []
        self._active: list[TaskRow] = []
        self._revisions = []
        self._project_name = ""
        self.scene = ModelScene(
            sizing_mode="stretch_both", min_height=420, labels=labels(self.lang), css_classes=["erji-scene"]
        )
        self.issues = IssuesPanel(
            client=client,
            today=today,
            restore=self._restore_issue,
            lang=self.lang,
            selected_issue=self.issue_id or 0,
        )
        self.sensors = SensorsPanel(client=client, today=today, lang=self.lang)
        self._build_widgets()
        self.scene.param.watch(self._on_scene_day, "day")
        self.scene.param.watch(self._on_scene_pick, "selected_global_id")
        self.scene.param.watch(self._on_pick_context, ["picked_point_m", "camera"])
        self.scene.param.watch(self._on_storeys, "storey_names")
        self.scene.param.watch(self._on_playing, "playing")
        self.scene.param.watch(self._on_pin, "pin_taps")
        self.issues.param.watch(self._on_pins, "pins")
        self.issues.param.watch(self._on_issues_changed, "revision_token")
        self.issues.param.watch(self._on_issue_shown, "selected_issue")
        self.scene.param.watch(self._on_color_mode, "color_mode")
        self.scene.param.watch(self._on_point_tap, "point_taps")
        self.scene.param.watch(self._on_element_count, "element_count")
        self.sensors.param.watch(self._on_sensor_conditions, "conditions")
        self.sensors.param.watch(self._show_sensor_pins, "pins")
        self.sensors.param.watch(self._on_sensor_moment, "moment_label")
        self.sensors.param.watch(self._on_point_shown, "selected_point")

    # ---- layout ---------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.title = pn.pane.HTML("", margin=(4, 10), styles={"font-size": "18px", "font-weight": "600"})
        self.language = pn.widgets.RadioButtonGroup(
            options={"中文": "zh", "English": "en"}, value=self.lang, width=150
        )
        self.language.link(self, value="lang")
        self.revision_select = pn.widgets.Select(width=220)
        self.schedule_select = pn.widgets.Select(width=260)
        self.revision_select.param.watch(self._on_revision_choice, "value")
        self.schedule_select.param.watch(self._on_schedule_choice, "value")
        self.user_line = pn.pane.HTML("", margin=(10, 10))
        self.message = pn.pane.Alert("", alert_type="warning", visible=False, sizing_mode="stretch_width")

        self.color_mode = pn.widgets.Select(value="status", width=SIDEBAR_PX - 20)
        self.not_started = pn.widgets.RadioButtonGroup(value="ghost", width=SIDEBAR_PX - 20)
        self.storey = pn.widgets.Select(value="", width=SIDEBAR_PX - 20)
        self.storey_mode = pn.widgets.RadioButtonGroup(value="only", width=SIDEBAR_PX - 20)
        self.xray = pn.widgets.Checkbox(value=False)
        self.section_axis = pn.widgets.Select(value="", width=SIDEBAR_PX - 20)
        self.section_position = pn.widgets.FloatSlider(
            start=0, end=1, step=0.01, value=0.5, width=SIDEBAR_PX - 30
        )
        for widget, name in [
            (self.color_mode, "color_mode"),
            (self.not_started, "not_started"),
            (self.storey, "storey"),
            (self.storey_mode, "storey_mode"),
            (self.xray, "xray"),
            (self.section_axis, "section_axis"),
            (self.section_position, "section_position"),
        ]:
            widget.link(self.scene, value=name)

        self.tasks_title = pn.pane.HTML("", margin=(6, 10, 0, 10))
        self.task_table = pn.widgets.Tabulator(
            value=None,
            disabled=True,
            selectable=1,
            show_index=False,
            hidden_columns=["index"],
            sizing_mode="stretch_width",
            height=300,
            layout="fit_data_fill",
        )
        self.task_table.param.watch(self._on_task_choice, "selection")
        self.element_panel = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10))
        self._element_tab = pn.Column(
            self.element_panel, self.tasks_title, self.task_table, sizing_mode="stretch_width"
        )
        # Two panes switched by buttons rather than pn.Tabs: a Bokeh tab panel keeps the height
        # it had when drawn, so an issue's detail growing later would spill over what follows.
        self._issues_view = pn.Column(self.issues, sizing_mode="stretch_width", visible=False)
        self._sensors_view = pn.Column(self.sensors, sizing_mode="stretch_width", visible=False)
        self.panel_switch = pn.widgets.RadioButtonGroup(
            options=self._tab_options(),
            value=TAB_ELEMENT,
            sizing_mode="stretch_width",
            css_classes=["erji-panel-switch"],
        )
        self.panel_switch.param.watch(self._on_panel_switch, "value")
        self._relabel()

    def __panel__(self):
        header = page_header(
            self.title,
            self.revision_select,
            self.schedule_select,
            user_line=self.user_line,
            language=self.language,
        )
        sidebar = pn.Column(
            self.color_mode,
            self.not_started,
            self.storey,
            self.storey_mode,
            self.xray,
            self.section_axis,
            self.section_position,
            width=SIDEBAR_PX,
            css_classes=["erji-sidebar"],
        )
        panel = pn.Column(
            self.panel_switch,
            self._element_tab,
            self._issues_view,
            self._sensors_view,
            sizing_mode="stretch_width",
            css_classes=["erji-panel"],
        )
        # A flex row that wraps: side by side on a desktop; on a phone the 3D view takes the
        # width and the controls and panels follow below it.
        return pn.Column(
            header,
            self.message,
            pn.FlexBox(
                sidebar,
                self.scene,
                panel,
                flex_wrap="wrap",
                align_items="stretch",
                sizing_mode="stretch_both",
                stylesheets=[_FLEX_CSS],
            ),
            sizing_mode="stretch_both",
        )

    def _t(self, key: str) -> str:
        return text(key, self.lang)

    def _tab_options(self) -> dict[str, int]:
        t = self._t
        return {t("tab_element"): TAB_ELEMENT, t("tab_issues"): TAB_ISSUES, t("tab_sensors"): TAB_SENSORS}

    @param.depends("lang", watch=True)
    def _relabel(self) -> None:
        """Every visible word in the current language (widgets keep their values)."""
        t = self._t
        self.scene.labels = labels(self.lang)
        self.language.value = self.lang
        self.revision_select.name = t("revision")
        self.schedule_select.name = t("schedule")
        self.color_mode.name = t("color_mode")
        self.color_mode.options = {
            t(f"mode_{m}"): m for m in ("status", "defects", "sensors", "class", "storey", "original")
        }
        self.not_started.name = t("not_started_as")
        self.not_started.options = {t("not_started_ghost"): "ghost", t("not_started_hidden"): "hidden"}
        self.storey.name = t("storey")
        self._on_storeys()
        self.storey_mode.options = {t("storey_only"): "only", t("storey_isolate"): "isolate"}
        self.xray.name = t("xray")
        self.section_axis.name = t("section")
        self.section_axis.options = {t(f"section_{k or 'off'}"): k for k in ("", "x", "y", "z")}
        self.section_position.name = t("section_position")
        self.tasks_title.object = (
            f"<b>{html.escape(t('active_tasks'))}</b> <small>{html.escape(t('task_hint'))}</small>"
        )
        self.issues.lang = self.lang
        self.sensors.lang = self.lang
        self.panel_switch.options = self._tab_options()
        with self._syncing():
            self._fill_schedule_options()
            self._fill_revision_options()
        self._show_title()
        self._show_user()
        self._show_tasks()
        if self._element is not None or not self.element:
            self._show_element(self._element, self._element_task_keys)

    _element: ElementDetail | None = None
    _defects_version = 0
    _camera_seq = 0
    _element_task_keys: frozenset[str] = frozenset()
    _quiet = 0  # > 0 while the page itself changes widgets (see _syncing)
    _loaded = False  # project, revisions and schedules resolved (see _on_revision_choice)
    _task_ticket = 0
    _sensor_ticket = 0
    _element_ticket = 0
    _focus_ticket = 0

    _username = ""

    def _show_user(self) -> None:
        if self._username:
            self.user_line.object = (
                f"<a href='/viewer/portfolio?lang={self.lang}' data-role='portfolio-link'>"
                f"← {html.escape(self._t('portfolio_link'))}</a> · "
                f"{html.escape(self._t('signed_in_as'))}: <b>{html.escape(self._username)}</b> · "
                f"<a href='/login?logout=1&lang={self.lang}'>{html.escape(self._t('log_out'))}</a>"
            )

    def _show_title(self) -> None:
        self.title.object = html.escape(
            f"{self._t('app_title')} · {self._project_name or self._t('model_page_title')}"
        )

    def _on_storeys(self, *_events) -> None:
        options = {self._t("all_storeys"): ""}
        options.update({name: name for name in self.scene.storey_names})
        self.storey.options = options

    def _fill_revision_options(self) -> None:
        self.revision_select.options = {f"{r.model_name} · {r.label}": r.id for r in self._revisions}
        if self.revision_id in self.revision_select.options.values():
            self.revision_select.value = self.revision_id

    _schedules: list = []  # noqa: RUF012 (replaced on load)

    def _fill_schedule_options(self) -> None:
        options = {self._t("no_schedule"): 0}
        options.update({s.name: s.id for s in self._schedules})
        self.schedule_select.options = options
        if (self.schedule_id or 0) in options.values():
            self.schedule_select.value = self.schedule_id or 0

    def _warn(self, message: str) -> None:
        self.message.object = message
        self.message.visible = bool(message)

    # ---- loading --------------------------------------------------------------------
    async def load(self) -> None:
        """Resolve project / revision / schedule / date (from the URL or defaults) and show them."""
        try:
            self._username = await self._client.whoami()
            self._show_user()
            if self.project_id is None:
                self.project_id = await self._first_project_with_model()
                if self.project_id is None:
                    return self._warn(self._t("no_projects"))
            project = await self._client.get_project(self.project_id)
            self._project_name = f"{project.code} {project.name}"
            self._show_title()
            self._revisions = await self._client.list_revisions(self.project_id)
            if not self._revisions:
                return self._warn(self._t("no_projects"))
            if self.revision_id not in {r.id for r in self._revisions}:
                if self.revision_id is not None:
                    self._warn(self._t("not_found"))
                self.revision_id = self._revisions[0].id
            self._schedules = await self._client.list_schedules(self.project_id)
            if self.schedule_id not in {s.id for s in self._schedules}:
                self.schedule_id = self._schedules[0].id if self._schedules else None
            with self._syncing():
                self._fill_revision_options()
                self._fill_schedule_options()
            self._loaded = True
            self._start_sensor_clock()
            await self._show_revision()
        except NotAuthenticated:
            self._warn(self._t("session_expired"))
        except NotFound:
            self._warn(self._t("not_found"))
        except ViewerError as exc:
            self._warn(f"{self._t('server_error')}: {exc}")

    @contextlib.contextmanager
    def _syncing(self):
        """Widget changes made by the page itself (filling options) are not user choices."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    async def _first_project_with_model(self) -> int | None:
        for project in await self._client.list_projects():
            if await self._client.list_revisions(project.id):
                return project.id
        return None

    async def _show_revision(self) -> None:
        revision = next((r for r in self._revisions if r.id == self.revision_id), None)
        if revision is None:
            self._warn(self._t("not_found"))
            return
        day = self._parse_date(self.date)
        self._tasks = []
        if self.schedule_id:
            self._tasks = await self._fetch_tasks(day or self._today)
            span = _schedule_span(self._tasks)
            if day is None and span:
                # No date asked for: today, or the nearest end of the schedule.
                day = min(max(self._today, span[0]), span[1])
                if day != self._today:
                    self._tasks = await self._fetch_tasks(day)
        day = day or self._today
        self.date = day.isoformat()
        self.scene.day = day_number(day)
        self._show_tasks()
        self.scene.fourd_url = (
            self._client.fourd_url(self.project_id, revision.id, self.schedule_id) if self.schedule_id else ""
        )
        self.scene.color_mode = "status" if self.schedule_id else "class"
        self.color_mode.value = self.scene.color_mode
        self.scene.selected_global_id = self.element
        self.scene.glb_url = revision.glb_url or ""
        self._show_defects()
        await self.sensors.load(project_id=self.project_id, revision_id=revision.id)
        await self._load_element()
        try:
            await self.issues.load(project_id=self.project_id, revision_id=revision.id)
        except ViewerError as exc:
            self._warn(f"{self._t('server_error')}: {exc}")
        if self.issue_id:
            self.panel_switch.value = TAB_ISSUES
        await self._refresh_sensors()

    async def _fetch_tasks(self, day: dt.date) -> list[TaskRow]:
        return await self._client.list_tasks(
            self.project_id, self.schedule_id, at=day, revision_id=self.revision_id
        )

    @staticmethod
    def _parse_date(value: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(value) if value else None
        except ValueError:
            return None

    # ---- reactions ------------------------------------------------------------------
    # Answers can come back out of order (the API runs requests in a thread pool), so every
    # fetch takes a ticket and its result is dropped unless it is still the latest asked for.
    async def _on_scene_day(self, event) -> None:
        if event.new is None or iso_date(event.new) == self.date:
            return
        self.date = iso_date(event.new)
        await self._refresh_day()

    async def _on_playing(self, event) -> None:
        if not event.new:  # playback stopped: one refresh for the day it stopped on
            await self._refresh_day()

    async def _refresh_day(self) -> None:
        """What depends on the timeline date: the task list and the sensor colours."""
        await asyncio.gather(self._refresh_tasks(), self._refresh_sensors(settle=True))

    async def _refresh_tasks(self) -> None:
        """The day's task list, once the timeline has settled: never while playing (the
        status in the 3D view needs no server; the list catches up when playback stops),
        and only the last of a quick series of scrubbed days."""
        if self.scene.playing or not self.schedule_id:
            return
        self._task_ticket += 1
        ticket = self._task_ticket
        await asyncio.sleep(TASK_REFRESH_DELAY_S)
        if ticket != self._task_ticket:
            return
        day = self._parse_date(self.date) or self._today
        try:
            tasks = await self._fetch_tasks(day)
        except ViewerError as exc:
            return self._warn(f"{self._t('server_error')}: {exc}")
        if ticket != self._task_ticket:
            return
        self._tasks = tasks
        self._show_tasks()
        self._show_element(self._element, self._element_task_keys)

    async def _on_scene_pick(self, event) -> None:
        self._on_pick_context()
        if event.new == self.element:
            return
        self.element = event.new
        await self._load_element()

    # ---- issues ---------------------------------------------------------------------
    def _on_panel_switch(self, event) -> None:
        self._element_tab.visible = event.new == TAB_ELEMENT
        self._issues_view.visible = event.new == TAB_ISSUES
        self._sensors_view.visible = event.new == TAB_SENSORS
        if event.new == TAB_SENSORS and self.sensors.needs_refresh(self._parse_date(self.date)):
            pn.state.execute(self._refresh_sensors)

    def _on_pick_context(self, *_events) -> None:
        """The picked element, the point on it and the view go to the issue form."""
        self.issues.set_pick(
            global_id=self.scene.selected_global_id,
            point_m=self.scene.picked_point_m,
            camera=self.scene.camera,
            day=self.date,
            color_mode=self.scene.color_mode,
        )

    def _on_pins(self, event) -> None:
        self.scene.pins = event.new

    def _on_issues_changed(self, _event) -> None:
        self._show_defects()

    def _on_issue_shown(self, event) -> None:
        self.issue_id = event.new or None
        self.scene.selected_issue = event.new or 0

    def _on_pin(self, _event) -> None:
        """A pin was tapped: show its issue and go back to where it was raised."""
        if self.scene.selected_issue:
            self.panel_switch.value = TAB_ISSUES
            pn.state.execute(functools.partial(self.issues.choose, self.scene.selected_issue, restore=True))

    def _show_defects(self) -> None:
        """Point the 3D view at the current defects payload (a new URL makes it refetch)."""
        if self.project_id and self.revision_id:
            self._defects_version += 1
            url = self._client.severity_url(self.project_id, self.revision_id)
            self.scene.defects_url = f"{url}&v={self._defects_version}"

    async def _restore_issue(self, detail: IssueDetail) -> None:
        """Go to where the issue was raised: its 4D date, its camera, its element."""
        row = detail.row
        if row.fourd_date is not None:
            self.date = row.fourd_date.isoformat()
            self.scene.day = day_number(row.fourd_date)
        element = row.global_ids[0] if row.global_ids else ""
        self.scene.selected_issue = row.id
        # The pick is now the issue's element and its point (never the last click's point on
        # another element: a new issue raised from here must pin where this one is).
        self.scene.picked_point_m = list(row.point_m or [])
        if element and element != self.element:
            self.element = element
            self.scene.selected_global_id = element  # frames the element ...
        if detail.camera:  # ... then the issue's own camera, sent after, wins
            self._camera_seq += 1
            self.scene.goto_camera = {**detail.camera, "seq": self._camera_seq}
        self._on_pick_context()
        if element:
            await self._load_element()
        if row.fourd_date is not None:
            await self._refresh_day()

    # ---- sensors --------------------------------------------------------------------
    def _sensors_wanted(self) -> bool:
        """Sensor states are asked for only while someone looks at them."""
        return self.scene.color_mode == "sensors" or self.panel_switch.value == TAB_SENSORS

    async def _refresh_sensors(self, *, settle: bool = False) -> None:
        """The sensor colours, pins and list at the timeline date (now at today); with
        ``settle``, only once the timeline has been still a moment, never while playing."""
        if not self._sensors_wanted() or self.project_id is None:
            return
        if settle:
            self._sensor_ticket += 1
            ticket = self._sensor_ticket
            await asyncio.sleep(TASK_REFRESH_DELAY_S)
            if ticket != self._sensor_ticket or self.scene.playing:
                return
        await self.sensors.refresh(day=self._parse_date(self.date))

    def _start_sensor_clock(self) -> None:
        """While the sensors show "now", ask again every minute (a page with no live
        session, e.g. under test, has no periodic callbacks: nothing to do then)."""

        async def tick() -> None:
            if self.sensors.live and not self.scene.playing:
                await self._refresh_sensors()

        with contextlib.suppress(Exception):
            pn.state.add_periodic_callback(tick, period=SENSOR_REFRESH_MS)

    def _on_color_mode(self, event) -> None:
        self._show_sensor_pins()
        if event.new == "sensors" and self._loaded:
            if self.panel_switch.value == TAB_SENSORS:
                pn.state.execute(self._refresh_sensors)
            else:
                self.panel_switch.value = TAB_SENSORS  # which asks, unless what is shown is current

    def _on_element_count(self, event) -> None:
        self.sensors.element_count = event.new  # the sensor bytes are made for this many rows

    def _on_sensor_conditions(self, event) -> None:
        self.scene.sensor_conditions = event.new

    def _show_sensor_pins(self, *_events) -> None:
        """Sensor pins are drawn in the sensors colour mode only (the issue pins always)."""
        self.scene.sensor_pins = self.sensors.pins if self.scene.color_mode == "sensors" else []

    def _on_sensor_moment(self, event) -> None:
        self.scene.legend_note = event.new

    def _on_point_shown(self, event) -> None:
        self.scene.selected_point = event.new

    def _on_point_tap(self, _event) -> None:
        """A sensor pin was tapped: show its point and its readings."""
        if self.scene.selected_point:
            self.panel_switch.value = TAB_SENSORS
            pn.state.execute(functools.partial(self.sensors.choose, self.scene.selected_point))

    # Choice watchers are plain functions on purpose: ``_quiet`` must be read while the page
    # is still filling the options; an async watcher would run after the flag is lowered.
    # Before ``load`` has finished, the selects only echo what the page put in them (Panel
    # resets a value its options lack when the page first renders): never a user choice.
    def _on_revision_choice(self, event) -> None:
        if not self._loaded or self._quiet or event.new is None or event.new == self.revision_id:
            return
        self.revision_id = event.new
        self.element = ""
        pn.state.execute(self._reload)

    def _on_schedule_choice(self, event) -> None:
        new = event.new or None
        if not self._loaded or self._quiet or new == self.schedule_id:
            return
        self.schedule_id = new
        pn.state.execute(self._reload)

    async def _reload(self) -> None:
        try:
            self._warn("")
            await self._show_revision()
        except ViewerError as exc:
            self._warn(f"{self._t('server_error')}: {exc}")

    def _on_task_choice(self, event) -> None:
        if self._quiet or not event.new or event.new[0] >= len(self._active):
            return
        task = self._active[event.new[0]]
        pn.state.execute(functools.partial(self._focus_task, task))

    async def _focus_task(self, task: TaskRow) -> None:
        """Select and frame every element linked to the chosen task (not only those whose
        main task it is); the element selection gives way to it."""
        self.element = ""
        self.scene.selected_global_id = ""
        await self._load_element()
        self._focus_ticket += 1
        ticket = self._focus_ticket
        try:
            rows = await self._client.task_elements(
                self.project_id, self.revision_id, self.schedule_id, task.key
            )
        except ViewerError as exc:
            return self._warn(f"{self._t('server_error')}: {exc}")
        if ticket == self._focus_ticket:
            self.scene.focus_rows = rows

    # ---- task list and element panel --------------------------------------------------
    def _show_tasks(self) -> None:
        import pandas as pd  # Panel's own dependency; only the table needs it

        day = self._parse_date(self.date)
        self._active = active_tasks(self._tasks, day) if day else []
        t = self._t
        rows = [
            {
                "index": task.index,
                t("task_wbs"): task.wbs_code or "",
                t("task_name"): task.name,
                t("task_start"): task.planned_start.isoformat() if task.planned_start else "",
                t("task_finish"): task.planned_finish.isoformat() if task.planned_finish else "",
                t("task_status"): t(f"status_{task.status}") if task.status else "",
                t("task_delay"): task.delay_days if task.delay_days else "",
            }
            for task in self._active
        ]
        columns = ["index", *[t(k) for k in ("task_wbs", "task_name", "task_start", "task_finish")]]
        columns += [t("task_status"), t("task_delay")]
        with self._syncing():
            self.task_table.value = pd.DataFrame(rows, columns=columns)
            self.task_table.selection = []
        self.task_table.placeholder = t("no_active_tasks")

    async def _load_element(self) -> None:
        """Detail and linked task keys of the selected element, once per selection (the
        statuses shown come from the day's task list, so a date change needs no call)."""
        self._element_ticket += 1
        ticket = self._element_ticket
        if not self.element:
            self._element, self._element_task_keys = None, frozenset()
            return self._show_element(None, frozenset())
        try:
            detail = await self._client.get_element(self.project_id, self.revision_id, self.element)
            keys: frozenset[str] = frozenset()
            if self.schedule_id:
                linked = await self._client.list_tasks(
                    self.project_id,
                    self.schedule_id,
                    at=self._parse_date(self.date) or self._today,
                    revision_id=self.revision_id,
                    global_id=self.element,
                )
                keys = frozenset(t.key for t in linked)
        except NotFound:
            if ticket == self._element_ticket:
                self._element, self._element_task_keys = None, frozenset()
                self.element_panel.object = f"<p>{html.escape(self._t('element_not_found'))}</p>"
            return
        except ViewerError as exc:
            return self._warn(f"{self._t('server_error')}: {exc}")
        if ticket != self._element_ticket:
            return  # another element was picked meanwhile
        self._element, self._element_task_keys = detail, keys
        self._show_element(detail, keys)

    def _show_element(self, detail: ElementDetail | None, keys: frozenset[str]) -> None:
        tasks = [t for t in self._tasks if t.key in keys]
        self.element_panel.object = element_html(detail, tasks, self._t)


def element_html(detail: ElementDetail | None, tasks: list[TaskRow], t: Callable[[str], str]) -> str:
    """The side panel for one element: identity, linked tasks, property groups (one
    collapsible block per set, the first open). Every value is escaped."""
    e = html.escape
    if detail is None:
        return f"<p style='color:#6a7480'>{e(t('no_selection'))}</p>"
    rows = [
        (t("global_id"), f"<code data-role='global-id'>{e(detail.global_id)}</code>"),
        (t("ifc_class"), e(detail.ifc_class)),
        (t("name"), e(detail.name or "—")),
        (t("type_name"), e(detail.type_name or "—")),
        (t("storey"), e(detail.storey_name or "—")),
    ]
    if detail.classifications:
        rows.append((t("classifications"), e("; ".join(detail.classifications))))
    if detail.materials:
        rows.append((t("materials"), e("; ".join(detail.materials))))
    parts = [f"<h4 style='margin:6px 0'>{e(t('element'))}</h4><table class='erji-kv'>"]
    parts += [f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows]
    parts.append("</table>")
    parts.append(f"<h4 style='margin:8px 0 4px'>{e(t('linked_tasks'))}</h4>")
    if tasks:
        parts.append("<table class='erji-kv' data-role='element-tasks'>")
        for task in tasks:
            planned = f"{task.planned_start or '?'} → {task.planned_finish or '?'}"
            actual = f"{task.actual_start or '…'} → {task.actual_finish or '…'}"
            status = t(f"status_{task.status}") if task.status else ""
            parts.append(
                f"<tr><th>{e(task.wbs_code or '')} {e(task.name)}</th><td>{e(t('planned'))} {e(planned)}<br>"
                f"{e(t('actual'))} {e(actual)}<br><b>{e(status)}</b></td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append(f"<p style='color:#6a7480'>{e(t('no_linked_tasks'))}</p>")
    parts.append(f"<h4 style='margin:8px 0 4px'>{e(t('properties'))}</h4>")
    for i, group in enumerate(detail.groups):
        kind = t("quantities") if group.kind == "qto" else t("properties")
        opened = " open" if i == 0 else ""
        parts.append(f"<details{opened}><summary>{e(group.name)} <small>({e(kind)})</small></summary>")
        parts.append("<table class='erji-kv'>")
        for name, value in group.values.items():
            unit = group.units.get(name, "")
            shown = f"{value} {unit}".strip() if value is not None else "—"
            parts.append(f"<tr><th>{e(str(name))}</th><td>{e(shown)}</td></tr>")
        parts.append("</table></details>")
    style = (
        "<style>.erji-kv{border-collapse:collapse;width:100%;font-size:12px}"
        ".erji-kv th{text-align:left;font-weight:500;color:#44505f;padding:2px 6px 2px 0;"
        "vertical-align:top;width:40%}"
        ".erji-kv td{padding:2px 0;word-break:break-all}</style>"
    )
    return style + "".join(parts)
