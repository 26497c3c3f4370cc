"""Models, revision uploads, processing status and the ISO 19650 revision states."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...domain.access import Capability
from ...domain.errors import Unavailable
from ...domain.model import RevisionInfo
from ...runtime import Runtime
from ...schemas.models import (
    ModelCreate,
    ModelPublic,
    RevisionDiffPublic,
    RevisionPublic,
    RevisionStateUpdate,
)
from ...services import elements as element_service
from ...services import revisions as revision_service
from ..deps import Id, ProjectAccess, ProjectScope, RuntimeDep, SessionDep
from ..uploads import receive_ifc_upload

router = APIRouter(prefix="/api/projects/{project_id}", tags=["models"])

Reader = Annotated[ProjectScope, Depends(ProjectAccess(Capability.READ))]
Uploader = Annotated[ProjectScope, Depends(ProjectAccess(Capability.UPLOAD_MODEL))]
Publisher = Annotated[ProjectScope, Depends(ProjectAccess(Capability.PUBLISH_MODEL))]

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": ".ifc or .ifczip"},
                        "label": {
                            "type": "string",
                            "maxLength": 64,
                            "description": "revision code, e.g. P03 (default: the next Pnn)",
                        },
                    },
                }
            }
        },
    }
}


def revision_public(revision: RevisionInfo) -> RevisionPublic:
    public = RevisionPublic.model_validate(revision)
    if revision.glb_sha256:
        public.glb_url = f"/api/projects/{revision.project_id}/geometry/{revision.glb_sha256}.glb"
    return public


@router.get("/models")
def list_models(scope: Reader, session: SessionDep) -> list[ModelPublic]:
    return [
        ModelPublic.model_validate(m)
        for m in revision_service.list_models(session, project_id=scope.project.id)
    ]


@router.post("/models", status_code=201)
def create_model(body: ModelCreate, scope: Uploader, session: SessionDep) -> ModelPublic:
    """A model of the project (one per discipline or building, e.g. "3# 楼 结构")."""
    model = revision_service.create_model(
        session,
        project_id=scope.project.id,
        name=body.name,
        discipline=body.discipline,
        user_id=scope.principal.user_id,
    )
    return ModelPublic.model_validate(model)


@router.get("/models/{model_id}")
def read_model(model_id: Id, scope: Reader, session: SessionDep) -> ModelPublic:
    model = revision_service.get_model(session, project_id=scope.project.id, model_id=model_id)
    return ModelPublic.model_validate(model)


@router.get("/models/{model_id}/revisions")
def list_revisions(model_id: Id, scope: Reader, session: SessionDep) -> list[RevisionPublic]:
    """Every revision of the model, newest first, with its processing status."""
    revisions = revision_service.list_revisions(session, project_id=scope.project.id, model_id=model_id)
    return [revision_public(revision) for revision in revisions]


@router.post("/models/{model_id}/revisions", status_code=202, openapi_extra=_UPLOAD_BODY)
async def upload_revision(
    model_id: Id,
    request: Request,
    response: Response,
    scope: Uploader,
    runtime: RuntimeDep,
    session: SessionDep,
) -> RevisionPublic:
    """Upload an IFC revision (multipart: ``file``, optional ``label``); it is processed in
    the background. Poll the returned revision until ``processing`` is ``succeeded`` (its
    elements and geometry can then be read) or ``failed`` (``failure_reason`` says why).

    415: not .ifc/.ifczip or not IFC content; 413: over the size limit; 409: the label
    is taken or the same file was already uploaded to this model.
    """
    project_id = scope.project.id
    # Unknown model: refuse before reading a possibly large body.
    await run_in_threadpool(revision_service.get_model, session, project_id=project_id, model_id=model_id)
    received = await receive_ifc_upload(
        request, blobs=runtime.blobs, max_bytes=runtime.settings.max_upload_bytes
    )
    revision = await run_in_threadpool(
        revision_service.accept_upload,
        session,
        project_id=project_id,
        model_id=model_id,
        label=received.fields.get("label") or None,
        file_name=received.file_name,
        file_sha256=received.sha256,
        file_bytes=received.size,
        user_id=scope.principal.user_id,
    )
    revision = await run_in_threadpool(_enqueue, runtime, session, revision)
    response.headers["Location"] = f"/api/projects/{project_id}/revisions/{revision.id}"
    return revision_public(revision)


def _enqueue(runtime: Runtime, session: Session, revision: RevisionInfo) -> RevisionInfo:
    # In "immediate" mode this runs the whole job; elsewhere it only queues it.
    try:
        runtime.queue.enqueue(revision.id)
    except Exception as exc:  # the queue's own errors (Redis down, SQLite locked) vary by backend
        reason = f"the job queue could not take the job ({type(exc).__name__}); retry the revision later"
        revision_service.fail_revision(session, revision_id=revision.id, reason=reason)
        raise Unavailable(
            f"{reason}: POST /api/projects/{revision.project_id}/revisions/{revision.id}/retry"
        ) from exc
    return revision_service.get_revision(session, project_id=revision.project_id, revision_id=revision.id)


@router.post("/revisions/{revision_id}/retry", status_code=202)
def retry_revision(
    revision_id: Id, scope: Uploader, runtime: RuntimeDep, session: SessionDep
) -> RevisionPublic:
    """Process a failed revision again (e.g. after the queue or a worker was down). 409
    unless the revision failed."""
    revision = revision_service.retry_revision(session, project_id=scope.project.id, revision_id=revision_id)
    return revision_public(_enqueue(runtime, session, revision))


@router.get("/revisions/{revision_id}")
def read_revision(revision_id: Id, scope: Reader, session: SessionDep) -> RevisionPublic:
    """A revision with its processing status (stage and %), state and summary."""
    revision = revision_service.get_revision(session, project_id=scope.project.id, revision_id=revision_id)
    return revision_public(revision)


@router.put("/revisions/{revision_id}/state")
def change_revision_state(
    revision_id: Id, body: RevisionStateUpdate, scope: Publisher, runtime: RuntimeDep, session: SessionDep
) -> RevisionPublic:
    """ISO 19650: WIP → SHARED → PUBLISHED → ARCHIVED (SHARED may go back to WIP).
    Publishing archives the model's previously published revision. 409 if the move is
    not allowed or the revision is not processed."""
    revision = revision_service.change_revision_state(
        session,
        project_id=scope.project.id,
        revision_id=revision_id,
        target=body.state,
        now=dt.datetime.now(dt.UTC),
    )
    runtime.queue.evaluate([scope.project.id])  # the SPI reads the published revision
    return revision_public(revision)


@router.get("/revisions/{revision_id}/{document}.json")
def read_revision_document(
    revision_id: Id, document: Literal["spatial", "georef", "failures"], scope: Reader, session: SessionDep
) -> Response:
    """The processed revision's spatial tree, raw georeference, or geometry failures."""
    body = revision_service.revision_document(
        session, project_id=scope.project.id, revision_id=revision_id, document=document
    )
    return Response(body, media_type="application/json")


@router.get("/revisions/{revision_id}/diff")
def diff_revisions(
    revision_id: Id,
    scope: Reader,
    session: SessionDep,
    against: Annotated[int, Query(ge=1, le=2_147_483_647, description="the earlier revision")],
) -> RevisionDiffPublic:
    """Elements added, removed and changed (with the fields that changed) from revision
    ``against`` to this one; both must be processed revisions of the same model."""
    diff = element_service.diff_revisions(
        session, project_id=scope.project.id, base_id=against, target_id=revision_id
    )
    return RevisionDiffPublic.model_validate(diff)
