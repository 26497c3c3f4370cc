"""Schedules on the twin: imports and versions, element–task links, progress, 4D dates.

A schedule belongs to a project and has numbered versions, one per imported file. Tasks
are identified by their key in the source (MSPDI UID, P6 task id, IFC GlobalId, CSV id),
which stays the same from one version to the next: links, link rules and reported
progress refer to task keys and element GlobalIds, so they hold for every version of the
schedule and every revision of the model that still has both.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace

import numpy as np
import orjson
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ifc_processing.schedules import ElementTaskRecord, ScheduleRecord

from ..db.orm import (
    ElementPropertyRow,
    ElementRow,
    ElementTaskRow,
    InstalledMarkRow,
    LinkRuleRow,
    ScheduleRow,
    ScheduleVersionRow,
    TaskLinkRow,
    TaskProgressRow,
    TaskRow,
)
from ..domain.errors import Conflict, InvalidInput, NotFound
from ..domain.fourd import (
    DEFAULT_RULES,
    EPOCH_ORDINAL,
    ElementDates,
    Light,
    Status,
    TaskDates,
    WarningRules,
    day_number,
    element_dates,
    task_delay_days,
    task_lights,
    task_status,
)
from ..domain.schedules import Coverage, LinkDiff, LinkRule, ScheduleInfo, ScheduleVersionInfo, TaskInfo
from .elements import element_filter_from_dict, matching_global_ids
from .revisions import processed_revision

__all__ = [
    "add_element_links",
    "add_link_rule",
    "compare_versions",
    "coverage_report",
    "delete_link_rule",
    "fourd_dates",
    "fourd_dates_many",
    "get_schedule",
    "import_schedule",
    "link_diff",
    "list_link_rules",
    "list_schedules",
    "list_versions",
    "mark_installed",
    "pin_baseline",
    "set_task_progress",
    "task_dates",
    "task_table",
    "task_tables",
    "tasks_at",
]

_BATCH_ROWS = 2_000
MAX_RULES = 100
#: Longest list of GlobalIds in a coverage report (the counts are always complete).
COVERAGE_LIST_LIMIT = 1_000
# Quantities that weigh an element's share of its task's progress, in order of preference.
_WEIGHT_QUANTITIES = ("NetVolume", "GrossVolume", "NetArea", "GrossArea", "NetSideArea", "Length")


# --------------------------------------------------------------------------- import and versions


def import_schedule(
    session: Session,
    *,
    project_id: int,
    name: str,
    record: ScheduleRecord,
    file_name: str,
    file_sha256: str,
    user_id: int | None,
) -> ScheduleVersionInfo:
    """Store ``record`` as the next version of the project's schedule ``name`` (created
    on first import). The previous version becomes the baseline unless one is pinned.
    Element links found in the file (IFC relations) are added to the schedule's links."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("the schedule needs a name of 1 to 200 characters")
    if not record.tasks:
        raise InvalidInput(f"{file_name}: the schedule has no tasks")
    schedule = _schedule_for_import(session, project_id, name)
    previous = session.execute(
        select(ScheduleVersionRow.id, ScheduleVersionRow.number, ScheduleVersionRow.file_sha256)
        .where(ScheduleVersionRow.schedule_id == schedule.id)
        .order_by(ScheduleVersionRow.number.desc())
        .limit(1)
    ).first()
    if previous is not None and previous.file_sha256 == file_sha256:
        session.rollback()
        # A double submit would otherwise make the plan its own baseline.
        raise Conflict(
            f"this file is already version {previous.number} of schedule {name!r}", code="duplicate_file"
        )
    version = ScheduleVersionRow(
        schedule_id=schedule.id,
        number=(previous.number + 1) if previous else 1,
        source_format=record.source_format,
        file_name=file_name[:400],
        file_sha256=file_sha256,
        data_date=record.data_date,
        task_count=len(record.tasks),
        calendars_json=orjson.dumps(
            [
                {
                    "key": c.key,
                    "name": c.name,
                    "working_weekdays": list(c.working_weekdays),
                    "holidays": [d.isoformat() for d in c.holidays],
                }
                for c in record.calendars
            ]
        ).decode(),
        warnings_json=orjson.dumps(list(record.warnings)).decode(),
        imported_by_id=user_id,
    )
    session.add(version)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"another import of schedule {name!r} finished first; import again") from None
    try:
        _insert(session, TaskRow, (_task_row(version.id, i, t) for i, t in enumerate(record.tasks)))
    except IntegrityError:
        session.rollback()
        raise Conflict(f"another import of schedule {name!r} finished first; import again") from None
    _insert(
        session,
        TaskLinkRow,
        (
            {
                "version_id": version.id,
                "predecessor_key": link.predecessor_key,
                "successor_key": link.successor_key,
                "kind": link.kind,
                "lag_days": link.lag_days,
            }
            for link in record.links
        ),
    )
    element_links = _add_links(session, schedule.id, record.element_links, source="ifc")
    if previous is not None and not schedule.baseline_pinned:
        schedule.baseline_version_id = previous.id
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"another import of schedule {name!r} finished first; import again") from None
    return _version_info(session, version, element_links)


def _schedule_for_import(session: Session, project_id: int, name: str) -> ScheduleRow:
    """The schedule to import into, created (not yet committed) on first import, so a
    failed import leaves no empty schedule behind; a parallel first import makes the
    commit fail on the unique name, reported as a conflict."""
    query = select(ScheduleRow).where(ScheduleRow.project_id == project_id, ScheduleRow.name == name)
    schedule = session.execute(query).scalar_one_or_none()
    if schedule is None:
        schedule = ScheduleRow(project_id=project_id, name=name, baseline_pinned=False)
        session.add(schedule)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise Conflict(f"another import of schedule {name!r} finished first; import again") from None
    return schedule


def list_schedules(session: Session, *, project_id: int) -> list[ScheduleInfo]:
    rows = session.execute(
        select(ScheduleRow).where(ScheduleRow.project_id == project_id).order_by(ScheduleRow.name)
    ).scalars()
    return [_schedule_info(session, row) for row in rows]


def get_schedule(session: Session, *, project_id: int, schedule_id: int) -> ScheduleInfo:
    return _schedule_info(session, _schedule(session, project_id, schedule_id))


def list_versions(session: Session, *, project_id: int, schedule_id: int) -> list[ScheduleVersionInfo]:
    _schedule(session, project_id, schedule_id)
    rows = session.execute(
        select(ScheduleVersionRow)
        .where(ScheduleVersionRow.schedule_id == schedule_id)
        .order_by(ScheduleVersionRow.number.desc())
    ).scalars()
    return [_version_info(session, row) for row in rows]


def pin_baseline(session: Session, *, project_id: int, schedule_id: int, number: int | None) -> ScheduleInfo:
    """Make version ``number`` the baseline for good (``None``: back to "the previous one")."""
    schedule = _schedule(session, project_id, schedule_id)
    if number is None:
        versions = session.execute(
            select(ScheduleVersionRow.id)
            .where(ScheduleVersionRow.schedule_id == schedule_id)
            .order_by(ScheduleVersionRow.number.desc())
            .limit(2)
        ).scalars()
        ids = list(versions)
        schedule.baseline_version_id = ids[1] if len(ids) > 1 else None
        schedule.baseline_pinned = False
    else:
        schedule.baseline_version_id = _version(session, schedule_id, number).id
        schedule.baseline_pinned = True
    session.commit()
    return _schedule_info(session, schedule)


# --------------------------------------------------------------------------- tasks


def task_table(
    session: Session, *, project_id: int, schedule_id: int, version: int | None = None
) -> list[TaskInfo]:
    """The tasks of a version (default: the latest) in file order, with effective dates."""
    _schedule(session, project_id, schedule_id)
    return task_tables(session, {schedule_id: version})[schedule_id]


def task_tables(session: Session, versions: Mapping[int, int | None]) -> dict[int, list[TaskInfo]]:
    """``task_table`` for many schedules at once (schedule id → version number, None for the
    latest) in five queries whatever their number: a portfolio's KPIs read every project's
    schedule. ``NotFound`` if a schedule lacks the version asked for (or has none)."""
    ids = list(versions)
    session.flush()  # the Core reads below do not autoflush
    connection = session.connection()  # Core rows: see ``_fourd_many``
    rows = session.execute(
        select(ScheduleRow.id, ScheduleRow.baseline_pinned, ScheduleRow.baseline_version_id).where(
            ScheduleRow.id.in_(ids)
        )
    ).all()
    numbers: dict[int, dict[int, int]] = defaultdict(dict)  # schedule → version number → id
    for schedule_id, version_id, number in session.execute(
        select(ScheduleVersionRow.schedule_id, ScheduleVersionRow.id, ScheduleVersionRow.number).where(
            ScheduleVersionRow.schedule_id.in_(ids)
        )
    ):
        numbers[schedule_id][number] = version_id
    chosen: dict[int, int] = {}  # schedule → version id
    baselines: dict[int, int] = {}  # schedule → baseline version id
    for schedule_id, pinned, pinned_id in rows:
        held = numbers.get(schedule_id, {})
        number = versions[schedule_id]
        number = max(held, default=None) if number is None else number
        if number not in held:
            raise NotFound(
                f"schedule {schedule_id} has no version {number}"
                if versions[schedule_id]
                else f"schedule {schedule_id} has no version"
            )
        chosen[schedule_id] = held[number]
        baseline = _baseline_version(held, number, pinned_id if pinned else None)
        if baseline is not None:
            baselines[schedule_id] = baseline
    baseline_dates: dict[int, dict[str, tuple]] = defaultdict(dict)
    for version_id, key, start, finish in connection.execute(
        select(TaskRow.version_id, TaskRow.key, TaskRow.planned_start, TaskRow.planned_finish).where(
            TaskRow.version_id.in_(set(baselines.values()))
        )
    ):
        baseline_dates[version_id][key] = (start, finish)
    # Plain rows, not ORM objects: building entities costs more than the query here
    # (``_task_info`` reads either by name).
    progress: dict[int, dict[str, object]] = defaultdict(dict)
    for row in connection.execute(
        select(*TaskProgressRow.__table__.columns).where(TaskProgressRow.schedule_id.in_(list(chosen)))
    ):
        progress[row.schedule_id][row.task_key] = row
    schedule_of = {version_id: schedule_id for schedule_id, version_id in chosen.items()}
    out: dict[int, list[TaskInfo]] = {schedule_id: [] for schedule_id in chosen}
    for task in connection.execute(
        select(*TaskRow.__table__.columns)
        .where(TaskRow.version_id.in_(list(schedule_of)))
        .order_by(TaskRow.version_id, TaskRow.position)
    ):
        schedule_id = schedule_of[task.version_id]
        baseline = baseline_dates.get(baselines.get(schedule_id), {})
        out[schedule_id].append(_task_info(task, baseline.get(task.key), progress[schedule_id].get(task.key)))
    missing = set(ids) - set(out)
    if missing:
        raise NotFound(f"no schedule {min(missing)}")
    return out


def tasks_at(tasks: list[TaskInfo], day: dt.date, rules: WarningRules = DEFAULT_RULES) -> list[TaskInfo]:
    """``tasks`` with their status, delay (days) and light on ``day``."""
    dates = task_dates(tasks)
    number = day_number(day)
    statuses = task_status(dates, number)
    delays = task_delay_days(dates, number)
    lights = task_lights(dates, delays, rules)
    return [
        replace(
            task,
            status=Status(int(status)).name.lower(),
            delay_days=float(delay),
            light=Light(int(light)).name.lower(),
        )
        for task, status, delay, light in zip(tasks, statuses, delays, lights, strict=True)
    ]


def set_task_progress(
    session: Session,
    *,
    project_id: int,
    schedule_id: int,
    task_key: str,
    actual_start: dt.date | None,
    actual_finish: dt.date | None,
    percent_complete: float | None,
    user_id: int | None,
) -> TaskInfo:
    """Record a task's actual dates and % complete (they override the file's); ``user_id``
    None for the system (e.g. the demo loader)."""
    tasks = {t.key: t for t in task_table(session, project_id=project_id, schedule_id=schedule_id)}
    if task_key not in tasks:
        raise NotFound(f"no task {task_key!r} in the latest version of schedule {schedule_id}")
    if actual_start and actual_finish and actual_finish < actual_start:
        raise InvalidInput("actual_finish is before actual_start")
    if percent_complete is not None and not 0 <= percent_complete <= 100:
        raise InvalidInput("percent_complete is 0 to 100")

    _upsert(
        session,
        TaskProgressRow,
        {"schedule_id": schedule_id, "task_key": task_key},
        {
            "actual_start": actual_start,
            "actual_finish": actual_finish,
            "percent_complete": percent_complete,
            "updated_by_id": user_id,
            "updated_at": dt.datetime.now(dt.UTC),
        },
    )
    session.commit()
    return next(
        t for t in task_table(session, project_id=project_id, schedule_id=schedule_id) if t.key == task_key
    )


def mark_installed(
    session: Session,
    *,
    project_id: int,
    global_id: str,
    installed_on: dt.date | None,
    note: str | None,
    photo_sha256: str | None,
    user_id: int,
) -> None:
    """Mark an element installed on a date (``None``: remove the mark)."""
    if installed_on is None:
        session.execute(
            delete(InstalledMarkRow).where(
                InstalledMarkRow.project_id == project_id, InstalledMarkRow.global_id == global_id
            )
        )
    else:
        values = {
            "installed_on": installed_on,
            "note": note,
            "photo_sha256": photo_sha256,
            "marked_by_id": user_id,
            "marked_at": dt.datetime.now(dt.UTC),
        }
        _upsert(session, InstalledMarkRow, {"project_id": project_id, "global_id": global_id}, values)
    session.commit()


def _dialect_insert(session: Session, table):
    # Both databases have INSERT … ON CONFLICT, but SQLAlchemy builds it per dialect.
    insert_for = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[session.get_bind().dialect.name]
    return insert_for(table)


def _upsert(session: Session, table, key: dict, values: dict) -> None:
    """Insert a row, or update it where ``key`` (a unique constraint) already exists, in one
    statement: a read-then-write would let parallel requests collide on the constraint."""
    statement = _dialect_insert(session, table).values(**key, **values)
    session.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))


# --------------------------------------------------------------------------- links


def add_element_links(
    session: Session, *, project_id: int, schedule_id: int, records: Iterable[ElementTaskRecord], source: str
) -> tuple[int, list[str]]:
    """Add GlobalId → task links (from a table or by hand).

    Returns how many links were new, and the rows whose task is not in the latest version
    (by key, or by name when the key is unknown and exactly one task has that name), which
    are left out rather than failing the whole table.
    """
    _schedule(session, project_id, schedule_id)
    tasks = task_table(session, project_id=project_id, schedule_id=schedule_id)
    keys = {t.key for t in tasks}
    by_name: dict[str, list[str]] = defaultdict(list)
    for task in tasks:
        by_name[task.name].append(task.key)
    resolved, unmatched = [], []
    for record in records:
        key = record.task_key if record.task_key in keys else None
        if key is None and len(by_name.get(record.task_name or "", [])) == 1:
            key = by_name[record.task_name][0]
        if key is None:
            unmatched.append(f"{record.global_id} → {record.task_key or ''} {record.task_name or ''}".strip())
            continue
        resolved.append(ElementTaskRecord(record.global_id, key, record.task_name, record.role))
    added = _add_links(session, schedule_id, resolved, source=source)
    session.commit()
    return added, unmatched


def add_link_rule(
    session: Session, *, project_id: int, schedule_id: int, task_key: str, spec: dict, user_id: int
) -> LinkRule:
    """Link ``task_key`` to every element matching ``spec`` (see ``element_filter_from_dict``),
    in every revision, now and later."""
    element_filter_from_dict(spec)  # refuse a bad rule now, not when a revision is viewed
    count = session.execute(select(func.count()).where(LinkRuleRow.schedule_id == schedule_id)).scalar_one()
    if count >= MAX_RULES:
        # Rules are resolved on every 4D request; beyond this, link by table instead.
        raise Conflict(f"a schedule has at most {MAX_RULES} rules; delete some or link by table")
    tasks = {t.key for t in task_table(session, project_id=project_id, schedule_id=schedule_id)}
    if task_key not in tasks:
        raise NotFound(f"no task {task_key!r} in the latest version of schedule {schedule_id}")
    row = LinkRuleRow(
        schedule_id=schedule_id,
        task_key=task_key,
        filter_json=orjson.dumps(spec).decode(),
        created_by_id=user_id,
    )
    session.add(row)
    session.commit()
    return LinkRule(row.id, task_key, spec)


def list_link_rules(session: Session, *, project_id: int, schedule_id: int) -> list[LinkRule]:
    _schedule(session, project_id, schedule_id)
    rows = session.execute(
        select(LinkRuleRow).where(LinkRuleRow.schedule_id == schedule_id).order_by(LinkRuleRow.id)
    )
    return [LinkRule(r.id, r.task_key, orjson.loads(r.filter_json)) for r in rows.scalars()]


def delete_link_rule(session: Session, *, project_id: int, schedule_id: int, rule_id: int) -> None:
    _schedule(session, project_id, schedule_id)
    gone = session.execute(
        delete(LinkRuleRow).where(LinkRuleRow.id == rule_id, LinkRuleRow.schedule_id == schedule_id)
    ).rowcount
    if gone != 1:
        raise NotFound(f"no rule {rule_id} in schedule {schedule_id}")
    session.commit()


def resolved_links(
    session: Session,
    *,
    schedule_id: int,
    revision_id: int,
    global_id: str | None = None,
    task_key: str | None = None,
) -> dict[str, set[str]]:
    """GlobalId → task keys for the revision's elements: explicit links plus every rule.

    ``global_id`` or ``task_key`` narrow it to one element or one task: that element is
    asked of each rule alone, only that task's rules run (the whole-revision resolution
    costs ~1 s per rule at 100k elements; one element, milliseconds).
    """
    linked: dict[str, set[str]] = defaultdict(set)
    explicit = (
        select(ElementTaskRow.global_id, ElementTaskRow.task_key)
        .join(ElementRow, ElementRow.global_id == ElementTaskRow.global_id)
        .where(ElementTaskRow.schedule_id == schedule_id, ElementRow.revision_id == revision_id)
    )
    rules = select(LinkRuleRow).where(LinkRuleRow.schedule_id == schedule_id)
    if global_id is not None:
        explicit = explicit.where(ElementTaskRow.global_id == global_id)
    if task_key is not None:
        explicit = explicit.where(ElementTaskRow.task_key == task_key)
        rules = rules.where(LinkRuleRow.task_key == task_key)
    for linked_id, key in session.execute(explicit):
        linked[linked_id].add(key)
    for rule in session.execute(rules).scalars():
        where = element_filter_from_dict(orjson.loads(rule.filter_json))
        for matched in matching_global_ids(session, revision_id=revision_id, where=where, among=global_id):
            linked[matched].add(rule.task_key)
    return linked


def element_task_keys(
    session: Session, *, project_id: int, schedule_id: int, revision_id: int, global_id: str
) -> set[str]:
    """Keys of the tasks the element is linked to (explicit links and rules) in this
    revision; ``NotFound`` when the revision has no such element."""
    processed_revision(session, project_id=project_id, revision_id=revision_id)
    _schedule(session, project_id, schedule_id)
    known = session.execute(
        select(ElementRow.id).where(ElementRow.revision_id == revision_id, ElementRow.global_id == global_id)
    ).first()
    if known is None:
        raise NotFound(f"no element {global_id} in revision {revision_id}")
    links = resolved_links(session, schedule_id=schedule_id, revision_id=revision_id, global_id=global_id)
    return links.get(global_id, set())


def task_element_rows(
    session: Session, *, project_id: int, schedule_id: int, revision_id: int, task_key: str
) -> list[int]:
    """GLB element-table rows of every element linked to the task (explicit links and the
    task's rules) in this revision, ascending; ``NotFound`` for an unknown task."""
    processed_revision(session, project_id=project_id, revision_id=revision_id)
    if task_key not in {t.key for t in task_table(session, project_id=project_id, schedule_id=schedule_id)}:
        raise NotFound(f"no task {task_key!r} in the latest version of schedule {schedule_id}")
    members = set(
        resolved_links(session, schedule_id=schedule_id, revision_id=revision_id, task_key=task_key)
    )
    rows = session.execute(
        select(ElementRow.global_id, ElementRow.glb_index).where(
            ElementRow.revision_id == revision_id, ElementRow.glb_index.is_not(None)
        )
    )
    return sorted(index for global_id, index in rows if global_id in members)


def coverage_report(session: Session, *, project_id: int, schedule_id: int, revision_id: int) -> Coverage:
    """Elements with no task, leaf tasks with no element, elements in more than one task."""
    processed_revision(session, project_id=project_id, revision_id=revision_id)
    tasks = task_table(session, project_id=project_id, schedule_id=schedule_id)
    # Spaces are rooms, not work: they are never scheduled and would drown the report.
    elements = list(
        session.execute(
            select(ElementRow.global_id).where(
                ElementRow.revision_id == revision_id, ElementRow.ifc_class != "IfcSpace"
            )
        ).scalars()
    )
    linked = resolved_links(session, schedule_id=schedule_id, revision_id=revision_id)
    keys = {t.key for t in tasks}
    used = {key for element_keys in linked.values() for key in element_keys}
    without = [g for g in elements if not (linked.get(g, set()) & keys)]
    several = {g: sorted(linked[g] & keys) for g in elements if len(linked.get(g, set()) & keys) > 1}
    report = Coverage(elements=len(elements), linked_elements=len(elements) - len(without))
    report.elements_without_task_count = len(without)
    report.elements_in_several_tasks_count = len(several)
    report.elements_without_task = without[:COVERAGE_LIST_LIMIT]
    report.elements_in_several_tasks = dict(list(several.items())[:COVERAGE_LIST_LIMIT])
    # Milestones mark dates, not work: they have no elements by nature.
    report.tasks_without_element = [
        t.key for t in tasks if not t.is_summary and not t.is_milestone and t.key not in used
    ]
    return report


def link_diff(
    session: Session, *, project_id: int, schedule_id: int, base_id: int, target_id: int
) -> LinkDiff:
    """How the links of revision ``target_id`` differ from those of ``base_id``."""
    _schedule(session, project_id, schedule_id)
    for revision_id in (base_id, target_id):
        processed_revision(session, project_id=project_id, revision_id=revision_id)
    before = resolved_links(session, schedule_id=schedule_id, revision_id=base_id)
    after = resolved_links(session, schedule_id=schedule_id, revision_id=target_id)
    diff = LinkDiff(base_id, target_id)
    for global_id in sorted(set(before) | set(after)):
        added = sorted(after.get(global_id, set()) - before.get(global_id, set()))
        removed = sorted(before.get(global_id, set()) - after.get(global_id, set()))
        if added:
            diff.added[global_id] = added
        if removed:
            diff.removed[global_id] = removed
    return diff


# --------------------------------------------------------------------------- 4D


def fourd_dates(
    session: Session, *, project_id: int, schedule_id: int, revision_id: int, version: int | None = None
) -> tuple[ElementDates, list[TaskInfo]]:
    """Per element of the revision's GLB (in its element order): the dates its status
    needs and its main task's index in ``tasks``; and the tasks, whose actual progress
    includes the roll-up of "installed" marks."""
    processed_revision(session, project_id=project_id, revision_id=revision_id)
    tasks = task_table(session, project_id=project_id, schedule_id=schedule_id, version=version)
    return _fourd_many(session, {(schedule_id, revision_id): (project_id, tasks)})[schedule_id, revision_id]


def fourd_dates_many(
    session: Session, pairs: Iterable[tuple[int, int, int]]
) -> dict[tuple[int, int], tuple[ElementDates, list[TaskInfo]]]:
    """``fourd_dates`` of the latest versions for many ``(project, schedule, processed
    revision)`` triples at once, keyed by (schedule, revision), in a few queries for all
    (plus one per link rule). The caller vouches that each schedule and revision belong to
    the project and that the revision is processed."""
    pairs = list(pairs)
    tables = task_tables(session, {schedule_id: None for _, schedule_id, _ in pairs})
    return _fourd_many(
        session,
        {
            (schedule_id, revision_id): (project_id, tables[schedule_id])
            for project_id, schedule_id, revision_id in pairs
        },
    )


def _fourd_many(
    session: Session, wanted: Mapping[tuple[int, int], tuple[int, list[TaskInfo]]]
) -> dict[tuple[int, int], tuple[ElementDates, list[TaskInfo]]]:
    """(schedule, revision) → (project, its tasks) in; the element dates out."""
    revision_ids = {revision_id for _, revision_id in wanted}
    schedule_ids = {schedule_id for schedule_id, _ in wanted}
    project_ids = {project_id for project_id, _ in wanted.values()}
    # Core rows through the session's connection: these reads run to hundreds of thousands
    # of rows for a portfolio, and the ORM's per-row bookkeeping would double their cost.
    # They do not autoflush: flush first.
    session.flush()
    connection = session.connection()
    members: dict[int, set[str]] = defaultdict(set)  # revision → every element's GlobalId
    glb: dict[int, dict[str, int]] = defaultdict(dict)  # revision → GlobalId → GLB row
    for revision_id, global_id, index in connection.execute(
        select(ElementRow.revision_id, ElementRow.global_id, ElementRow.glb_index).where(
            ElementRow.revision_id.in_(revision_ids)
        )
    ):
        members[revision_id].add(global_id)
        if index is not None:
            glb[revision_id][global_id] = index
    explicit: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for schedule_id, global_id, key in connection.execute(
        select(ElementTaskRow.schedule_id, ElementTaskRow.global_id, ElementTaskRow.task_key).where(
            ElementTaskRow.schedule_id.in_(schedule_ids)
        )
    ):
        explicit[schedule_id].append((global_id, key))
    rules: dict[int, list[LinkRuleRow]] = defaultdict(list)
    for rule in session.scalars(select(LinkRuleRow).where(LinkRuleRow.schedule_id.in_(schedule_ids))):
        rules[rule.schedule_id].append(rule)
    marks: dict[int, dict[str, dt.date]] = defaultdict(dict)
    for project_id, global_id, day in connection.execute(
        select(InstalledMarkRow.project_id, InstalledMarkRow.global_id, InstalledMarkRow.installed_on).where(
            InstalledMarkRow.project_id.in_(project_ids)
        )
    ):
        marks[project_id][global_id] = day
    out = {}
    for (schedule_id, revision_id), (project_id, tasks) in wanted.items():
        # Explicit links of the revision's elements plus every rule: ``resolved_links``.
        linked: dict[str, set[str]] = defaultdict(set)
        for global_id, key in explicit.get(schedule_id, ()):
            if global_id in members[revision_id]:
                linked[global_id].add(key)
        for rule in rules.get(schedule_id, ()):
            where = element_filter_from_dict(orjson.loads(rule.filter_json))
            for matched in matching_global_ids(session, revision_id=revision_id, where=where):
                linked[matched].add(rule.task_key)
        out[schedule_id, revision_id] = _element_dates_of(
            session, revision_id, tasks, glb[revision_id], linked, marks.get(project_id, {})
        )
    return out


def _element_dates_of(
    session: Session,
    revision_id: int,
    tasks: list[TaskInfo],
    glb_index: Mapping[str, int],
    linked: Mapping[str, set[str]],
    marks: Mapping[str, dt.date],
) -> tuple[ElementDates, list[TaskInfo]]:
    element_count = max(glb_index.values(), default=-1) + 1
    task_index = {t.key: t.index for t in tasks}
    tasks = _with_installed_rollup(session, revision_id, tasks, linked, marks)
    pairs = [
        (glb_index[g], task_index[k])
        for g, keys in linked.items()
        if g in glb_index
        for k in keys
        if k in task_index
    ]
    installed = np.full(element_count, np.nan)
    for global_id, day in marks.items():
        if global_id in glb_index:
            installed[glb_index[global_id]] = day_number(day)
    links = (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64))
    return element_dates(task_dates(tasks), element_count, links, installed_day=installed), tasks


def _with_installed_rollup(
    session: Session,
    revision_id: int,
    tasks: list[TaskInfo],
    linked: dict[str, set[str]],
    marks: dict[str, dt.date],
) -> list[TaskInfo]:
    """Tasks without reported progress take their actuals from their elements' marks:
    started at the first mark, finished at the last once every element is marked, and
    % complete weighted by quantity (volume, area or length) where elements have one."""
    if not marks:
        return tasks
    members: dict[str, list[str]] = defaultdict(list)
    for global_id, keys in linked.items():
        for key in keys:
            members[key].append(global_id)
    quantities = _quantities(session, revision_id)
    result = []
    for task in tasks:
        elements = members.get(task.key, [])
        done = [marks[g] for g in elements if g in marks]
        # The file's 0 % (MS Project and P6 always write one) is not a report; progress
        # reported on the twin, or actual dates from the file, are.
        if not done or task.reported or task.actual_start is not None:
            result.append(task)
            continue
        weights = _weights(quantities, elements)
        total = sum(weights.get(g, 1.0) for g in elements)
        installed = sum(weights.get(g, 1.0) for g in elements if g in marks)
        result.append(
            replace(
                task,
                actual_start=min(done),
                actual_finish=max(done) if len(done) == len(elements) else None,
                percent_complete=round(100.0 * installed / total, 1) if total else None,
            )
        )
    return result


def _quantities(session: Session, revision_id: int) -> dict[str, dict[str, float]]:
    """GlobalId → {quantity name: value} for the weighing quantities of the revision."""
    found: dict[str, dict[str, float]] = defaultdict(dict)
    rows = session.execute(
        select(ElementRow.global_id, ElementPropertyRow.name, ElementPropertyRow.value_num)
        .join(ElementPropertyRow, ElementPropertyRow.element_id == ElementRow.id)
        .where(
            ElementRow.revision_id == revision_id,
            ElementPropertyRow.name.in_(_WEIGHT_QUANTITIES),
            ElementPropertyRow.value_num > 0,
        )
    )
    for global_id, name, value in rows:
        found[global_id].setdefault(name, value)
    return found


def _weights(quantities: dict[str, dict[str, float]], global_ids: list[str]) -> dict[str, float]:
    # One kind of quantity for all elements of a task, or the weights would mix m³ with m;
    # none common to all: each element counts 1.
    for name in _WEIGHT_QUANTITIES:
        if global_ids and all(name in quantities.get(g, {}) for g in global_ids):
            return {g: quantities[g][name] for g in global_ids}
    return {}


# --------------------------------------------------------------------------- helpers


def _schedule(session: Session, project_id: int, schedule_id: int) -> ScheduleRow:
    row = session.get(ScheduleRow, schedule_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"no schedule {schedule_id} in project {project_id}")
    return row


def _baseline_version(versions: Mapping[int, int], number: int, pinned_id: int | None) -> int | None:
    """The baseline version (id) for version ``number`` of a schedule whose versions are
    ``versions`` (number → id): the pinned one if it is older, else the version just before
    (an old version is never compared with a newer plan)."""
    if pinned_id is not None:
        pinned = next((n for n, version_id in versions.items() if version_id == pinned_id), None)
        if pinned is not None and pinned < number:
            return pinned_id
    older = [n for n in versions if n < number]
    return versions[max(older)] if older else None


def _version(session: Session, schedule_id: int, number: int | None) -> ScheduleVersionRow:
    query = select(ScheduleVersionRow).where(ScheduleVersionRow.schedule_id == schedule_id)
    if number is None:
        query = query.order_by(ScheduleVersionRow.number.desc()).limit(1)
    else:
        query = query.where(ScheduleVersionRow.number == number)
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFound(
            f"schedule {schedule_id} has no version {number}"
            if number
            else f"schedule {schedule_id} has no version"
        )
    return row


def _schedule_info(session: Session, row: ScheduleRow) -> ScheduleInfo:
    numbers = dict(
        session.execute(
            select(ScheduleVersionRow.id, ScheduleVersionRow.number).where(
                ScheduleVersionRow.schedule_id == row.id
            )
        ).all()
    )
    return ScheduleInfo(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        latest_version=max(numbers.values(), default=None),
        baseline_version=numbers.get(row.baseline_version_id),
        baseline_pinned=row.baseline_pinned,
    )


def _version_info(
    session: Session, row: ScheduleVersionRow, element_links: int | None = None
) -> ScheduleVersionInfo:
    link_count = session.execute(select(func.count()).where(TaskLinkRow.version_id == row.id)).scalar_one()
    if element_links is None:
        element_links = session.execute(
            select(func.count()).where(ElementTaskRow.schedule_id == row.schedule_id)
        ).scalar_one()
    return ScheduleVersionInfo(
        id=row.id,
        schedule_id=row.schedule_id,
        number=row.number,
        source_format=row.source_format,
        file_name=row.file_name,
        data_date=row.data_date,
        task_count=row.task_count,
        link_count=link_count,
        element_link_count=element_links,
        warnings=orjson.loads(row.warnings_json),
        imported_at=row.imported_at,
        calendars=orjson.loads(row.calendars_json),
    )


def _task_row(version_id: int, position: int, task) -> dict:
    return {
        "version_id": version_id,
        "key": task.key,
        "position": position,
        "parent_key": task.parent_key,
        "wbs_code": task.wbs_code,
        "name": task.name,
        "is_milestone": task.is_milestone,
        "is_summary": task.is_summary,
        "is_critical": task.is_critical,
        "planned_start": task.planned_start,
        "planned_finish": task.planned_finish,
        "baseline_start": task.baseline_start,
        "baseline_finish": task.baseline_finish,
        "actual_start": task.actual_start,
        "actual_finish": task.actual_finish,
        "duration_days": task.duration_days,
        "percent_complete": task.percent_complete,
        "total_float_days": task.total_float_days,
        "calendar_key": task.calendar_key,
    }


def _task_info(task: TaskRow, baseline: tuple | None, progress: TaskProgressRow | None) -> TaskInfo:
    baseline_start, baseline_finish = baseline if baseline else (task.baseline_start, task.baseline_finish)
    if progress is not None:
        actual_start, actual_finish, percent = (
            progress.actual_start,
            progress.actual_finish,
            progress.percent_complete,
        )
    else:
        actual_start, actual_finish, percent = task.actual_start, task.actual_finish, task.percent_complete
    return TaskInfo(
        index=task.position,
        key=task.key,
        wbs_code=task.wbs_code,
        name=task.name,
        parent_key=task.parent_key,
        is_milestone=task.is_milestone,
        is_summary=task.is_summary,
        is_critical=task.is_critical,
        planned_start=task.planned_start,
        planned_finish=task.planned_finish,
        baseline_start=baseline_start,
        baseline_finish=baseline_finish,
        actual_start=actual_start,
        actual_finish=actual_finish,
        duration_days=task.duration_days,
        percent_complete=percent,
        total_float_days=task.total_float_days,
        reported=progress is not None,
    )


def task_dates(tasks: list[TaskInfo]) -> TaskDates:
    """The tasks' dates as ``domain.fourd`` arrays (day numbers, ``NaN`` = none), in order."""

    # Column by column straight from the dates (``TaskDates.from_rows`` takes dicts of any
    # values, at several times the cost; a portfolio builds thousands of these).
    def days(name: str) -> np.ndarray:
        ordinals = [value.toordinal() if value else np.nan for value in (getattr(t, name) for t in tasks)]
        return np.array(ordinals, dtype=np.float64) - EPOCH_ORDINAL

    return TaskDates(
        planned_start=days("planned_start"),
        planned_finish=days("planned_finish"),
        baseline_start=days("baseline_start"),
        baseline_finish=days("baseline_finish"),
        actual_start=days("actual_start"),
        actual_finish=days("actual_finish"),
        is_critical=np.array([bool(t.is_critical) for t in tasks], dtype=bool),
        is_milestone=np.array([bool(t.is_milestone) for t in tasks], dtype=bool),
        total_float_days=np.array(
            [np.nan if t.total_float_days is None else t.total_float_days for t in tasks], dtype=np.float64
        ),
    ).with_plan_as_baseline()


def _add_links(
    session: Session, schedule_id: int, records: Iterable[ElementTaskRecord], *, source: str
) -> int:
    existing = set(
        session.execute(
            select(ElementTaskRow.task_key, ElementTaskRow.global_id).where(
                ElementTaskRow.schedule_id == schedule_id
            )
        ).all()
    )
    fresh = []
    for record in records:
        pair = (record.task_key, record.global_id)
        if record.task_key and pair not in existing:
            existing.add(pair)
            fresh.append(
                {
                    "schedule_id": schedule_id,
                    "task_key": record.task_key,
                    "global_id": record.global_id,
                    "source": source,
                    "role": record.role,
                }
            )
    # Parallel requests may add the same link: the database keeps one, silently.
    for start in range(0, len(fresh), _BATCH_ROWS):
        session.execute(
            _dialect_insert(session, ElementTaskRow).on_conflict_do_nothing(
                index_elements=["schedule_id", "task_key", "global_id"]
            ),
            fresh[start : start + _BATCH_ROWS],
        )
    return len(fresh)


def _insert(session: Session, table, rows: Iterable[dict]) -> None:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH_ROWS:
            session.execute(insert(table), batch)
            batch = []
    if batch:
        session.execute(insert(table), batch)


def compare_versions(
    session: Session, *, project_id: int, schedule_id: int, version: int, against: int
) -> list[dict]:
    """Planned dates of ``version`` against those of ``against``, task by task (by key):
    ``same``, ``moved`` (with the shift of start and finish in days), ``added``, ``removed``."""
    new = {
        t.key: t for t in task_table(session, project_id=project_id, schedule_id=schedule_id, version=version)
    }
    old = {
        t.key: t for t in task_table(session, project_id=project_id, schedule_id=schedule_id, version=against)
    }
    result = []
    for key, task in new.items():
        before = old.get(key)
        if before is None:
            result.append({"key": key, "name": task.name, "status": "added"})
            continue
        start = _shift(before.planned_start, task.planned_start)
        finish = _shift(before.planned_finish, task.planned_finish)
        moved = bool(start) or bool(finish)
        result.append(
            {
                "key": key,
                "name": task.name,
                "status": "moved" if moved else "same",
                "start_shift_days": start,
                "finish_shift_days": finish,
            }
        )
    result += [{"key": k, "name": t.name, "status": "removed"} for k, t in old.items() if k not in new]
    return result


def _shift(before: dt.date | None, after: dt.date | None) -> int | None:
    return (after - before).days if before and after else None
