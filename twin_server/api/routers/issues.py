"""Issues (defects, hazards, coordination topics), their photos, comments and hash-chained
event log, rectification notices (整改通知单), BCF exchange and the audit check.

Who may act on an issue is decided by the state machine (``domain.issues``): the routes
only require the caller to see the project (or hold a capability for creating issues,
signing hazards off and importing BCF); the services check the caller's part in the issue.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import PurePath
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from ...domain.access import Capability
from ...domain.errors import InvalidInput, NotFound, Unavailable, UnsupportedFile
from ...domain.issues import IssueKind, Severity, Status
from ...reports import find_cjk_font, render_notice_html, render_notice_pdf
from ...schemas.issues import (
    AuditReportPublic,
    BcfImportPublic,
    CommentCreate,
    CommentPublic,
    ElementSeverityPublic,
    EventPublic,
    IssueActionIn,
    IssueCreate,
    IssuePagePublic,
    IssuePublic,
    IssueUpdate,
    NoticeCreate,
    NoticePublic,
    PhotoPublic,
    ProjectUserPublic,
)
from ...services import bcf_exchange
from ...services import issues as issue_service
from ...services import notices as notice_service
from ...services.photos import IMAGE_TYPES, read_upload, store_upload
from ..deps import Id, IdQuery, ProjectAccess, ProjectScope, RuntimeDep, SessionDep, run_point_query
from ..encoding import accepts_gzip

router = APIRouter(prefix="/api/projects/{project_id}", tags=["issues"])

Reader = Annotated[ProjectScope, Depends(ProjectAccess(Capability.READ))]
Raiser = Annotated[ProjectScope, Depends(ProjectAccess(Capability.RAISE_ISSUE))]
SignOff = Annotated[ProjectScope, Depends(ProjectAccess(Capability.SIGN_OFF_HAZARD))]
Exchanger = Annotated[ProjectScope, Depends(ProjectAccess(Capability.EXCHANGE_BCF))]
Sha256 = Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$")]
Lang = Annotated[Literal["zh", "en"], Query(description="language of the printed notice")]

BCF_SUFFIXES = (".bcf", ".bcfzip")
# Photos are content-addressed: a URL names its bytes forever, but they are confidential
# to the project, so only the browser may keep them.
_PHOTO_CACHE = "private, max-age=31536000, immutable"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today() -> dt.date:
    return dt.date.today()


# --------------------------------------------------------------------------- issues


@router.get("/issues")
def list_issues(
    scope: Reader,
    session: SessionDep,
    status: Annotated[list[Status] | None, Query(description="any of these statuses")] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    kind: Annotated[list[IssueKind] | None, Query()] = None,
    overdue: Annotated[
        bool | None, Query(description="past due while OPEN (the ball with the assignee)")
    ] = None,
    assignee: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="assignee user id")] = None,
    element: Annotated[
        str | None, Query(pattern=r"^[0-9A-Za-z_$]{22}$", description="pinned to this GlobalId")
    ] = None,
    notice: Annotated[int | None, Query(ge=1, le=2_147_483_647, description="on this notice")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> IssuePagePublic:
    """The project's issues, newest first, filtered (filters combine with AND; repeating a
    filter, e.g. ``status=open&status=disputed``, means any of those)."""
    page = issue_service.list_issues(
        session,
        project_id=scope.project.id,
        today=_today(),
        statuses=status or (),
        severities=severity or (),
        kinds=kind or (),
        overdue=overdue,
        assignee_id=assignee,
        global_id=element,
        notice_id=notice,
        offset=offset,
        limit=limit,
    )
    return IssuePagePublic.model_validate(page)


@router.post("/issues", status_code=201)
def create_issue(body: IssueCreate, scope: Raiser, runtime: RuntimeDep, session: SessionDep) -> IssuePublic:
    """Raise an issue pinned to elements, a point, a viewpoint and the 4D date the viewer
    was at. Opened at once (``submit``, default) when it has an assignee; else a draft."""
    detail = issue_service.create_issue(
        session,
        project_id=scope.project.id,
        project_path=scope.project.path,
        actor=scope.principal,
        fields=body.model_dump(exclude_unset=False),
        now=_now(),
        today=_today(),
    )
    runtime.queue.evaluate([scope.project.id])  # KPIs and alerts follow the change
    return IssuePublic.model_validate(detail)


@router.get("/issues/severity")
async def element_severity(
    scope: Reader,
    runtime: RuntimeDep,
    session: SessionDep,
    request: Request,
    revision: IdQuery,
    format: Annotated[
        Literal["binary", "json"], Query(description="binary (one byte per GLB row) or json")
    ] = ("binary"),
) -> Response:
    """The worst live severity (open, ready for review, disputed) per element of a
    processed revision: ``binary`` is one byte per row of the revision's GLB element table
    (0 none, 1 minor, 2 major, 3 critical) — the viewer's "defects" colours; ``json`` lists
    only the elements that have live issues."""
    result = await run_point_query(
        runtime,
        issue_service.element_severities,
        session,
        project_id=scope.project.id,
        revision_id=revision,
    )
    if format == "json":
        return Response(
            ElementSeverityPublic.model_validate(result).model_dump_json(), media_type="application/json"
        )
    payload = result.glb_codes
    headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
    if len(payload) >= 1024 and accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        payload = gzip.compress(payload, compresslevel=1)
    return Response(payload, media_type="application/octet-stream", headers=headers)


@router.get("/issues/audit")
def audit_issues(scope: Reader, session: SessionDep) -> AuditReportPublic:
    """Check every issue's hash-chained event log: an edited, inserted or deleted event
    row, or an issue whose recorded chain head no longer matches, is listed."""
    report = issue_service.verify_project_chain(session, project_id=scope.project.id)
    return AuditReportPublic.model_validate(report)


@router.get("/issues/{issue_id}")
async def read_issue(issue_id: Id, scope: Reader, runtime: RuntimeDep, session: SessionDep) -> IssuePublic:
    detail = await run_point_query(
        runtime,
        issue_service.get_issue,
        session,
        project_id=scope.project.id,
        issue_id=issue_id,
        actor=scope.principal,
        today=_today(),
    )
    return IssuePublic.model_validate(detail)


@router.patch("/issues/{issue_id}")
def update_issue(
    issue_id: Id, body: IssueUpdate, scope: Reader, runtime: RuntimeDep, session: SessionDep
) -> IssuePublic:
    """Change fields of an issue still in the loop (its creator or verifier only); every
    change is an event (``title_updated``, ``due_date_updated``, ``label_added``, ...)."""
    detail = issue_service.update_issue(
        session,
        project_id=scope.project.id,
        project_path=scope.project.path,
        issue_id=issue_id,
        actor=scope.principal,
        changes=body.model_dump(exclude_unset=True),
        now=_now(),
        today=_today(),
    )
    runtime.queue.evaluate([scope.project.id])
    return IssuePublic.model_validate(detail)


@router.post("/issues/{issue_id}/actions")
def act_on_issue(
    issue_id: Id, body: IssueActionIn, scope: Reader, runtime: RuntimeDep, session: SessionDep
) -> IssuePublic:
    """Move the issue along the 整改 → 复查 loop: ``submit`` (creator), ``reply`` with
    after-photos and ``dispute`` (assignee), ``reinspect_pass`` / ``reinspect_fail``,
    ``uphold`` and ``void`` (verifier). ``allowed_actions`` on the issue says what the
    caller may do now; anything else is 409 (wrong status) or 403 (not your step)."""
    detail = issue_service.take_action(
        session,
        project_id=scope.project.id,
        issue_id=issue_id,
        actor=scope.principal,
        action=body.action,
        reason=body.reason,
        comment=body.comment,
        now=_now(),
        today=_today(),
    )
    runtime.queue.evaluate([scope.project.id])
    return IssuePublic.model_validate(detail)


@router.post("/issues/{issue_id}/signoff")
def sign_off_issue(issue_id: Id, scope: SignOff, runtime: RuntimeDep, session: SessionDep) -> IssuePublic:
    """The region's sign-off that lets a major safety hazard (重大隐患) be closed."""
    detail = issue_service.sign_off_issue(
        session,
        project_id=scope.project.id,
        issue_id=issue_id,
        actor=scope.principal,
        now=_now(),
        today=_today(),
    )
    runtime.queue.evaluate([scope.project.id])
    return IssuePublic.model_validate(detail)


@router.get("/issues/{issue_id}/events")
def list_events(issue_id: Id, scope: Reader, session: SessionDep) -> list[EventPublic]:
    """The issue's append-only event log, oldest first, with each event's chain hashes."""
    events = issue_service.issue_events(session, project_id=scope.project.id, issue_id=issue_id)
    return [EventPublic.model_validate(e) for e in events]


@router.post("/issues/{issue_id}/comments", status_code=201)
def add_comment(issue_id: Id, body: CommentCreate, scope: Reader, session: SessionDep) -> CommentPublic:
    comment = issue_service.add_comment(
        session,
        project_id=scope.project.id,
        issue_id=issue_id,
        actor=scope.principal,
        text=body.text,
        now=_now(),
    )
    return CommentPublic.model_validate(comment)


@router.post("/issues/{issue_id}/photos", status_code=201)
async def add_photo(
    issue_id: Id,
    scope: Reader,
    runtime: RuntimeDep,
    session: SessionDep,
    file: Annotated[
        UploadFile, File(description="up to 20 MB: JPEG or PNG photos; any file as an attachment")
    ],
    role: Annotated[
        Literal["before", "after", "attachment"],
        Form(
            description="before: the finding; after: the rectification (the assignee's reply); "
            "attachment: a document (test report, drawing), any type"
        ),
    ] = "before",
) -> PhotoPublic:
    """Attach a photo or document: stored as uploaded (its sha256 is the evidence); photos
    get a thumbnail and keep the camera's EXIF time. The same file twice in the same role is
    stored once."""
    # Check the issue and the caller's part first, so a refused upload stores nothing.
    await run_in_threadpool(
        issue_service.check_photo_allowed,
        session,
        project_id=scope.project.id,
        issue_id=issue_id,
        actor=scope.principal,
        role=role,
    )
    upload = await run_in_threadpool(
        store_upload, runtime.blobs, read_upload(file.file), file_name=file.filename or "photo", role=role
    )
    photo = await run_in_threadpool(
        issue_service.add_photo,
        session,
        project_id=scope.project.id,
        issue_id=issue_id,
        actor=scope.principal,
        role=role,
        upload=upload,
        now=_now(),
    )
    return PhotoPublic.model_validate(photo)


@router.get("/issues/{issue_id}/photos/{photo_sha256}", response_class=FileResponse)
def read_photo(
    issue_id: Id,
    photo_sha256: Sha256,
    scope: Reader,
    runtime: RuntimeDep,
    session: SessionDep,
    thumbnail: Annotated[bool, Query(description="the 320-px JPEG thumbnail")] = False,
) -> Response:
    original, thumb, content_type, file_name = issue_service.photo_blob(
        session, project_id=scope.project.id, issue_id=issue_id, sha256=photo_sha256
    )
    if thumbnail and thumb is None:
        raise NotFound(f"the file {photo_sha256[:12]}… is not a photo: it has no thumbnail")
    wanted = thumb if thumbnail else original
    path = runtime.blobs.path(wanted) if wanted else None
    if path is None:
        raise NotFound(f"the photo {photo_sha256[:12]}… is missing from storage")
    headers = {"Cache-Control": _PHOTO_CACHE, "ETag": f'"{wanted}"', "X-Content-Type-Options": "nosniff"}
    if not thumbnail and content_type not in IMAGE_TYPES.values():
        # Documents are only ever downloaded: a browser must not render an uploaded HTML or
        # SVG in the site's origin.
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file_name)}"
        headers["Content-Security-Policy"] = "sandbox"
    return FileResponse(path, media_type="image/jpeg" if thumbnail else content_type, headers=headers)


@router.get("/users")
def list_project_users(scope: Reader, session: SessionDep) -> list[ProjectUserPublic]:
    """Active users who can see the project (their node lies on its path): who an issue
    can be assigned to or verified by."""
    users = issue_service.project_users(session, project_path=scope.project.path)
    return [ProjectUserPublic.model_validate(u) for u in users]


# --------------------------------------------------------------------------- notices


@router.get("/notices")
def list_notices(scope: Reader, session: SessionDep) -> list[NoticePublic]:
    return [
        NoticePublic.model_validate(n)
        for n in notice_service.list_notices(session, project_id=scope.project.id)
    ]


@router.post("/notices", status_code=201)
def create_notice(
    body: NoticeCreate, scope: Raiser, runtime: RuntimeDep, session: SessionDep
) -> NoticePublic:
    """Bundle open findings into one rectification notice (整改通知单) to one company, with a
    deadline (each finding's due date) and the measures required."""
    notice = notice_service.create_notice(
        session,
        project_id=scope.project.id,
        actor=scope.principal,
        issue_ids=body.issue_ids,
        issued_to_company=body.issued_to_company,
        issued_to_uscc=body.issued_to_uscc,
        contact_person=body.contact_person,
        deadline=body.deadline,
        handling=body.handling,
        required_measures=body.required_measures,
        cc=body.cc,
        now=_now(),
        today=_today(),
    )
    runtime.queue.evaluate([scope.project.id])
    return NoticePublic.model_validate(notice)


@router.get("/notices/{notice_id}")
def read_notice(notice_id: Id, scope: Reader, session: SessionDep) -> NoticePublic:
    notice = notice_service.get_notice(session, project_id=scope.project.id, notice_id=notice_id)
    return NoticePublic.model_validate(notice)


@router.post("/notices/{notice_id}/acknowledge")
def acknowledge_notice(notice_id: Id, scope: Reader, session: SessionDep) -> NoticePublic:
    """The responsible party signs for the notice (签收)."""
    notice = notice_service.acknowledge_notice(
        session, project_id=scope.project.id, notice_id=notice_id, actor=scope.principal, now=_now()
    )
    return NoticePublic.model_validate(notice)


@router.get("/notices/{notice_id}/print")
async def print_notice(
    notice_id: Id,
    scope: Reader,
    runtime: RuntimeDep,
    session: SessionDep,
    format: Annotated[Literal["pdf", "html"], Query()] = "pdf",
    lang: Lang = "zh",
) -> Response:
    """The notice as printed: A4 PDF (Chinese font embedded) or one self-contained HTML page,
    with its number and deadline on every page."""
    document = await run_in_threadpool(
        notice_service.notice_document,
        session,
        project_id=scope.project.id,
        notice_id=notice_id,
        blobs=runtime.blobs,
    )
    file_stem = document.number
    if format == "html":
        page = render_notice_html(document, lang=lang)
        return Response(
            page,
            media_type="text/html; charset=utf-8",
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
            },
        )
    font = runtime.settings.report_font_path or find_cjk_font()
    if font is None:
        raise Unavailable("no Chinese TrueType font is installed for printing (install fonts-wqy-zenhei)")
    pdf = await run_in_threadpool(render_notice_pdf, document, font_path=font, lang=lang)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="{file_stem}.pdf"',
        },
    )


# --------------------------------------------------------------------------- BCF


@router.post("/bcf/import")
async def import_bcf(
    scope: Exchanger,
    runtime: RuntimeDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="BCF 1.0–3.0 (.bcf / .bcfzip)")],
) -> BcfImportPublic:
    """Import BCF topics as coordination issues, keyed by topic guid: a topic seen before
    gets only its new comments, viewpoints and status changes (never a duplicate)."""
    name = file.filename or "upload.bcf"
    if PurePath(name).suffix.lower() not in BCF_SUFFIXES:
        raise UnsupportedFile(
            f"{name!r} is not a BCF file: upload .bcf or .bcfzip", code="unsupported_file_type"
        )
    report = await run_in_threadpool(
        bcf_exchange.import_bcf_upload,
        session,
        project_id=scope.project.id,
        project_path=scope.project.path,
        actor=scope.principal,
        handle=file.file,
        file_name=name,
        blobs=runtime.blobs,
        work_dir=runtime.settings.work_dir,
        now=_now(),
    )
    runtime.queue.evaluate([scope.project.id])
    return BcfImportPublic.model_validate(report)


@router.get("/bcf/export")
async def export_bcf(
    scope: Reader,
    runtime: RuntimeDep,
    session: SessionDep,
    version: Annotated[Literal["2.1", "3.0"], Query(description="BCF version of the file")] = "3.0",
    status: Annotated[list[Status] | None, Query(description="only issues with these statuses")] = None,
    kind: Annotated[list[IssueKind] | None, Query()] = None,
) -> Response:
    """The project's issues as a BCF file: topics with comments, viewpoints (components by
    IfcGuid) and snapshots; our native status, kind, severity and 4D date travel as labels."""
    if status is not None and not status:
        raise InvalidInput("status filter is empty")
    data, file_name = await run_in_threadpool(
        bcf_exchange.export_bcf,
        session,
        project_id=scope.project.id,
        blobs=runtime.blobs,
        version=version,
        statuses=status or (),
        kinds=kind or (),
        today=_today(),
    )
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"', "Cache-Control": "no-store"},
    )
