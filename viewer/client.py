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
    "ElementDetail",
    "NotAuthenticated",
    "NotFound",
    "ProjectRef",
    "PropertyGroup",
    "RevisionRef",
    "ScheduleRef",
    "ServerError",
    "TaskRow",
    "TwinClient",
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


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class TwinClient:
    """Read-only client for one user.

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
        try:
            response = await self._http.get(path, params=query)
        except httpx.HTTPError as exc:
            raise ServerError(f"the server did not answer: {exc}") from None
        if response.status_code == 401:
            raise NotAuthenticated("log in again")
        if response.status_code in (403, 404):
            raise NotFound(_detail(response))
        if response.status_code >= 400:
            raise ServerError(_detail(response))
        return response.json()

    async def whoami(self) -> str:
        """The user name the token belongs to."""
        return (await self._get("/api/auth/me"))["username"]

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


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else f"HTTP {response.status_code}"
