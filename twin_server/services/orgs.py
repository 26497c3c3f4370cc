"""The organisation tree: HQ → regions → projects."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.orm import OrgNodeRow, ProjectRow
from ..domain.access import NodeKind
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.model import OrgNode, Principal, ProjectInfo
from .access import NodeRef

__all__ = [
    "create_node",
    "create_project",
    "create_region",
    "find_node",
    "get_node",
    "get_project",
    "list_nodes",
    "list_projects",
    "update_project",
]

_PARENT_KIND = {NodeKind.REGION: NodeKind.HQ, NodeKind.PROJECT: NodeKind.REGION}


def create_node(session: Session, *, kind: NodeKind, code: str, name: str, parent_id: int | None) -> OrgNode:
    """Add an org node (no permission check: for set-up, the CLI and other services)."""
    parent = session.get(OrgNodeRow, parent_id) if parent_id is not None else None
    if kind is NodeKind.HQ:
        if parent is not None:
            raise InvalidInput("HQ is the root: it has no parent")
    elif parent is None or NodeKind(parent.kind) is not _PARENT_KIND[kind]:
        raise InvalidInput(f"a {kind.value} belongs under a {_PARENT_KIND[kind].value}")
    row = OrgNodeRow(kind=kind.value, code=code, name=name, parent_id=parent_id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"an organisation node with code {code!r} already exists") from None
    row.path = f"{parent.path if parent else '/'}{row.id}/"
    session.flush()
    return _node(row)


def find_node(session: Session, code: str) -> OrgNode:
    row = session.execute(select(OrgNodeRow).where(OrgNodeRow.code == code)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no organisation node with code {code!r}")
    return _node(row)


def get_node(session: Session, node_id: int) -> OrgNode:
    row = session.get(OrgNodeRow, node_id)
    if row is None:
        raise NotFound(f"no organisation node {node_id}")
    return _node(row)


def list_nodes(session: Session, principal: Principal) -> list[OrgNode]:
    """The caller's subtree, in path order (parents before children)."""
    rows = session.execute(
        select(OrgNodeRow).where(OrgNodeRow.path.startswith(principal.scope_path)).order_by(OrgNodeRow.path)
    ).scalars()
    return [_node(row) for row in rows]


def create_region(session: Session, *, parent: NodeRef, code: str, name: str) -> OrgNode:
    """A region under HQ ``parent`` (already authorized for MANAGE_ORG)."""
    if parent.kind is not NodeKind.HQ:
        raise InvalidInput(f"node {parent.id} is not HQ: regions belong under HQ")
    node = create_node(session, kind=NodeKind.REGION, code=code, name=name, parent_id=parent.id)
    session.commit()
    return node


def create_project(session: Session, *, region: NodeRef, code: str, name: str, **details) -> ProjectInfo:
    """A project under ``region`` (already authorized for MANAGE_ORG)."""
    if region.kind is not NodeKind.REGION:
        raise InvalidInput(f"node {region.id} is not a region: projects belong under a region")
    _check_details(details)
    node = create_node(session, kind=NodeKind.PROJECT, code=code, name=name, parent_id=region.id)
    session.add(ProjectRow(node_id=node.id, **details))
    session.commit()
    return get_project(session, node.id)


def get_project(session: Session, project_id: int) -> ProjectInfo:
    """A project by id (authorize first: this does not check scope)."""
    row = session.execute(
        select(OrgNodeRow, ProjectRow)
        .join(ProjectRow, ProjectRow.node_id == OrgNodeRow.id)
        .where(OrgNodeRow.id == project_id)
    ).first()
    if row is None:
        raise NotFound(f"no project {project_id}")
    return _project(*row)


def list_projects(
    session: Session, principal: Principal, *, region_id: int | None = None, status: str | None = None
) -> list[ProjectInfo]:
    """Projects in the caller's subtree, optionally of one region or status, by code."""
    query = (
        select(OrgNodeRow, ProjectRow)
        .join(ProjectRow, ProjectRow.node_id == OrgNodeRow.id)
        .where(OrgNodeRow.path.startswith(principal.scope_path))
        .order_by(OrgNodeRow.code)
    )
    if region_id is not None:
        query = query.where(OrgNodeRow.parent_id == region_id)
    if status is not None:
        query = query.where(ProjectRow.status == status)
    return [_project(*row) for row in session.execute(query)]


def update_project(session: Session, project_id: int, **changes) -> ProjectInfo:
    """Change a project's name or details (authorize with MANAGE_ORG first).

    The checks apply to the project as it would be after the change (so moving only
    ``planned_finish`` before the stored ``planned_start`` is refused).
    """
    node = session.get(OrgNodeRow, project_id)
    project = session.get(ProjectRow, project_id)
    if node is None or project is None:
        raise NotFound(f"no project {project_id}")
    details = {key: changes.get(key, getattr(project, key)) for key in _DETAIL_FIELDS}
    _check_details(details | {k: v for k, v in changes.items() if k != "name"})
    for key, value in changes.items():
        setattr(node if key == "name" else project, key, value)
    session.commit()
    return get_project(session, project_id)


def _check_details(details: dict) -> None:
    lon, lat = details.get("site_lon"), details.get("site_lat")
    if (lon is None) != (lat is None):
        raise InvalidInput("give both site_lon and site_lat, or neither")
    if lon is not None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("site_lon must be within ±180° and site_lat within ±90° (WGS-84)")
    start, finish = details.get("planned_start"), details.get("planned_finish")
    if isinstance(start, dt.date) and isinstance(finish, dt.date) and finish < start:
        raise InvalidInput("planned_finish is before planned_start")
    unknown = set(details) - _DETAIL_FIELDS
    if unknown:
        raise InvalidInput(f"unknown project fields: {', '.join(sorted(unknown))}")


_DETAIL_FIELDS = {
    "site_lon",
    "site_lat",
    "address",
    "project_type",
    "contract_value_cny",
    "planned_start",
    "planned_finish",
    "status",
}


def _node(row: OrgNodeRow) -> OrgNode:
    return OrgNode(row.id, NodeKind(row.kind), row.code, row.name, row.parent_id, row.path)


def _project(node: OrgNodeRow, project: ProjectRow) -> ProjectInfo:
    return ProjectInfo(
        id=node.id,
        code=node.code,
        name=node.name,
        region_id=node.parent_id,
        path=node.path,
        site_lon=project.site_lon,
        site_lat=project.site_lat,
        address=project.address,
        project_type=project.project_type,
        contract_value_cny=project.contract_value_cny,
        planned_start=project.planned_start,
        planned_finish=project.planned_finish,
        status=project.status,
    )
