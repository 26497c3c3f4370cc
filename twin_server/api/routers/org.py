"""The organisation tree and projects, limited to the caller's subtree."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from ...domain.access import Capability
from ...domain.model import Principal
from ...schemas.org import OrgNodePublic, ProjectCreate, ProjectPublic, ProjectUpdate, RegionCreate
from ...services import orgs, sites
from ..deps import (
    Authenticated,
    NodeAccess,
    NodeScope,
    ProjectAccess,
    ProjectScope,
    SessionDep,
)

router = APIRouter(prefix="/api", tags=["organisation"])

Reader = Annotated[Principal, Depends(Authenticated(Capability.READ))]


@router.get("/org/nodes")
def list_org_nodes(principal: Reader, session: SessionDep) -> list[OrgNodePublic]:
    """The caller's part of the tree (HQ sees all; a region its projects), parents first."""
    return [OrgNodePublic.model_validate(node) for node in orgs.list_nodes(session, principal)]


@router.post("/org/nodes/{node_id}/regions", status_code=201)
def create_region(
    body: RegionCreate,
    scope: Annotated[NodeScope, Depends(NodeAccess(Capability.MANAGE_ORG))],
    session: SessionDep,
) -> OrgNodePublic:
    """A region (二级) under the HQ node ``node_id``."""
    node = orgs.create_region(session, parent=scope.node, code=body.code, name=body.name)
    return OrgNodePublic.model_validate(node)


@router.post("/org/nodes/{node_id}/projects", status_code=201)
def create_project(
    body: ProjectCreate,
    scope: Annotated[NodeScope, Depends(NodeAccess(Capability.MANAGE_ORG))],
    session: SessionDep,
) -> ProjectPublic:
    """A project (三级) under the region ``node_id``."""
    project = orgs.create_project(session, region=scope.node, **body.model_dump())
    return ProjectPublic.model_validate(project)


@router.get("/projects")
def list_projects(
    principal: Reader,
    session: SessionDep,
    region_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
) -> list[ProjectPublic]:
    """Projects in the caller's subtree, by code; optionally of one region or status."""
    projects = orgs.list_projects(session, principal, region_id=region_id, status=status)
    return [ProjectPublic.model_validate(project) for project in projects]


@router.get("/projects/{project_id}")
def read_project(
    scope: Annotated[ProjectScope, Depends(ProjectAccess(Capability.READ))], session: SessionDep
) -> ProjectPublic:
    return ProjectPublic.model_validate(orgs.get_project(session, scope.project.id))


@router.patch("/projects/{project_id}")
def update_project(
    body: ProjectUpdate,
    scope: Annotated[ProjectScope, Depends(ProjectAccess(Capability.MANAGE_ORG))],
    session: SessionDep,
) -> ProjectPublic:
    """Change a project's name, site point, address, type, value, dates or status. A new site
    point places the project's models again (those without georeferencing of their own move
    with it; the others are checked against it)."""
    changes = body.model_dump(exclude_unset=True)
    project = orgs.update_project(session, scope.project.id, **changes)
    if {"site_lon", "site_lat"} & changes.keys():
        sites.place_project(session, project_id=project.id, now=dt.datetime.now(dt.UTC))
        session.commit()
    return ProjectPublic.model_validate(project)
