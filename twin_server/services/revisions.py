"""Models of a project and their revisions (uploads), through the ISO 19650 states."""

from __future__ import annotations

import datetime as dt
import re

import orjson
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.orm import ModelRow, RevisionRow, UserRow
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.model import ModelInfo, Placement, RevisionInfo
from ..domain.revisions import Processing, RevisionState, check_transition
from .store import commit_or_conflict

__all__ = [
    "accept_upload",
    "change_revision_state",
    "check_geometry",
    "create_model",
    "fail_revision",
    "get_model",
    "get_revision",
    "list_models",
    "list_revisions",
    "processed_revision",
    "retry_revision",
    "revision_document",
]

_MAX_LABEL = 64
_PRELIMINARY = re.compile(r"P(\d{1,6})")  # ISO 19650 preliminary revision codes


def create_model(
    session: Session, *, project_id: int, name: str, discipline: str | None, user_id: int | None
) -> ModelInfo:
    """A new, empty model of ``project_id``; model names are unique per project."""
    name = name.strip()
    if not name:
        raise InvalidInput("the model needs a name")
    row = ModelRow(project_id=project_id, name=name, discipline=discipline, created_by_id=user_id)
    session.add(row)
    commit_or_conflict(session, f"the project already has a model named {name!r}")
    return _model(row)


def list_models(session: Session, *, project_id: int) -> list[ModelInfo]:
    rows = session.execute(select(ModelRow).where(ModelRow.project_id == project_id).order_by(ModelRow.name))
    return [_model(row) for row in rows.scalars()]


def get_model(session: Session, *, project_id: int, model_id: int) -> ModelInfo:
    row = session.get(ModelRow, model_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"no model {model_id} in project {project_id}")
    return _model(row)


def accept_upload(
    session: Session,
    *,
    project_id: int,
    model_id: int,
    label: str | None,
    file_name: str,
    file_sha256: str,
    file_bytes: int,
    user_id: int | None,
) -> RevisionInfo:
    """Register an uploaded (already stored) file as a new queued revision.

    ``label`` defaults to the next ``Pnn``.

    ``Conflict`` if the model already has a revision with this label (two uploads racing
    for one revision: the database's unique constraint lets exactly one win) or with this
    very file (same sha256).
    """
    get_model(session, project_id=project_id, model_id=model_id)
    if label is None:
        # ISO 19650 preliminary revisions are P01, P02, …; two uploads taking the same
        # default label race like any other duplicate label (one wins, one gets 409).
        labels = session.execute(select(RevisionRow.label).where(RevisionRow.model_id == model_id)).scalars()
        numbers = [int(m.group(1)) for label in labels if (m := _PRELIMINARY.fullmatch(label))]
        label = f"P{max(numbers, default=0) + 1:02d}"
    label = label.strip()
    if not label or len(label) > _MAX_LABEL or not label.isprintable():
        raise InvalidInput(f"the revision label must be 1 to {_MAX_LABEL} printable characters")
    same_file = session.execute(
        select(RevisionRow.label).where(
            RevisionRow.model_id == model_id, RevisionRow.file_sha256 == file_sha256
        )
    ).scalar_one_or_none()
    if same_file is not None:
        raise Conflict(
            f"this file was already uploaded as revision {same_file} of this model", code="duplicate_file"
        )
    row = RevisionRow(
        model_id=model_id,
        project_id=project_id,
        label=label,
        state=RevisionState.WIP.value,
        processing=Processing.QUEUED.value,
        file_name=file_name,
        file_bytes=file_bytes,
        file_sha256=file_sha256,
        uploaded_by_id=user_id,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        taken = session.execute(
            select(RevisionRow.label, RevisionRow.file_sha256).where(
                RevisionRow.model_id == model_id,
                (RevisionRow.label == label) | (RevisionRow.file_sha256 == file_sha256),
            )
        ).first()
        if taken is not None and taken.file_sha256 == file_sha256:
            raise Conflict(
                f"this file was already uploaded as revision {taken.label}", code="duplicate_file"
            ) from None
        raise Conflict(f"the model already has a revision {label!r}", code="duplicate_revision") from None
    return get_revision(session, project_id=project_id, revision_id=row.id)


def list_revisions(session: Session, *, project_id: int, model_id: int) -> list[RevisionInfo]:
    """All revisions of a model, newest first, whatever their processing state."""
    get_model(session, project_id=project_id, model_id=model_id)
    rows = session.execute(
        select(RevisionRow, UserRow.username)
        .outerjoin(UserRow, UserRow.id == RevisionRow.uploaded_by_id)
        .where(RevisionRow.model_id == model_id)
        .order_by(RevisionRow.id.desc())
    )
    return [_revision(row, username) for row, username in rows]


def get_revision(
    session: Session, *, project_id: int, revision_id: int, with_summary: bool = True
) -> RevisionInfo:
    """One revision of the project; ``with_summary`` also loads the processing summary."""
    found = session.execute(
        select(RevisionRow, UserRow.username)
        .outerjoin(UserRow, UserRow.id == RevisionRow.uploaded_by_id)
        .where(RevisionRow.id == revision_id, RevisionRow.project_id == project_id)
    ).first()
    if found is None:
        raise NotFound(f"no revision {revision_id} in project {project_id}")
    return _revision(found[0], found[1], with_summary=with_summary)


def processed_revision(session: Session, *, project_id: int, revision_id: int) -> RevisionInfo:
    """A revision whose processing succeeded; its elements and geometry may be read.

    ``NotFound`` for unknown ids, ``Conflict`` while it is queued, running or failed: a
    half-processed revision is never readable.
    """
    revision = get_revision(session, project_id=project_id, revision_id=revision_id, with_summary=False)
    if revision.processing is not Processing.SUCCEEDED:
        raise Conflict(
            f"revision {revision.label} is {revision.processing.value}; it can be read once processed",
            code="not_processed",
        )
    return revision


def revision_document(session: Session, *, project_id: int, revision_id: int, document: str) -> bytes:
    """The stored ``spatial``, ``georef`` or ``failures`` JSON of a processed revision."""
    processed_revision(session, project_id=project_id, revision_id=revision_id)
    column = {
        "spatial": RevisionRow.spatial_json,
        "georef": RevisionRow.georef_json,
        "failures": RevisionRow.failures_json,
    }[document]
    value = session.execute(select(column).where(RevisionRow.id == revision_id)).scalar_one()
    return (value or "null").encode()


def change_revision_state(
    session: Session, *, project_id: int, revision_id: int, target: RevisionState, now: dt.datetime
) -> RevisionInfo:
    """Move a revision to ``target``; publishing archives the model's published revision.

    The move is a compare-and-set on the state read, so of two clients moving the same
    revision at once one gets ``Conflict``; publishers of one model are serialised by a
    lock on the model row (PostgreSQL; SQLite serialises all writers), and a unique index
    keeps a model from ever holding two published revisions.
    """
    row = session.execute(
        select(RevisionRow.state, RevisionRow.processing, RevisionRow.model_id).where(
            RevisionRow.id == revision_id, RevisionRow.project_id == project_id
        )
    ).first()
    if row is None:
        raise NotFound(f"no revision {revision_id} in project {project_id}")
    current = RevisionState(row.state)
    check_transition(current, target, Processing(row.processing))
    try:
        if target is RevisionState.PUBLISHED:
            session.execute(select(ModelRow.id).where(ModelRow.id == row.model_id).with_for_update())
            session.execute(
                update(RevisionRow)
                .where(
                    RevisionRow.model_id == row.model_id,
                    RevisionRow.state == RevisionState.PUBLISHED.value,
                    RevisionRow.id != revision_id,
                )
                .values(state=RevisionState.ARCHIVED.value)
            )
        moved = session.execute(
            update(RevisionRow)
            .where(RevisionRow.id == revision_id, RevisionRow.state == current.value)
            .values(state=target.value)
        ).rowcount
        if moved != 1:
            session.rollback()
            raise Conflict("the revision's state changed meanwhile; reload it and try again")
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            "another revision of this model was published at the same moment; reload and try again"
        ) from None
    return get_revision(session, project_id=project_id, revision_id=revision_id)


def _model(row: ModelRow) -> ModelInfo:
    return ModelInfo(row.id, row.project_id, row.name, row.discipline, row.created_at)


def _revision(row: RevisionRow, uploaded_by: str | None, *, with_summary: bool = False) -> RevisionInfo:
    return RevisionInfo(
        id=row.id,
        model_id=row.model_id,
        project_id=row.project_id,
        label=row.label,
        state=RevisionState(row.state),
        processing=Processing(row.processing),
        stage=row.stage,
        progress_pct=row.progress_pct,
        failure_reason=row.failure_reason,
        file_name=row.file_name,
        file_bytes=row.file_bytes,
        file_sha256=row.file_sha256,
        glb_sha256=row.glb_sha256,
        glb_bytes=row.glb_bytes,
        attempts=row.attempts,
        uploaded_by=uploaded_by,
        uploaded_at=row.uploaded_at,
        processed_at=row.processed_at,
        summary=orjson.loads(row.summary_json) if with_summary and row.summary_json else None,
        placement=_placement(row),
    )


def _placement(row: RevisionRow) -> Placement | None:
    if row.placed_at is None:
        return None
    return Placement(
        kind=row.georef_kind,
        crs=row.georef_crs,
        center_lon=row.center_lon,
        center_lat=row.center_lat,
        warnings=orjson.loads(row.georef_warnings_json) if row.georef_warnings_json else [],
    )


def check_geometry(session: Session, *, project_id: int, glb_sha256: str) -> None:
    """``NotFound`` unless a processed revision of ``project_id`` has this GLB.

    Geometry URLs name the blob's hash; this keeps a project's geometry to its readers
    even though identical files share one blob.
    """
    found = session.execute(
        select(RevisionRow.id)
        .where(
            RevisionRow.project_id == project_id,
            RevisionRow.glb_sha256 == glb_sha256,
            RevisionRow.processing == Processing.SUCCEEDED.value,
        )
        .limit(1)
    ).first()
    if found is None:
        raise NotFound(f"no geometry {glb_sha256} in project {project_id}")


def fail_revision(session: Session, *, revision_id: int, reason: str) -> None:
    """Mark a queued revision failed (its job could not even be queued)."""
    session.execute(
        update(RevisionRow)
        .where(RevisionRow.id == revision_id, RevisionRow.processing == Processing.QUEUED.value)
        .values(processing=Processing.FAILED.value, failure_reason=reason)
    )
    session.commit()


def retry_revision(session: Session, *, project_id: int, revision_id: int) -> RevisionInfo:
    """Queue a failed revision's processing again, with a fresh count of attempts.

    For failures that were not the file's fault (a worker lost too often, the queue down);
    a corrupt file fails again with the same reason.
    """
    revision = get_revision(session, project_id=project_id, revision_id=revision_id, with_summary=False)
    if revision.processing is not Processing.FAILED:
        raise Conflict(
            f"revision {revision.label} is {revision.processing.value}; only failed revisions are retried"
        )
    session.execute(
        update(RevisionRow)
        .where(RevisionRow.id == revision_id, RevisionRow.processing == Processing.FAILED.value)
        .values(
            processing=Processing.QUEUED.value, attempts=0, failure_reason=None, stage=None, progress_pct=0.0
        )
    )
    session.commit()
    return get_revision(session, project_id=project_id, revision_id=revision_id)
