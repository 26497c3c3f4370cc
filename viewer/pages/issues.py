"""The issues side of the model page: the list with its filters, one issue's detail with
the steps the user may take, and the form that raises an issue on the picked element.

``IssuesPanel`` talks to the server only through ``TwinClient`` and to the 3D view only
through the page (``ModelPage`` wires it): it reports the pins to draw and asks the page to
restore an issue's view (camera, element, 4D date) when one is chosen. What a user may do
is what the server says (``allowed_actions``, capabilities): the panel never decides rules.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import logging
from collections.abc import Awaitable, Callable, Sequence

import panel as pn
import param

from ..client import IssueDetail, IssueRow, Me, Refused, TwinClient, UserRef, ViewerError
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, text
from .layout import FORM_STYLES

__all__ = ["LIVE_STATUSES", "IssuesPanel", "issue_detail_html", "pins_for"]

log = logging.getLogger(__name__)

#: Statuses still in the loop (what "in the loop" filters on, and what pins stand out for).
LIVE_STATUSES = ("open", "ready_for_review", "disputed")
STATUSES = ("draft", "open", "ready_for_review", "disputed", "closed", "void")
SEVERITIES = ("minor", "major", "critical")
KINDS = ("quality", "safety", "coordination")
#: Steps that need a reason (the server refuses them without one).
NEEDS_REASON = frozenset({"reinspect_fail", "dispute", "void"})
MAX_PHOTO_BYTES = 20 * 1024 * 1024  # as the server: a larger photo is refused before sending


def pins_for(issues: Sequence[IssueRow]) -> list[dict]:
    """The 3D view's pins: every listed issue that has a point on an element."""
    return [
        {
            "id": issue.id,
            "number": issue.number,
            "point_m": list(issue.point_m),
            "severity": issue.severity,
            "status": issue.status,
            "title": issue.title,
        }
        for issue in issues
        if issue.point_m is not None
    ]


def issue_detail_html(
    detail: IssueDetail | None, t: Callable[[str], str], photo_url: Callable[[str], str]
) -> str:
    """One issue: what, where, who, its photos and comments. Every value is escaped."""
    e = html.escape
    if detail is None:
        return f"<p style='color:#6a7480'>{e(t('issue_no_selection'))}</p>"
    row = detail.row
    overdue = f" <b style='color:#c62828'>{e(t('issue_overdue'))}</b>" if row.overdue else ""
    rows = [
        (t("issue_kind"), e(t(f"kind_{row.kind}"))),
        (t("issue_severity"), e(t(f"severity_{row.severity}"))),
        (
            t("issue_status"),
            f"<span data-role='issue-status'>{e(t(f'issue_status_{row.status}'))}</span>{overdue}",
        ),
        (t("issue_assignee"), e(row.assignee or "—")),
        (t("issue_due"), e(row.due_date.isoformat() if row.due_date else "—")),
        (t("issue_creator"), e(detail.creator)),
        (t("issue_verifier"), e(detail.verifier or "—")),
        (t("issue_fourd_date"), e(row.fourd_date.isoformat() if row.fourd_date else "—")),
        (t("issue_elements"), "<br>".join(f"<code>{e(g)}</code>" for g in row.global_ids[:5]) or "—"),
    ]
    if detail.reopened_count:
        rows.append((t("issue_reopened"), str(detail.reopened_count)))
    parts = [
        f"<h4 style='margin:6px 0' data-role='issue-title'>#{row.number} {e(row.title)}</h4>",
        f"<p style='white-space:pre-wrap;margin:4px 0'>{e(detail.description or '')}</p>",
        "<table class='erji-kv'>",
        *(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows),
        "</table>",
    ]
    if detail.photos:
        parts.append("<div style='display:flex;flex-wrap:wrap;gap:4px;margin:6px 0'>")
        for photo in detail.photos:
            caption = {"before": t("photo_before"), "after": t("photo_after")}.get(photo.role, photo.role)
            title = f"{photo.file_name} {photo.exif_time or ''}".strip()
            parts.append(
                f"<figure style='margin:0;text-align:center;font-size:11px'>"
                f"<img src='{e(photo_url(photo.sha256))}' alt='{e(title)}' title='{e(title)}' "
                f"style='width:88px;height:66px;object-fit:cover;border-radius:3px'>"
                f"<figcaption>{e(caption)}</figcaption></figure>"
            )
        parts.append("</div>")
    if detail.comments:
        parts.append(f"<h5 style='margin:6px 0 2px'>{e(t('issue_comments'))}</h5>")
        for comment in detail.comments:
            when = comment.created_at.strftime("%Y-%m-%d %H:%M")
            parts.append(
                f"<p style='margin:2px 0;font-size:12px'><b>{e(comment.author)}</b> "
                f"<small style='color:#6a7480'>{e(when)}</small><br>"
                f"<span style='white-space:pre-wrap'>{e(comment.text)}</span></p>"
            )
    return "".join(parts)


class IssuesPanel(pn.viewable.Viewer):
    """Issues of one project revision for one user; ``client`` acts as that user."""

    lang = param.Selector(default=DEFAULT_LANGUAGE, objects=list(LANGUAGES), doc="Panel language.")
    selected_issue = param.Integer(default=0, doc="The issue shown in detail (0: none).")
    pins = param.List(default=[], item_type=dict, doc="Pins of the listed issues, for the 3D view.")
    revision_token = param.Integer(
        default=0, doc="Bumped whenever issues change (refreshes the defects colours)."
    )

    def __init__(
        self,
        *,
        client: TwinClient,
        today: dt.date,
        restore: Callable[[IssueDetail], Awaitable[None]],
        **params,
    ) -> None:
        super().__init__(**params)
        self._client = client
        self._today = today
        self._restore = restore
        self._project_id: int | None = None
        self._revision_id: int | None = None
        self._me: Me | None = None
        self._users: list[UserRef] = []
        self._issues: list[IssueRow] = []
        self._detail: IssueDetail | None = None
        self._pick: dict = {}
        self._list_ticket = 0
        self._detail_ticket = 0
        self._quiet = 0
        self._build()

    # ---- widgets --------------------------------------------------------------------
    def _build(self) -> None:
        self.status_filter = pn.widgets.Select(sizing_mode="stretch_width", min_width=120)
        self.severity_filter = pn.widgets.Select(sizing_mode="stretch_width", min_width=100)
        self.assignee_filter = pn.widgets.Select(sizing_mode="stretch_width", min_width=120)
        self.overdue_filter = pn.widgets.Checkbox(value=False)
        for widget in (self.status_filter, self.severity_filter, self.assignee_filter, self.overdue_filter):
            widget.param.watch(self._on_filter, "value")
        self.table = pn.widgets.Tabulator(
            value=None,
            disabled=True,
            selectable=1,
            show_index=False,
            hidden_columns=["id"],
            sizing_mode="stretch_width",
            max_height=280,  # a long list scrolls inside the table, a short one takes its rows' height
            layout="fit_data_fill",
        )
        self.table.param.watch(self._on_table_choice, "selection")
        self.detail = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 8))
        self.reason = pn.widgets.TextAreaInput(sizing_mode="stretch_width", height=60, max_length=4000)
        self.actions = pn.Row(sizing_mode="stretch_width", styles={"flex-wrap": "wrap"})
        self.photo_input = pn.widgets.FileInput(accept="image/jpeg,image/png", sizing_mode="stretch_width")
        self.photo_input.param.watch(self._on_photo, "value")
        self.comment_button = pn.widgets.Button(color="light")
        self.comment_button.on_click(lambda _event: pn.state.execute(self._add_comment))
        self.feedback = pn.pane.Alert("", alert_type="info", visible=False, sizing_mode="stretch_width")

        # The form that raises an issue on the picked element.
        self.new_button = pn.widgets.Button(color="primary", disabled=True, sizing_mode="stretch_width")
        self.new_button.on_click(lambda _event: self._open_form())
        self.kind = pn.widgets.Select(sizing_mode="stretch_width")
        self.title_input = pn.widgets.TextInput(
            sizing_mode="stretch_width", max_length=200, css_classes=["erji-issue-title"]
        )
        self.description = pn.widgets.TextAreaInput(sizing_mode="stretch_width", height=70, max_length=20_000)
        self.severity = pn.widgets.Select(sizing_mode="stretch_width")
        self.assignee = pn.widgets.Select(sizing_mode="stretch_width")
        self.due = pn.widgets.DatePicker(
            value=self._today + dt.timedelta(days=3), sizing_mode="stretch_width"
        )
        # A major safety hazard (重大隐患) opens only with its treatment plan: asked for then.
        self.treatment_plan = pn.widgets.TextAreaInput(
            sizing_mode="stretch_width", height=60, max_length=20_000, visible=False
        )
        self.kind.param.watch(self._on_kind, "value")
        self.severity.param.watch(self._show_plan, "value")
        self.form_photo = pn.widgets.FileInput(accept="image/jpeg,image/png", sizing_mode="stretch_width")
        self.create_button = pn.widgets.Button(color="primary")
        self.create_button.on_click(lambda _event: pn.state.execute(self._create))
        self.cancel_button = pn.widgets.Button(color="light")
        self.cancel_button.on_click(lambda _event: self._close_form())
        self.form_where = pn.pane.HTML("", sizing_mode="stretch_width")
        self.form = pn.Column(
            self.form_where,
            self.kind,
            self.title_input,
            self.description,
            self.severity,
            self.treatment_plan,
            self.assignee,
            self.due,
            self.form_photo,
            pn.Row(self.create_button, self.cancel_button),
            visible=False,
            sizing_mode="stretch_width",
            styles=FORM_STYLES,
            css_classes=["erji-issue-form"],
        )
        self.detail_box = pn.Column(
            self.detail,
            self.actions,
            self.reason,
            self.photo_input,
            self.comment_button,
            visible=False,
            sizing_mode="stretch_width",
        )
        self._relabel()

    def __panel__(self):
        filters = pn.FlexBox(
            self.status_filter,
            self.severity_filter,
            self.assignee_filter,
            self.overdue_filter,
            sizing_mode="stretch_width",
        )
        return pn.Column(
            self.new_button,
            self.form,
            self.feedback,
            filters,
            self.table,
            self.detail_box,
            sizing_mode="stretch_width",
        )

    def _t(self, key: str, **values) -> str:
        value = text(key, self.lang)
        return value.format(**values) if values else value

    @param.depends("lang", watch=True)
    def _relabel(self) -> None:
        t = self._t
        self._quiet += 1
        try:
            self.status_filter.name = t("issue_status")
            status_options = {t("issue_status_live"): "live", t("issue_status_all"): "all"}
            status_options.update({t(f"issue_status_{s}"): s for s in STATUSES})
            self.status_filter.options = status_options
            if self.status_filter.value is None:
                self.status_filter.value = "live"
            self.severity_filter.name = t("issue_severity")
            self.severity_filter.options = {
                t("severity_all"): "",
                **{t(f"severity_{s}"): s for s in SEVERITIES},
            }
            self.assignee_filter.name = t("issue_assignee")
            self._fill_users()
            self.overdue_filter.name = t("issue_overdue_only")
            self.new_button.name = t("new_issue_here")
            self.kind.name = t("issue_kind")
            self.kind.options = {t(f"kind_{k}"): k for k in KINDS}
            self.title_input.name = t("issue_title")
            self.description.name = t("issue_description")
            self.severity.name = t("issue_severity")
            self._fill_severities()
            self.treatment_plan.name = t("issue_treatment_plan")
            self.assignee.name = t("issue_assignee")
            self.due.name = t("issue_due")
            self.form_photo.name = t("issue_photo")
            self.create_button.name = t("issue_create")
            self.cancel_button.name = t("issue_cancel")
            self.reason.name = t("issue_reason")
            self.reason.placeholder = t("issue_reason_hint")
            self.photo_input.name = t("issue_add_photo")
            self.comment_button.name = t("issue_add_comment")
        finally:
            self._quiet -= 1
        self._show_where()
        self._show_list()
        self._show_detail()

    def _fill_severities(self) -> None:
        """A hazard is graded 一般隐患 / 重大隐患; a defect or topic 一般 / 较大 / 严重."""
        if self.kind.value == "safety":
            options = {self._t("hazard_minor"): "minor", self._t("hazard_major"): "major"}
        else:
            options = {self._t(f"severity_{s}"): s for s in SEVERITIES}
        current = self.severity.value
        self.severity.options = options
        self.severity.value = current if current in options.values() else "minor"

    def _on_kind(self, _event) -> None:
        self._fill_severities()
        self._show_plan()

    def _show_plan(self, *_events) -> None:
        self.treatment_plan.visible = self.kind.value == "safety" and self.severity.value == "major"

    def _fill_users(self) -> None:
        t = self._t
        everyone = {t("assignee_all"): 0}
        everyone.update({u.label: u.id for u in self._users})
        self.assignee_filter.options = everyone
        if self.assignee_filter.value not in everyone.values():
            self.assignee_filter.value = 0
        choices = {t("assignee_none"): 0, **{u.label: u.id for u in self._users}}
        self.assignee.options = choices
        if self.assignee.value not in choices.values() or not self.assignee.value:
            # The responsible party on site is who rectifies, usually: offer them first.
            site = next((u.id for u in self._users if u.role == "site_manager"), 0)
            self.assignee.value = site

    def _say(self, message: str, kind: str = "info") -> None:
        self.feedback.object = message
        self.feedback.alert_type = kind
        self.feedback.visible = bool(message)

    # ---- loading --------------------------------------------------------------------
    async def load(self, *, project_id: int, revision_id: int | None) -> None:
        """Show the issues of ``project_id`` (pins on ``revision_id``)."""
        self._project_id, self._revision_id = project_id, revision_id
        self._me = await self._client.me()
        self._users = await self._client.list_users(project_id)
        self._quiet += 1
        try:
            self._fill_users()
        finally:
            self._quiet -= 1
        self._show_where()
        # A pick made before the panel knew the user (a shared link's element) counts now.
        self.new_button.disabled = not (self._pick.get("global_id") and self.may_raise)
        await self.refresh()
        if self.selected_issue:
            await self.choose(self.selected_issue, restore=True)

    @property
    def may_raise(self) -> bool:
        return self._me is not None and "raise_issue" in self._me.capabilities

    def _filters(self) -> dict:
        status = self.status_filter.value or "live"
        statuses = LIVE_STATUSES if status == "live" else () if status == "all" else (status,)
        return {
            "statuses": statuses,
            "severities": (self.severity_filter.value,) if self.severity_filter.value else (),
            "overdue": True if self.overdue_filter.value else None,
            "assignee_id": self.assignee_filter.value or None,
        }

    async def refresh(self) -> None:
        """Fetch the list again (filters applied); stale answers are dropped."""
        if self._project_id is None:
            return
        self._list_ticket += 1
        ticket = self._list_ticket
        try:
            issues = await self._client.list_issues(self._project_id, **self._filters())
        except ViewerError as exc:
            return self._say(f"{self._t('server_error')}: {exc}", "warning")
        if ticket != self._list_ticket:
            return
        self._issues = issues
        self._show_list()
        self.pins = pins_for(issues)

    def _on_filter(self, _event) -> None:
        if not self._quiet:
            pn.state.execute(self.refresh)

    def _show_list(self) -> None:
        import pandas as pd  # Panel's own dependency; only the table needs it

        t = self._t
        rows = [
            {
                "id": i.id,
                t("issue_no"): i.number,
                t("issue_title"): i.title,
                t("issue_severity"): t(f"severity_{i.severity}"),
                t("issue_status"): t(f"issue_status_{i.status}") + (" ⚠" if i.overdue else ""),
                t("issue_assignee"): i.assignee or "",
                t("issue_due"): i.due_date.isoformat() if i.due_date else "",
            }
            for i in self._issues
        ]
        columns = ["id", *(t(k) for k in ("issue_no", "issue_title", "issue_severity", "issue_status"))]
        columns += [t("issue_assignee"), t("issue_due")]
        self._quiet += 1
        try:
            self.table.value = pd.DataFrame(rows, columns=columns)
            chosen = [n for n, i in enumerate(self._issues) if i.id == self.selected_issue]
            self.table.selection = chosen[:1]
        finally:
            self._quiet -= 1
        self.table.placeholder = t("no_issues")

    # ---- choosing an issue ------------------------------------------------------------
    def _on_table_choice(self, event) -> None:
        if self._quiet or not event.new or event.new[0] >= len(self._issues):
            return
        # A partial of the coroutine function, not a lambda: execute awaits only what it
        # recognises as a coroutine function.
        pn.state.execute(functools.partial(self.choose, self._issues[event.new[0]].id, restore=True))

    async def choose(self, issue_id: int, *, restore: bool) -> None:
        """Show one issue; with ``restore``, the page goes to its viewpoint and 4D date."""
        self._detail_ticket += 1
        ticket = self._detail_ticket
        self.selected_issue = issue_id
        if not issue_id or self._project_id is None:
            self._detail = None
            return self._show_detail()
        try:
            detail = await self._client.get_issue(self._project_id, issue_id)
        except ViewerError as exc:
            self._detail = None
            self._show_detail()
            return self._say(f"{self._t('server_error')}: {exc}", "warning")
        if ticket != self._detail_ticket:
            return
        self._detail = detail
        self._show_detail()
        self._show_list()
        if restore:
            await self._restore(detail)

    def _show_detail(self) -> None:
        detail = self._detail
        project = self._project_id
        issue_id = detail.row.id if detail else 0
        self.detail.object = issue_detail_html(
            detail, self._t, lambda sha: TwinClient.photo_url(project or 0, issue_id, sha)
        )
        self.detail_box.visible = detail is not None
        buttons = []
        for action in detail.allowed_actions if detail else ():
            button = pn.widgets.Button(
                name=self._t(f"action_{action}"),
                color="danger" if action in ("void", "reinspect_fail") else "primary",
                css_classes=[f"erji-action-{action}"],
            )
            button.on_click(
                lambda _event, action=action: pn.state.execute(functools.partial(self._act, action))
            )
            buttons.append(button)
        self.actions.objects = buttons
        may_add = detail is not None and detail.row.status not in ("closed", "void")
        self.photo_input.visible = may_add
        self.reason.visible = detail is not None

    async def _act(self, action: str) -> None:
        detail = self._detail
        if detail is None or self._project_id is None:
            return
        note = (self.reason.value or "").strip()
        if action in NEEDS_REASON and not note:
            return self._say(self._t("issue_reason_needed"), "warning")
        try:
            updated = await self._client.act_on_issue(
                self._project_id,
                detail.row.id,
                action,
                reason=note if action in NEEDS_REASON else None,
                comment=note if action not in NEEDS_REASON else None,
            )
        except Refused as exc:
            return self._say(f"{self._t('issue_refused')}: {exc}", "warning")
        except ViewerError as exc:
            return self._say(f"{self._t('server_error')}: {exc}", "warning")
        self.reason.value = ""
        self._detail = updated
        self._say(self._t("issue_done", action=self._t(f"action_{action}")), "success")
        self._show_detail()
        await self._changed()

    async def _add_comment(self) -> None:
        detail = self._detail
        note = (self.reason.value or "").strip()
        if detail is None or self._project_id is None or not note:
            return
        try:
            await self._client.add_comment(self._project_id, detail.row.id, note)
        except ViewerError as exc:
            return self._say(f"{self._t('issue_refused')}: {exc}", "warning")
        self.reason.value = ""
        await self.choose(detail.row.id, restore=False)

    def _on_photo(self, event) -> None:
        if self._quiet or not event.new:
            return
        pn.state.execute(self._upload_photo)

    async def _upload_photo(self) -> None:
        detail, data = self._detail, self.photo_input.value
        if detail is None or self._project_id is None or not data:
            return
        # The assignee's photo answers the finding; anyone else's documents it.
        role = "after" if self._me and detail.row.assignee_id == self._me.user_id else "before"
        try:
            if len(data) > MAX_PHOTO_BYTES:
                raise Refused(self._t("photo_too_large"))
            await self._client.add_photo(
                self._project_id,
                detail.row.id,
                role=role,
                file_name=self.photo_input.filename or "photo.jpg",
                data=data,
            )
        except ViewerError as exc:
            self._say(f"{self._t('issue_refused')}: {exc}", "warning")
        finally:
            self._quiet += 1
            try:
                self.photo_input.value = None
            finally:
                self._quiet -= 1
        await self.choose(detail.row.id, restore=False)

    async def _changed(self) -> None:
        self.revision_token += 1
        await self.refresh()

    # ---- raising an issue -----------------------------------------------------------
    def set_pick(
        self, *, global_id: str, point_m: Sequence[float], camera: dict, day: str, color_mode: str
    ) -> None:
        """What the user picked in 3D: the element, the point on it, the view and the date."""
        self._pick = {
            "global_id": global_id,
            "point_m": list(point_m) if len(point_m) == 3 else None,
            "camera": dict(camera) if camera else None,
            "day": day,
            "color_mode": color_mode,
        }
        self.new_button.disabled = not (global_id and self.may_raise)
        self._show_where()

    def _show_where(self) -> None:
        pick = self._pick
        e = html.escape
        if not pick.get("global_id"):
            self.form_where.object = f"<small>{e(self._t('new_issue_pick_first'))}</small>"
            return
        self.form_where.object = (
            f"<small>{e(self._t('issue_elements'))}: <code>{e(pick['global_id'])}</code> · "
            f"{e(self._t('issue_fourd_date'))}: {e(pick.get('day') or '—')}</small>"
        )

    def _open_form(self) -> None:
        if not self._pick.get("global_id"):
            return self._say(self._t("new_issue_pick_first"), "warning")
        self.form.visible = True
        self._say("")

    def _close_form(self) -> None:
        self.form.visible = False
        self.title_input.value = ""
        self.description.value = ""
        self.treatment_plan.value = ""
        self.form_photo.value = None

    async def _create(self) -> None:
        pick = self._pick
        if self._project_id is None or not pick.get("global_id"):
            return self._say(self._t("new_issue_pick_first"), "warning")
        title = (self.title_input.value or "").strip()
        if not title:
            return self._say(self._t("issue_title_needed"), "warning")
        photo = self.form_photo.value
        if photo and len(photo) > MAX_PHOTO_BYTES:
            return self._say(self._t("photo_too_large"), "warning")
        fields = {
            "kind": self.kind.value,
            "title": title,
            "description": self.description.value or None,
            "severity": self.severity.value,
            "assignee_id": self.assignee.value or None,
            "due_date": self.due.value.isoformat() if self.due.value else None,
            "global_ids": [pick["global_id"]],
            "revision_id": self._revision_id,
            "point_m": pick.get("point_m"),
            "fourd_date": pick.get("day") or None,
            "viewpoint": {
                "camera": pick.get("camera"),
                "selected_global_ids": [pick["global_id"]],
                "color_mode": pick.get("color_mode"),
            },
        }
        if self.treatment_plan.visible and (self.treatment_plan.value or "").strip():
            fields["treatment_plan"] = self.treatment_plan.value.strip()
        try:
            created = await self._client.create_issue(self._project_id, fields)
        except Refused as exc:
            return self._say(f"{self._t('issue_refused')}: {exc}", "warning")
        except ViewerError as exc:
            return self._say(f"{self._t('server_error')}: {exc}", "warning")
        # The issue exists from here on: the form closes whatever happens to the photo, so
        # pressing the button again cannot raise it twice.
        file_name = self.form_photo.filename or "photo.jpg"
        self._close_form()
        message, kind = self._t("issue_created", n=created.row.number), "success"
        if photo:
            try:
                await self._client.add_photo(
                    self._project_id, created.row.id, role="before", file_name=file_name, data=photo
                )
            except ViewerError as exc:
                message, kind = f"{message}; {self._t('photo_not_added')}: {exc}", "warning"
        self._say(message, kind)
        await self._changed()
        await self.choose(created.row.id, restore=False)
