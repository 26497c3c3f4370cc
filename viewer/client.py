"""The viewer's one door to the server: a small async client over the public REST API.

The pages never touch the database or the server's code: they ask the same API a script
would, as the logged-in user, so the server's access rules decide what a page may show.
``twin_server.main`` hands in an ``httpx`` transport that calls the app in-process (no
socket); any other transport (a real URL) works the same way.

Errors (one root, ``ViewerError``):
- ``NotAuthenticated``  the user's session ended (401);
- ``NotFound``          unknown id, or a project outside the user's scope (404/403);
- ``ServerError``       anything else the server refused or failed to answer.
JSON stops here: callers get the dataclasses below.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

__all__ = [
    "Action",
    "AlertItem",
    "CommentItem",
    "ElementDetail",
    "IssueDetail",
    "IssueRow",
    "Me",
    "NotAuthenticated",
    "NotFound",
    "PhotoItem",
    "PointState",
    "PortfolioSites",
    "PortfolioSummary",
    "ProjectHealth",
    "ProjectKpis",
    "ProjectRef",
    "ProjectSite",
    "PropertyGroup",
    "RankedProject",
    "Ranking",
    "ReadingSeries",
    "Reason",
    "RegionRanking",
    "RegionRollup",
    "RevisionRef",
    "ScheduleRef",
    "SensorStates",
    "SeriesPoint",
    "ServerError",
    "SiteAlert",
    "TaskRow",
    "Thresholds",
    "TrendPoint",
    "TwinClient",
    "UserRef",
    "ViewerError",
]


class ViewerError(Exception):
    """Root of the viewer's errors; ``str()`` is one line a page can show."""


class NotAuthenticated(ViewerError):
    """The session is gone (expired, logged out, revoked)."""


class NotFound(ViewerError):
    """No such thing, or not visible to this user."""


class ServerError(ViewerError):
    """The server refused the request or could not answer."""


class Refused(ServerError):
    """The server understood and refused (403 not your step, 409 wrong status, 413/415/422
    bad input): ``str()`` is the server's one-line reason, fit to show the user."""


@dataclass(frozen=True, slots=True)
class ProjectRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class RevisionRef:
    id: int
    model_id: int
    model_name: str
    label: str
    state: str
    glb_url: str | None


@dataclass(frozen=True, slots=True)
class ScheduleRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class TaskRow:
    index: int
    key: str
    wbs_code: str | None
    name: str
    is_summary: bool
    planned_start: dt.date | None
    planned_finish: dt.date | None
    actual_start: dt.date | None
    actual_finish: dt.date | None
    status: str | None
    delay_days: float | None


@dataclass(frozen=True, slots=True)
class PropertyGroup:
    name: str
    kind: str  # "pset" or "qto"
    values: dict[str, Any]
    units: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ElementDetail:
    global_id: str
    ifc_class: str
    name: str | None
    type_name: str | None
    storey_name: str | None
    groups: tuple[PropertyGroup, ...]
    classifications: tuple[str, ...]
    materials: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Me:
    user_id: int
    username: str
    role: str
    capabilities: frozenset[str]


@dataclass(frozen=True, slots=True)
class UserRef:
    id: int
    username: str
    display_name: str | None
    role: str

    @property
    def label(self) -> str:
        return (
            f"{self.display_name or self.username} ({self.username})" if self.display_name else self.username
        )


@dataclass(frozen=True, slots=True)
class IssueRow:
    """One issue in a list: what the list, the pins and the filters need."""

    id: int
    number: int
    kind: str
    title: str
    severity: str
    status: str
    overdue: bool
    due_date: dt.date | None
    assignee_id: int | None
    assignee: str | None
    global_ids: tuple[str, ...]
    point_m: tuple[float, float, float] | None  # IFC world frame, metres
    fourd_date: dt.date | None


@dataclass(frozen=True, slots=True)
class CommentItem:
    author: str
    text: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PhotoItem:
    sha256: str
    role: str
    file_name: str
    exif_time: str | None
    round: int


@dataclass(frozen=True, slots=True)
class IssueDetail:
    row: IssueRow
    description: str | None
    creator: str
    verifier: str | None
    reopened_count: int
    allowed_actions: tuple[str, ...]
    camera: dict[str, Any] | None  # the raising viewpoint's camera (BCF, IFC world frame)
    comments: tuple[CommentItem, ...]
    photos: tuple[PhotoItem, ...]


# ---- the regional layer (portfolio, ranking, alerts, improvement actions) --------------
# Lights are "green" / "yellow" / "red", or None before a project's first computation.
# Scores are composite points 0..100 (higher is better); periods are months "YYYY-MM".


@dataclass(frozen=True, slots=True)
class TrendPoint:
    period: str
    score: float
    light: str


@dataclass(frozen=True, slots=True)
class ProjectHealth:
    """One project's line on the portfolio: its light, score and rank for the period, the
    light of each dimension, its score trend (oldest first) and its live alerts."""

    id: int
    code: str
    name: str
    region_id: int | None
    region: str | None
    contract_value_cny: float | None
    light: str | None
    score: float | None
    rank_in_region: int | None
    lights: dict[str, str]  # dimension (schedule/quality/safety/other) -> light
    trend: tuple[TrendPoint, ...]
    open_alerts: int
    red_alerts: int


@dataclass(frozen=True, slots=True)
class RegionRollup:
    id: int
    code: str
    name: str
    projects: int
    by_light: dict[str, int]  # green/yellow/red/none -> projects
    mean_score: float | None
    open_alerts: int


@dataclass(frozen=True, slots=True)
class PortfolioSummary:
    period: str
    projects: tuple[ProjectHealth, ...]
    regions: tuple[RegionRollup, ...]
    by_light: dict[str, int]


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a score falls short: the KPI ``code`` of ``dimension`` with its ``value``, and
    the weighted points it costs (``shortfall``)."""

    dimension: str
    code: str
    value: float | None
    shortfall: float


@dataclass(frozen=True, slots=True)
class RankedProject:
    project_id: int
    code: str
    name: str
    score: float
    light: str
    red_count: int  # red dimensions (the tie-breaker)
    rank_in_region: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class RegionRanking:
    region_id: int
    region: str
    ranked: tuple[RankedProject, ...]
    bottom: tuple[RankedProject, ...]  # the three worst, worst first


@dataclass(frozen=True, slots=True)
class Ranking:
    period: str
    frozen: bool  # the month has closed: the ranking can no longer change
    regions: tuple[RegionRanking, ...]


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One alert of the feed; ``message(lang)`` is the server's own wording of it."""

    id: int
    project_id: int
    project_code: str
    project_name: str
    rule_code: str
    kind: str
    level: str  # yellow / red
    value: float | None
    message_zh: str
    message_en: str
    status: str  # open / acknowledged / resolved
    opened_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_by: str | None
    resolved_by: str | None

    def message(self, language: str) -> str:
        return self.message_en if language == "en" else self.message_zh


@dataclass(frozen=True, slots=True)
class ProjectKpis:
    project_id: int
    period: str
    frozen: bool
    light: str
    score: float
    lights: dict[str, str]
    scores: dict[str, float]
    reasons: tuple[Reason, ...]
    values: dict[str, float | None]  # KPI code -> value


@dataclass(frozen=True, slots=True)
class Action:
    """An improvement action (PDCA) answering a project's place in a period's ranking."""

    id: int
    project_id: int
    period: str
    reasons: tuple[Reason, ...]
    action: str
    owner_id: int | None
    owner: str | None
    due_date: dt.date
    status: str  # planned / done / checked
    check_result: str | None


# ---- the HQ map ----------------------------------------------------------------------
# Coordinates are longitude, latitude in degrees, in the datum the sites were asked for
# (``wgs84``, or ``gcj02`` / ``bd09`` shifted for a Chinese base map drawn in it).


@dataclass(frozen=True, slots=True)
class SiteAlert:
    level: str  # yellow / red
    message_zh: str
    message_en: str

    def message(self, language: str) -> str:
        return self.message_en if language == "en" else self.message_zh


@dataclass(frozen=True, slots=True)
class ProjectSite:
    """One project as the map shows it: where it is (``lon_lat`` None: no location yet, and
    ``location_source`` says whether the point is the project's own or its model's), its
    health this period, contract value, live alerts (``top_alerts``: at most three, red
    first) and its model's ``footprint`` (a GeoJSON Polygon or MultiPolygon, or None), with
    what the server found wrong with the model's georeferencing."""

    id: int
    code: str
    name: str
    region_id: int | None
    region: str | None
    lon_lat: tuple[float, float] | None
    location_source: str | None  # "project", "model" or None
    light: str | None
    score: float | None
    rank_in_region: int | None
    contract_value_cny: float | None
    open_alerts: int
    red_alerts: int
    top_alerts: tuple[SiteAlert, ...]
    footprint: dict[str, Any] | None
    revision_id: int | None
    georef_kind: str | None  # map_conversion, site_reference, project_site
    georef_warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PortfolioSites:
    period: str
    datum: str  # what the coordinates are in: wgs84, gcj02 or bd09
    sites: tuple[ProjectSite, ...]


# ---- IoT monitoring (sensors) --------------------------------------------------------
# Conditions (the viewer's colours) are the server's strings: no_data, ok, offline, warn,
# alarm, control; tiers are ok, warn, alarm, control. Times are aware (UTC from the server).


@dataclass(frozen=True, slots=True)
class PointState:
    """One monitor point as it was at the moment asked for (now, or a past one)."""

    point_id: int
    code: str
    name: str | None
    metric: str
    unit: str
    device_code: str
    element_global_id: str | None
    condition: str
    tier: str  # the tier in force
    since: dt.datetime | None  # when it came into force
    value: float | None  # the reading that brought it into force
    latest_value: float | None
    latest_ts: dt.datetime | None
    pending: str | None  # a higher tier reached but not held long enough yet
    offline: bool
    last_seen: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SensorStates:
    at: dt.datetime
    live: bool  # True: now; False: recomputed for a past moment
    elements: dict[str, str]  # element GlobalId -> worst condition of its points
    points: tuple[PointState, ...]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """(lower, upper) per tier; None: no bound on that side."""

    warn: tuple[float | None, float | None]
    alarm: tuple[float | None, float | None]
    control: tuple[float | None, float | None]


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One reading (``low == high == value``) or one bucket (min, mean, max)."""

    ts: dt.datetime  # the reading's time, or the bucket's start
    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class ReadingSeries:
    point_id: int
    code: str
    metric: str
    unit: str
    bucket: str  # raw, minute or hour
    start: dt.datetime
    end: dt.datetime
    thresholds: Thresholds
    night_thresholds: Thresholds | None  # noise: the limits 22:00–06:00 China time
    points: tuple[SeriesPoint, ...]
    truncated: bool


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _number(value: Any) -> float | None:
    """A finite number, or None (no bound, "off", or an infinity however it was written)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _thresholds(r: dict[str, Any] | None) -> Thresholds | None:
    if not r:
        return None

    def pair(name: str) -> tuple[float | None, float | None]:
        bounds = r.get(name) or {}
        return _number(bounds.get("lower")), _number(bounds.get("upper"))

    return Thresholds(warn=pair("warn"), alarm=pair("alarm"), control=pair("control"))


def _point_state(r: dict[str, Any]) -> PointState:
    return PointState(
        point_id=int(r["point_id"]),
        code=r["code"],
        name=r.get("name"),
        metric=r["metric"],
        unit=r.get("unit") or "",
        device_code=r.get("device_code") or "",
        element_global_id=r.get("element_global_id"),
        condition=r["condition"],
        tier=r.get("tier") or "ok",
        since=_when(r.get("since")),
        value=_number(r.get("value")),
        latest_value=_number(r.get("latest_value")),
        latest_ts=_when(r.get("latest_ts")),
        pending=r.get("pending"),
        offline=bool(r.get("offline")),
        last_seen=_when(r.get("last_seen")),
    )


def _series(r: dict[str, Any]) -> ReadingSeries:
    if r["bucket"] == "raw":
        points = tuple(
            SeriesPoint(
                dt.datetime.fromisoformat(x["ts"]), float(x["value"]), float(x["value"]), float(x["value"])
            )
            for x in r.get("readings") or ()
        )
    else:
        points = tuple(
            SeriesPoint(
                dt.datetime.fromisoformat(a["bucket_start"]),
                float(a["mean"]),
                float(a["min"]),
                float(a["max"]),
            )
            for a in r.get("aggregates") or ()
        )
    return ReadingSeries(
        point_id=int(r["point_id"]),
        code=r["code"],
        metric=r["metric"],
        unit=r.get("unit") or "",
        bucket=r["bucket"],
        start=dt.datetime.fromisoformat(r["start"]),
        end=dt.datetime.fromisoformat(r["end"]),
        thresholds=_thresholds(r.get("thresholds")) or Thresholds((None, None), (None, None), (None, None)),
        night_thresholds=_thresholds(r.get("night_thresholds")),
        points=points,
        truncated=bool(r.get("truncated")),
    )


def _site(feature: dict[str, Any]) -> ProjectSite:
    p = feature["properties"]
    geometry = feature.get("geometry")
    lon_lat = None
    if geometry and geometry.get("type") == "Point":
        lon, lat = geometry["coordinates"][:2]
        lon_lat = (float(lon), float(lat))
    return ProjectSite(
        id=int(p["id"]),
        code=p["code"],
        name=p["name"],
        region_id=p.get("region_id"),
        region=p.get("region"),
        lon_lat=lon_lat,
        location_source=p.get("location_source"),
        light=p.get("light"),
        score=p.get("score"),
        rank_in_region=p.get("rank_in_region"),
        contract_value_cny=p.get("contract_value_cny"),
        open_alerts=int(p.get("open_alerts") or 0),
        red_alerts=int(p.get("red_alerts") or 0),
        top_alerts=tuple(
            SiteAlert(a["level"], a.get("message_zh") or "", a.get("message_en") or "")
            for a in p.get("top_alerts") or ()
        ),
        footprint=p.get("footprint") or None,
        revision_id=p.get("revision_id"),
        georef_kind=p.get("georef_kind"),
        georef_warnings=tuple(p.get("georef_warnings") or ()),
    )


def _reasons(rows: list[dict[str, Any]] | None) -> tuple[Reason, ...]:
    return tuple(Reason(r["dimension"], r["code"], r.get("value"), float(r["shortfall"])) for r in rows or ())


def _ranked(r: dict[str, Any]) -> RankedProject:
    return RankedProject(
        project_id=r["project_id"],
        code=r["code"],
        name=r["name"],
        score=float(r["score"]),
        light=r["light"],
        red_count=int(r["red_count"]),
        rank_in_region=int(r["rank_in_region"]),
        reasons=_reasons(r.get("reasons")),
    )


def _alert(r: dict[str, Any]) -> AlertItem:
    return AlertItem(
        id=r["id"],
        project_id=r["project_id"],
        project_code=r["project_code"],
        project_name=r["project_name"],
        rule_code=r["rule_code"],
        kind=r["kind"],
        level=r["level"],
        value=r.get("value"),
        message_zh=r.get("message_zh") or "",
        message_en=r.get("message_en") or "",
        status=r["status"],
        opened_at=dt.datetime.fromisoformat(r["opened_at"]),
        updated_at=dt.datetime.fromisoformat(r["updated_at"]),
        acknowledged_by=r.get("acknowledged_by"),
        resolved_by=r.get("resolved_by"),
    )


def _action(r: dict[str, Any]) -> Action:
    return Action(
        id=r["id"],
        project_id=r["project_id"],
        period=r["period"],
        reasons=_reasons(r.get("reasons")),
        action=r["action"],
        owner_id=r.get("owner_id"),
        owner=r.get("owner"),
        due_date=dt.date.fromisoformat(r["due_date"]),
        status=r["status"],
        check_result=r.get("check_result"),
    )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _issue_row(r: dict[str, Any]) -> IssueRow:
    point = r.get("point_m")
    return IssueRow(
        id=r["id"],
        number=r["number"],
        kind=r["kind"],
        title=r["title"],
        severity=r["severity"],
        status=r["status"],
        overdue=bool(r["overdue"]),
        due_date=_date(r.get("due_date")),
        assignee_id=r.get("assignee_id"),
        assignee=r.get("assignee"),
        global_ids=tuple(r.get("global_ids") or ()),
        point_m=(float(point[0]), float(point[1]), float(point[2])) if point and len(point) == 3 else None,
        fourd_date=_date(r.get("fourd_date")),
    )


class TwinClient:
    """Client for one user: reads, the issue actions an inspector takes on the model page,
    and what a regional manager does on the portfolio (alerts, improvement actions).

    ``token`` is the user's session token, sent as a bearer token (it never reaches the
    browser page: the page's own requests carry the HttpOnly cookie).
    """

    def __init__(
        self, *, base_url: str, token: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(30.0),
        )
        self._storeys: dict[tuple[int, int], dict[str, str]] = {}

    async def close(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, **params: Any) -> Any:
        query = {
            k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.items() if v is not None
        }
        return await self._send("GET", path, params=query)

    async def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerError(f"the server did not answer: {exc}") from None
        if response.status_code == 401:
            raise NotAuthenticated("log in again")
        if method == "GET" and response.status_code in (403, 404):
            raise NotFound(_detail(response))
        if response.status_code == 404:
            raise NotFound(_detail(response))
        if response.status_code in (403, 409, 413, 415, 422):
            raise Refused(_detail(response))
        if response.status_code >= 400:
            raise ServerError(_detail(response))
        return response.json()

    async def whoami(self) -> str:
        """The user name the token belongs to."""
        return (await self.me()).username

    async def me(self) -> Me:
        """The user the token belongs to, with what their role may do."""
        r = await self._get("/api/auth/me")
        return Me(
            user_id=r["user_id"],
            username=r["username"],
            role=r["role"],
            capabilities=frozenset(r.get("capabilities") or ()),
        )

    # ---- issues ---------------------------------------------------------------------
    async def list_users(self, project_id: int) -> list[UserRef]:
        """Users who can see the project (possible assignees)."""
        rows = await self._get(f"/api/projects/{project_id}/users")
        return [UserRef(r["id"], r["username"], r.get("display_name"), r["role"]) for r in rows]

    async def list_issues(
        self,
        project_id: int,
        *,
        statuses: tuple[str, ...] = (),
        severities: tuple[str, ...] = (),
        overdue: bool | None = None,
        assignee_id: int | None = None,
        limit: int = 1000,
    ) -> list[IssueRow]:
        """The project's issues, newest first, filtered as the API filters."""
        params: dict[str, Any] = {"limit": limit}
        if statuses:
            params["status"] = list(statuses)
        if severities:
            params["severity"] = list(severities)
        if overdue is not None:
            params["overdue"] = "true" if overdue else "false"
        if assignee_id is not None:
            params["assignee"] = assignee_id
        body = await self._send("GET", f"/api/projects/{project_id}/issues", params=params)
        return [_issue_row(r) for r in body["items"]]

    async def get_issue(self, project_id: int, issue_id: int) -> IssueDetail:
        return _issue_detail(await self._get(f"/api/projects/{project_id}/issues/{issue_id}"))

    async def create_issue(self, project_id: int, fields: dict[str, Any]) -> IssueDetail:
        """Raise an issue (``fields`` as the API's ``IssueCreate``)."""
        return _issue_detail(await self._send("POST", f"/api/projects/{project_id}/issues", json=fields))

    async def act_on_issue(
        self,
        project_id: int,
        issue_id: int,
        action: str,
        *,
        reason: str | None = None,
        comment: str | None = None,
    ) -> IssueDetail:
        body = {"action": action, "reason": reason or None, "comment": comment or None}
        return _issue_detail(
            await self._send("POST", f"/api/projects/{project_id}/issues/{issue_id}/actions", json=body)
        )

    async def add_comment(self, project_id: int, issue_id: int, text: str) -> None:
        await self._send(
            "POST", f"/api/projects/{project_id}/issues/{issue_id}/comments", json={"text": text}
        )

    async def add_photo(
        self, project_id: int, issue_id: int, *, role: str, file_name: str, data: bytes
    ) -> None:
        await self._send(
            "POST",
            f"/api/projects/{project_id}/issues/{issue_id}/photos",
            data={"role": role},
            files={"file": (file_name, data)},
        )

    @staticmethod
    def severity_url(project_id: int, revision_id: int) -> str:
        """Same-origin URL of the revision's worst-live-severity bytes (one per GLB row)."""
        return f"/api/projects/{project_id}/issues/severity?revision={revision_id}"

    @staticmethod
    def photo_url(project_id: int, issue_id: int, sha256: str, *, thumbnail: bool = True) -> str:
        suffix = "?thumbnail=true" if thumbnail else ""
        return f"/api/projects/{project_id}/issues/{issue_id}/photos/{sha256}{suffix}"

    async def list_projects(self) -> list[ProjectRef]:
        rows = await self._get("/api/projects")
        return [ProjectRef(id=r["id"], code=r["code"], name=r["name"]) for r in rows]

    async def get_project(self, project_id: int) -> ProjectRef:
        r = await self._get(f"/api/projects/{project_id}")
        return ProjectRef(id=r["id"], code=r["code"], name=r["name"])

    async def list_revisions(self, project_id: int) -> list[RevisionRef]:
        """Every processed revision of every model of the project, newest first per model."""
        found = []
        for model in await self._get(f"/api/projects/{project_id}/models"):
            rows = await self._get(f"/api/projects/{project_id}/models/{model['id']}/revisions")
            found += [
                RevisionRef(
                    id=r["id"],
                    model_id=model["id"],
                    model_name=model["name"],
                    label=r["label"],
                    state=r["state"],
                    glb_url=r["glb_url"],
                )
                for r in sorted(rows, key=lambda r: r["id"], reverse=True)
                if r["processing"] == "succeeded" and r["glb_url"]
            ]
        return found

    async def list_schedules(self, project_id: int) -> list[ScheduleRef]:
        rows = await self._get(f"/api/projects/{project_id}/schedules")
        return [ScheduleRef(id=r["id"], name=r["name"]) for r in rows if r["latest_version"]]

    async def list_tasks(
        self,
        project_id: int,
        schedule_id: int,
        *,
        at: dt.date,
        revision_id: int | None = None,
        global_id: str | None = None,
    ) -> list[TaskRow]:
        """Tasks with their status on ``at``; with ``global_id``, only that element's tasks."""
        rows = await self._get(
            f"/api/projects/{project_id}/schedules/{schedule_id}/tasks",
            at=at,
            revision=revision_id,
            element=global_id,
        )
        return [
            TaskRow(
                index=r["index"],
                key=r["key"],
                wbs_code=r["wbs_code"],
                name=r["name"],
                is_summary=r["is_summary"],
                planned_start=_date(r["planned_start"]),
                planned_finish=_date(r["planned_finish"]),
                actual_start=_date(r["actual_start"]),
                actual_finish=_date(r["actual_finish"]),
                status=r["status"],
                delay_days=r["delay_days"],
            )
            for r in rows
        ]

    async def task_elements(
        self, project_id: int, revision_id: int, schedule_id: int, task_key: str
    ) -> list[int]:
        """GLB element-table rows of every element linked to the task in the revision."""
        body = await self._get(
            f"/api/projects/{project_id}/revisions/{revision_id}/4d/task-elements",
            schedule=schedule_id,
            task=task_key,
        )
        return [int(i) for i in body["glb_indices"]]

    async def get_element(self, project_id: int, revision_id: int, global_id: str) -> ElementDetail:
        r = await self._get(
            f"/api/projects/{project_id}/revisions/{revision_id}/elements/{quote(global_id, safe='')}"
        )
        groups = tuple(
            PropertyGroup(
                name=g["name"],
                kind=g.get("kind", "pset"),
                values=g.get("properties", {}),
                units=g.get("units") or {},
            )
            for g in r.get("property_sets", [])
        )
        classifications = tuple(
            " ".join(str(p) for p in (c.get("system"), c.get("code"), c.get("name")) if p)
            for c in r.get("classifications", [])
        )
        materials = tuple(m if isinstance(m, str) else str(m.get("name", m)) for m in r.get("materials", []))
        return ElementDetail(
            global_id=r["global_id"],
            ifc_class=r["ifc_class"],
            name=r.get("name"),
            type_name=r.get("type_name"),
            storey_name=(await self._storey_names(project_id, revision_id)).get(
                r.get("storey_global_id") or ""
            ),
            groups=groups,
            classifications=classifications,
            materials=materials,
        )

    async def _storey_names(self, project_id: int, revision_id: int) -> dict[str, str]:
        """Storey GlobalId → name, from the revision's spatial tree (read once per revision)."""
        key = (project_id, revision_id)
        if key not in self._storeys:
            tree = await self._get(f"/api/projects/{project_id}/revisions/{revision_id}/spatial.json")
            names: dict[str, str] = {}
            stack = [tree] if isinstance(tree, dict) else list(tree)
            while stack:
                node = stack.pop()
                if node.get("ifc_class") == "IfcBuildingStorey":
                    names[node["global_id"]] = node.get("name") or node.get("long_name") or node["global_id"]
                stack.extend(node.get("children", []))
            self._storeys[key] = names
        return self._storeys[key]

    @staticmethod
    def fourd_url(project_id: int, revision_id: int, schedule_id: int) -> str:
        return f"/api/projects/{project_id}/revisions/{revision_id}/4d?schedule={schedule_id}"

    async def element_rows(self, project_id: int, revision_id: int, global_ids) -> dict[str, int]:
        """GLB element-table row of each of these elements in the revision; elements the
        revision lacks, or that have no geometry, are left out. A few requests at a time."""
        gate = asyncio.Semaphore(8)

        async def row(global_id: str) -> tuple[str, int | None]:
            path = f"/api/projects/{project_id}/revisions/{revision_id}/elements/{quote(global_id, safe='')}"
            async with gate:
                try:
                    record = await self._get(path)
                except NotFound:
                    return global_id, None
            index = record.get("glb_index")
            return global_id, index if isinstance(index, int) and not isinstance(index, bool) else None

        found = await asyncio.gather(*(row(g) for g in dict.fromkeys(global_ids)))
        return {g: i for g, i in found if i is not None and i >= 0}

    # ---- IoT monitoring ---------------------------------------------------------------
    async def sensor_states(self, project_id: int, *, at: dt.datetime | None = None) -> SensorStates:
        """Every monitor point's state and each linked element's worst condition, now
        (``at`` None) or as it was at ``at`` (an aware datetime: time travel)."""
        r = await self._get(f"/api/projects/{project_id}/sensor-states", at=at)
        return SensorStates(
            at=dt.datetime.fromisoformat(r["at"]),
            live=bool(r["live"]),
            elements={str(k): str(v) for k, v in (r.get("elements") or {}).items()},
            points=tuple(_point_state(p) for p in r.get("points") or ()),
        )

    async def point_readings(
        self,
        project_id: int,
        point_id: int,
        *,
        start: dt.datetime,
        end: dt.datetime,
        bucket: str = "minute",
    ) -> ReadingSeries:
        """A point's readings (``raw``) or aggregates (``minute``, ``hour``) from ``start``
        to ``end``, oldest first, with its threshold bands."""
        r = await self._get(
            f"/api/projects/{project_id}/monitor-points/{point_id}/readings",
            start=start,
            end=end,
            bucket=bucket,
        )
        return _series(r)

    # ---- the regional layer ---------------------------------------------------------
    async def portfolio_summary(self, period: str | None = None) -> PortfolioSummary:
        """Every project the user may see with its health in ``period`` (a month,
        ``YYYY-MM``; default: this month), rolled up per region."""
        r = await self._get("/api/portfolio/summary", period=period)
        projects = tuple(
            ProjectHealth(
                id=p["id"],
                code=p["code"],
                name=p["name"],
                region_id=p.get("region_id"),
                region=p.get("region"),
                contract_value_cny=p.get("contract_value_cny"),
                light=p.get("light"),
                score=p.get("score"),
                rank_in_region=p.get("rank_in_region"),
                lights=dict(p.get("lights") or {}),
                trend=tuple(
                    TrendPoint(t["period"], float(t["score"]), t["light"]) for t in p.get("trend") or ()
                ),
                open_alerts=int(p.get("open_alerts") or 0),
                red_alerts=int(p.get("red_alerts") or 0),
            )
            for p in r["projects"]
        )
        regions = tuple(
            RegionRollup(
                id=g["id"],
                code=g["code"],
                name=g["name"],
                projects=int(g["projects"]),
                by_light=dict(g.get("by_light") or {}),
                mean_score=g.get("mean_score"),
                open_alerts=int(g.get("open_alerts") or 0),
            )
            for g in r["regions"]
        )
        return PortfolioSummary(r["period"], projects, regions, dict(r.get("by_light") or {}))

    async def portfolio_sites(self, period: str | None = None, *, datum: str = "wgs84") -> PortfolioSites:
        """Every project the user may see, for the map: location, health in ``period``
        (default: this month), alerts and footprint. ``datum`` is the one the map's base map
        is drawn in (``wgs84``, ``gcj02`` or ``bd09``): every coordinate comes back in it."""
        r = await self._get("/api/portfolio/sites", period=period, datum=datum)
        return PortfolioSites(
            period=r["period"], datum=datum, sites=tuple(_site(f) for f in r.get("features") or ())
        )

    async def portfolio_ranking(self, period: str | None = None) -> Ranking:
        """Each region's projects ranked by score for ``period``, with its bottom three."""
        r = await self._get("/api/portfolio/ranking", period=period)
        regions = tuple(
            RegionRanking(
                region_id=g["region_id"],
                region=g["region"],
                ranked=tuple(_ranked(x) for x in g.get("ranked") or ()),
                bottom=tuple(_ranked(x) for x in g.get("bottom") or ()),
            )
            for g in r["regions"]
        )
        return Ranking(period=r["period"], frozen=bool(r["frozen"]), regions=regions)

    async def list_alerts(
        self,
        *,
        statuses: tuple[str, ...] = ("open", "acknowledged"),
        levels: tuple[str, ...] = (),
        limit: int = 200,
    ) -> list[AlertItem]:
        """The user's alert feed (every project in their scope), red first, newest first."""
        params: dict[str, Any] = {"status": list(statuses), "limit": limit}
        if levels:
            params["level"] = list(levels)
        return [_alert(r) for r in await self._send("GET", "/api/alerts", params=params)]

    async def acknowledge_alert(self, project_id: int, alert_id: int) -> AlertItem:
        """Seen, someone is on it (capability ``handle_alerts``; ``Refused`` otherwise)."""
        return _alert(await self._send("POST", f"/api/projects/{project_id}/alerts/{alert_id}/acknowledge"))

    async def resolve_alert(self, project_id: int, alert_id: int, *, note: str | None = None) -> AlertItem:
        """Close the alert by hand, saying what was done (capability ``handle_alerts``)."""
        return _alert(
            await self._send(
                "POST", f"/api/projects/{project_id}/alerts/{alert_id}/resolve", json={"note": note or None}
            )
        )

    async def project_kpis(self, project_id: int, period: str | None = None) -> ProjectKpis:
        r = await self._get(f"/api/projects/{project_id}/kpis", period=period)
        return ProjectKpis(
            project_id=r["project_id"],
            period=r["period"],
            frozen=bool(r["frozen"]),
            light=r["light"],
            score=float(r["score"]),
            lights=dict(r.get("lights") or {}),
            scores={k: float(v) for k, v in (r.get("scores") or {}).items()},
            reasons=_reasons(r.get("reasons")),
            values=dict(r.get("values") or {}),
        )

    async def list_actions(self, project_id: int) -> list[Action]:
        """The project's improvement actions, newest period first."""
        return [_action(r) for r in await self._get(f"/api/projects/{project_id}/improvement-actions")]

    async def create_action(
        self, project_id: int, *, period: str, action: str, due_date: dt.date, owner_id: int | None = None
    ) -> Action:
        """Record an improvement action for the project's place in ``period``'s ranking
        (capability ``manage_org``; ``Refused`` otherwise)."""
        body = {"period": period, "action": action, "owner_id": owner_id, "due_date": due_date.isoformat()}
        return _action(await self._send("POST", f"/api/projects/{project_id}/improvement-actions", json=body))


def _issue_detail(r: dict[str, Any]) -> IssueDetail:
    viewpoints = r.get("viewpoints") or []
    camera = next((v.get("camera") for v in viewpoints if v.get("camera")), None)
    return IssueDetail(
        row=_issue_row(r),
        description=r.get("description"),
        creator=r.get("creator") or "",
        verifier=r.get("verifier"),
        reopened_count=int(r.get("reopened_count") or 0),
        allowed_actions=tuple(r.get("allowed_actions") or ()),
        camera=camera,
        comments=tuple(
            CommentItem(c["author"], c["text"], dt.datetime.fromisoformat(c["created_at"]))
            for c in r.get("comments") or ()
        ),
        photos=tuple(
            PhotoItem(p["sha256"], p["role"], p["file_name"], p.get("exif_time"), int(p.get("round") or 0))
            for p in r.get("photos") or ()
        ),
    )


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        # A validation error: name the first field and what is wrong with it.
        first = detail[0]
        place = ".".join(str(part) for part in first.get("loc", ())[1:])
        return f"{place}: {first.get('msg', '')}".strip(": ")
    return detail if isinstance(detail, str) else f"HTTP {response.status_code}"
