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

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

__all__ = [
    "CommentItem",
    "ElementDetail",
    "IssueDetail",
    "IssueRow",
    "Me",
    "NotAuthenticated",
    "NotFound",
    "PhotoItem",
    "ProjectRef",
    "PropertyGroup",
    "RevisionRef",
    "ScheduleRef",
    "ServerError",
    "TaskRow",
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
    """Client for one user (reads, and the issue actions an inspector takes on the page).

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
