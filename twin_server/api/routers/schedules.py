"""Schedules, element–task links, progress and the 4D payload."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import tempfile
from pathlib import Path, PurePath
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from ifc_processing import IfcProcessingError
from ifc_processing.schedules import read_element_task_table, read_schedule

from ...domain.access import Capability
from ...domain.errors import InvalidInput, TooLarge, UnsupportedFile
from ...domain.fourd import Status, WarningRules, day_number, element_status, schedule_performance_index
from ...domain.fourd_payload import encode_fourd, fourd_json
from ...schemas.common import PlanDate
from ...schemas.schedules import (
    BaselineUpdate,
    CoveragePublic,
    ElementLinksCreate,
    FourDSummary,
    LinkDiffPublic,
    LinkRuleCreate,
    LinkRulePublic,
    LinksAdded,
    SchedulePublic,
    ScheduleVersionPublic,
    TaskElementsPublic,
    TaskProgressUpdate,
    TaskPublic,
    VersionComparison,
)
from ...services import schedules as schedule_service
from ..deps import Id, IdQuery, ProjectAccess, ProjectScope, RuntimeDep, SessionDep
from ..encoding import accepts_gzip

router = APIRouter(prefix="/api/projects/{project_id}", tags=["schedules"])

Reader = Annotated[ProjectScope, Depends(ProjectAccess(Capability.READ))]
Planner = Annotated[ProjectScope, Depends(ProjectAccess(Capability.MANAGE_SCHEDULE))]
Reporter = Annotated[ProjectScope, Depends(ProjectAccess(Capability.REPORT_PROGRESS))]
TaskKey = Annotated[str, Query(min_length=1, max_length=100)]

SCHEDULE_SUFFIXES = {".xml": "mspdi", ".xer": "xer", ".csv": "csv", ".ifc": "ifc", ".ifczip": "ifc"}
_PHOTO_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
_MAX_PHOTO_BYTES = 20 * 1024 * 1024
# Schedules and GlobalId tables are read whole, in the request: far smaller than models.
MAX_SCHEDULE_BYTES = 200 * 1024 * 1024
_GZIP_FROM_BYTES = 1024  # below this, gzip's header and the CPU are not worth it


@router.get("/schedules")
def list_schedules(scope: Reader, session: SessionDep) -> list[SchedulePublic]:
    return [
        SchedulePublic.model_validate(s)
        for s in schedule_service.list_schedules(session, project_id=scope.project.id)
    ]


@router.post("/schedules/import", status_code=201)
async def import_schedule(
    scope: Planner,
    runtime: RuntimeDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="MS Project XML, Primavera XER, IFC work schedule or CSV")],
    name: Annotated[str, Form(min_length=1, max_length=200, description="schedule name, e.g. 总进度计划")],
) -> ScheduleVersionPublic:
    """Import a schedule file as the next version of the schedule ``name`` (created on
    first import). The previous version becomes the baseline unless one is pinned. Links
    found in an IFC work schedule (IfcRelAssignsToProduct/ToProcess) are added too."""
    suffix = PurePath(file.filename or "").suffix.lower()
    if suffix not in SCHEDULE_SUFFIXES:
        raise UnsupportedFile(
            f"{file.filename!r} is not a schedule: upload .xml (MS Project), .xer (P6), .ifc/.ifczip or .csv",
            code="unsupported_file_type",
        )
    if "\x00" in name:
        raise InvalidInput("the schedule name contains a NUL character")
    path, sha256 = await run_in_threadpool(
        _spool, file, runtime.settings.work_dir, suffix, MAX_SCHEDULE_BYTES
    )
    try:
        record = await run_in_threadpool(read_schedule, path, source_format=SCHEDULE_SUFFIXES[suffix])
    except IfcProcessingError as exc:
        raise InvalidInput(f"{file.filename}: {exc.reason}", code="invalid_schedule") from None
    finally:
        path.unlink(missing_ok=True)
    version = await run_in_threadpool(
        schedule_service.import_schedule,
        session,
        project_id=scope.project.id,
        name=name,
        record=record,
        file_name=file.filename or "schedule",
        file_sha256=sha256,
        user_id=scope.principal.user_id,
    )
    runtime.queue.evaluate([scope.project.id])
    return ScheduleVersionPublic.model_validate(version)


@router.get("/schedules/{schedule_id}")
def read_schedule_info(schedule_id: Id, scope: Reader, session: SessionDep) -> SchedulePublic:
    info = schedule_service.get_schedule(session, project_id=scope.project.id, schedule_id=schedule_id)
    return SchedulePublic.model_validate(info)


@router.get("/schedules/{schedule_id}/versions")
def list_versions(schedule_id: Id, scope: Reader, session: SessionDep) -> list[ScheduleVersionPublic]:
    versions = schedule_service.list_versions(session, project_id=scope.project.id, schedule_id=schedule_id)
    return [ScheduleVersionPublic.model_validate(v) for v in versions]


@router.put("/schedules/{schedule_id}/baseline")
def pin_baseline(
    schedule_id: Id, body: BaselineUpdate, scope: Planner, runtime: RuntimeDep, session: SessionDep
) -> SchedulePublic:
    """Pin a version as the baseline (``null``: the previous version, updated on each import)."""
    info = schedule_service.pin_baseline(
        session, project_id=scope.project.id, schedule_id=schedule_id, number=body.version
    )
    runtime.queue.evaluate([scope.project.id])  # delays are measured against the baseline
    return SchedulePublic.model_validate(info)


@router.get("/schedules/{schedule_id}/tasks")
def list_tasks(
    schedule_id: Id,
    scope: Reader,
    session: SessionDep,
    at: Annotated[
        dt.date | None, Query(description="status, delay and light on this date (default today)")
    ] = None,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    revision: Annotated[
        int | None,
        Query(
            ge=1, le=2_147_483_647, description="roll up this revision's installed marks into task progress"
        ),
    ] = None,
    red_over_days: Annotated[
        float, Query(ge=0, le=3650, description="RED when the delay exceeds this")
    ] = 5.0,
    yellow_from_days: Annotated[
        float, Query(ge=0, le=3650, description="YELLOW from this delay on critical tasks or beyond float")
    ] = 1.0,
    milestone_red_over_days: Annotated[float, Query(ge=0, le=3650)] = 2.0,
    element: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9A-Za-z_$]{22}$",
            description="only the tasks this element (GlobalId) is linked to; needs `revision`",
        ),
    ] = None,
) -> list[TaskPublic]:
    """Tasks in file order (``index`` is the 4D payload's task index) with effective dates
    and, on the date ``at``, their status, delay in days and light (thresholds adjustable).
    With ``element``, only the tasks that element is linked to in ``revision``."""
    if element is not None and revision is None:
        raise InvalidInput("`element` needs `revision`: links are resolved against a revision's elements")
    if revision is not None:
        _, tasks = schedule_service.fourd_dates(
            session,
            project_id=scope.project.id,
            schedule_id=schedule_id,
            revision_id=revision,
            version=version,
        )
    else:
        tasks = schedule_service.task_table(
            session, project_id=scope.project.id, schedule_id=schedule_id, version=version
        )
    rules = WarningRules(
        red_over_days=red_over_days,
        yellow_from_days=yellow_from_days,
        milestone_red_over_days=milestone_red_over_days,
    )
    if element is not None:
        keys = schedule_service.element_task_keys(
            session,
            project_id=scope.project.id,
            schedule_id=schedule_id,
            revision_id=revision,
            global_id=element,
        )
        tasks = [t for t in tasks if t.key in keys]
    tasks = schedule_service.tasks_at(tasks, at or dt.date.today(), rules)
    return [TaskPublic.model_validate(t) for t in tasks]


@router.get("/revisions/{revision_id}/4d/summary")
def fourd_summary(
    revision_id: Id,
    scope: Reader,
    session: SessionDep,
    schedule: IdQuery,
    at: Annotated[dt.date | None, Query(description="default today")] = None,
) -> FourDSummary:
    """Elements by status on a date, and the schedule performance index (element-weighted
    earned value over planned value; null while nothing was due)."""
    dates, _ = schedule_service.fourd_dates(
        session, project_id=scope.project.id, schedule_id=schedule, revision_id=revision_id
    )
    day = day_number(at or dt.date.today())
    counts = np.bincount(element_status(dates, day), minlength=len(Status))
    return FourDSummary(
        at=at or dt.date.today(),
        elements=len(dates),
        by_status={status.name.lower(): int(counts[status]) for status in Status},
        spi=schedule_performance_index(dates, day),
    )


@router.get("/schedules/{schedule_id}/compare")
def compare_versions(
    schedule_id: Id,
    scope: Reader,
    session: SessionDep,
    version: Annotated[int, Query(ge=1, le=1_000_000)],
    against: Annotated[int, Query(ge=1, le=1_000_000)],
) -> VersionComparison:
    """Planned dates of ``version`` against ``against`` (e.g. the baseline), task by task."""
    tasks = schedule_service.compare_versions(
        session, project_id=scope.project.id, schedule_id=schedule_id, version=version, against=against
    )
    return VersionComparison(version=version, against=against, tasks=tasks)


@router.put("/schedules/{schedule_id}/progress")
def report_task_progress(
    schedule_id: Id,
    task_key: TaskKey,
    body: TaskProgressUpdate,
    scope: Reporter,
    runtime: RuntimeDep,
    session: SessionDep,
) -> TaskPublic:
    """A task's actual start and finish and % complete, as reported on site."""
    task = schedule_service.set_task_progress(
        session,
        project_id=scope.project.id,
        schedule_id=schedule_id,
        task_key=task_key,
        actual_start=body.actual_start,
        actual_finish=body.actual_finish,
        percent_complete=body.percent_complete,
        user_id=scope.principal.user_id,
    )
    runtime.queue.evaluate([scope.project.id])  # KPIs and alerts follow the change
    return TaskPublic.model_validate(task)


@router.post("/schedules/{schedule_id}/links", status_code=201)
def link_elements(
    schedule_id: Id, body: ElementLinksCreate, scope: Planner, runtime: RuntimeDep, session: SessionDep
) -> LinksAdded:
    """Link elements (GlobalIds) to a task by hand."""
    from ifc_processing.schedules import ElementTaskRecord

    records = [ElementTaskRecord(g, body.task_key, None, "OUTPUT") for g in body.global_ids]
    added, unmatched = schedule_service.add_element_links(
        session, project_id=scope.project.id, schedule_id=schedule_id, records=records, source="manual"
    )
    runtime.queue.evaluate([scope.project.id])  # the SPI weighs linked elements
    return LinksAdded(added=added, unmatched=unmatched[:100])


@router.post("/schedules/{schedule_id}/links/table", status_code=201)
async def link_elements_from_table(
    schedule_id: Id,
    scope: Planner,
    runtime: RuntimeDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="CSV: GUID, Task (id) and/or TaskName columns")],
) -> LinksAdded:
    """Link elements to tasks from a GlobalId table (CSV)."""
    if PurePath(file.filename or "").suffix.lower() != ".csv":
        raise UnsupportedFile("upload the GlobalId table as .csv", code="unsupported_file_type")
    path, _ = await run_in_threadpool(_spool, file, runtime.settings.work_dir, ".csv", MAX_SCHEDULE_BYTES)
    try:
        records = await run_in_threadpool(read_element_task_table, path)
    except IfcProcessingError as exc:
        raise InvalidInput(f"{file.filename}: {exc.reason}", code="invalid_table") from None
    finally:
        path.unlink(missing_ok=True)
    added, unmatched = await run_in_threadpool(
        schedule_service.add_element_links,
        session,
        project_id=scope.project.id,
        schedule_id=schedule_id,
        records=records,
        source="table",
    )
    runtime.queue.evaluate([scope.project.id])
    return LinksAdded(added=added, unmatched=unmatched[:100])


@router.get("/schedules/{schedule_id}/rules")
def list_rules(schedule_id: Id, scope: Reader, session: SessionDep) -> list[LinkRulePublic]:
    rules = schedule_service.list_link_rules(session, project_id=scope.project.id, schedule_id=schedule_id)
    return [LinkRulePublic.model_validate(r) for r in rules]


@router.post("/schedules/{schedule_id}/rules", status_code=201)
def add_rule(
    schedule_id: Id, body: LinkRuleCreate, scope: Planner, runtime: RuntimeDep, session: SessionDep
) -> LinkRulePublic:
    """Link a task to every element matching a filter, in this and every later revision."""
    rule = schedule_service.add_link_rule(
        session,
        project_id=scope.project.id,
        schedule_id=schedule_id,
        task_key=body.task_key,
        spec=body.filter.model_dump(exclude_defaults=True),
        user_id=scope.principal.user_id,
    )
    runtime.queue.evaluate([scope.project.id])
    return LinkRulePublic.model_validate(rule)


@router.delete("/schedules/{schedule_id}/rules/{rule_id}", status_code=204)
def delete_rule(
    schedule_id: Id, rule_id: Id, scope: Planner, runtime: RuntimeDep, session: SessionDep
) -> None:
    schedule_service.delete_link_rule(
        session, project_id=scope.project.id, schedule_id=schedule_id, rule_id=rule_id
    )
    runtime.queue.evaluate([scope.project.id])


@router.get("/schedules/{schedule_id}/link-diff")
def link_diff(
    schedule_id: Id,
    scope: Reader,
    session: SessionDep,
    base: IdQuery,
    target: IdQuery,
) -> LinkDiffPublic:
    """How element–task links differ between two processed revisions (GlobalId → task keys)."""
    diff = schedule_service.link_diff(
        session, project_id=scope.project.id, schedule_id=schedule_id, base_id=base, target_id=target
    )
    return LinkDiffPublic.model_validate(diff)


@router.get("/revisions/{revision_id}/coverage")
def coverage(
    revision_id: Id,
    scope: Reader,
    session: SessionDep,
    schedule: IdQuery,
) -> CoveragePublic:
    """Elements with no task, leaf tasks with no element, elements in more than one task."""
    report = schedule_service.coverage_report(
        session, project_id=scope.project.id, schedule_id=schedule, revision_id=revision_id
    )
    return CoveragePublic.model_validate(report)


@router.get("/revisions/{revision_id}/4d")
def read_fourd(
    revision_id: Id,
    request: Request,
    scope: Reader,
    session: SessionDep,
    schedule: IdQuery,
    format: Annotated[
        Literal["binary", "json"], Query(description="binary (E4D1, see docs) or json")
    ] = "binary",
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    """Per element of the revision's GLB, in its element order: planned start and finish,
    baseline finish, actual start and finish (day numbers since 1970-01-01) and the index
    of its main task in ``GET …/schedules/{id}/tasks``. The browser computes status for
    any date from this, without asking the server again."""
    dates, tasks = schedule_service.fourd_dates(
        session, project_id=scope.project.id, schedule_id=schedule, revision_id=revision_id, version=version
    )
    if format == "json":
        return Response(_json(fourd_json(dates, task_count=len(tasks))), media_type="application/json")
    try:
        payload = encode_fourd(dates, task_count=len(tasks))
    except ValueError as exc:  # dates spanning > 179 years: refused on input, but never a 500
        raise InvalidInput(f"the 4D dates cannot be encoded: {exc}; use format=json") from None
    if len(payload) >= _GZIP_FROM_BYTES and accepts_gzip(request):
        # Sorted-ish u16 day columns shrink ~7× (1.38 MB → 0.2 MB at 115k elements) for
        # ~8 ms at level 1; higher levels gain 4 % for twice the time.
        return Response(
            gzip.compress(payload, compresslevel=1),
            media_type="application/vnd.erji.4d",
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(payload, media_type="application/vnd.erji.4d", headers={"Vary": "Accept-Encoding"})


@router.get("/revisions/{revision_id}/4d/task-elements")
def read_task_elements(
    revision_id: Id, scope: Reader, session: SessionDep, schedule: IdQuery, task: TaskKey
) -> TaskElementsPublic:
    """Rows of the revision's GLB element table linked to one task (every link, not only
    the main task the 4D payload carries): what the viewer selects when a task is chosen."""
    rows = schedule_service.task_element_rows(
        session, project_id=scope.project.id, schedule_id=schedule, revision_id=revision_id, task_key=task
    )
    return TaskElementsPublic(task_key=task, glb_indices=rows)


@router.put("/elements/{global_id}/installed", status_code=204)
async def mark_installed(
    global_id: Annotated[str, PathParam(pattern=r"^[0-9A-Za-z_$]{22}$")],
    scope: Reporter,
    runtime: RuntimeDep,
    session: SessionDep,
    installed_on: Annotated[PlanDate, Form()],
    note: Annotated[str | None, Form(max_length=2000)] = None,
    photo: Annotated[UploadFile | None, File(description="JPEG or PNG, up to 20 MB")] = None,
) -> None:
    """Mark an element installed on a date, with a note and a photo. Rolls up into its
    tasks' actual progress (weighted by quantity where elements have one)."""
    if note and "\x00" in note:
        raise InvalidInput("the note contains a NUL character")
    photo_sha256 = await _store_photo(photo, runtime) if photo is not None and photo.filename else None
    await run_in_threadpool(
        schedule_service.mark_installed,
        session,
        project_id=scope.project.id,
        global_id=global_id,
        installed_on=installed_on,
        note=note,
        photo_sha256=photo_sha256,
        user_id=scope.principal.user_id,
    )
    runtime.queue.evaluate([scope.project.id])


@router.delete("/elements/{global_id}/installed", status_code=204)
def unmark_installed(
    global_id: Annotated[str, PathParam(pattern=r"^[0-9A-Za-z_$]{22}$")],
    scope: Reporter,
    runtime: RuntimeDep,
    session: SessionDep,
) -> None:
    schedule_service.mark_installed(
        session,
        project_id=scope.project.id,
        global_id=global_id,
        installed_on=None,
        note=None,
        photo_sha256=None,
        user_id=scope.principal.user_id,
    )
    runtime.queue.evaluate([scope.project.id])


async def _store_photo(photo: UploadFile, runtime) -> str:
    head = await photo.read(8)
    if not any(head.startswith(magic) for magic in _PHOTO_MAGIC):
        raise UnsupportedFile("the photo must be a JPEG or PNG image", code="unsupported_file_type")
    with runtime.blobs.writer() as (out, done):
        out.write(head)
        while chunk := await photo.read(1024 * 1024):
            if done.size + len(chunk) > _MAX_PHOTO_BYTES:
                raise TooLarge(f"the photo is larger than {_MAX_PHOTO_BYTES // 2**20} MB")
            out.write(chunk)
    return done.sha256


def _spool(upload: UploadFile, work_dir: Path, suffix: str, max_bytes: int) -> tuple[Path, str]:
    """Copy an ``UploadFile`` to a named file in ``work_dir`` (parsers take paths), hashing
    it and enforcing ``max_bytes``; the caller removes the file."""
    work_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(dir=work_dir, suffix=suffix, delete=False) as handle:
        path = Path(handle.name)
        upload.file.seek(0)
        while chunk := upload.file.read(1024 * 1024):
            size += len(chunk)
            if size > max_bytes:
                break
            digest.update(chunk)
            handle.write(chunk)
    if size > max_bytes:
        path.unlink(missing_ok=True)
        raise TooLarge(f"the file is larger than the limit of {max_bytes:,} bytes for schedules")
    return path, digest.hexdigest()


def _json(value) -> bytes:
    import orjson

    return orjson.dumps(value)
