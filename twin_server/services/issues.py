"""Issues (defects, hazards, coordination topics), their hash-chained event log, photos and
comments: the use cases behind ``/api/projects/{p}/issues``.

Every change to an issue appends an event in the same transaction, chained to the one
before (``domain.issues.chain_hash``), and records the new chain head on the issue row.
Who may do what follows ``domain.issues``: the creator submits, the assignee replies and
disputes, the verifier re-inspects, rules on disputes and voids; capabilities (raise an
issue, sign a major hazard off) come from the caller's role. ``now``/``today`` are always
passed in.

Concurrency: two requests changing one issue (or numbering two new issues) at once would
take the same event sequence (or issue number); the unique constraints refuse the second
commit, and ``_retrying`` runs the use case again on fresh data — where the state machine
then decides (a second "close" finds the issue closed: 409).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.orm import (
    ElementRow,
    IssueCommentRow,
    IssueElementRow,
    IssueEventRow,
    IssuePhotoRow,
    IssueRow,
    IssueViewpointRow,
    OrgNodeRow,
    ProjectRow,
    RectificationNoticeRow,
    RevisionRow,
    ScheduleRow,
    UserRow,
)
from ..domain.access import Capability, Role
from ..domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..domain.issue_records import (
    AuditReport,
    ChainFinding,
    CommentRecord,
    ElementSeverities,
    EventRecord,
    IssueDetail,
    IssuePage,
    IssueSummary,
    PhotoRecord,
    ProjectUser,
)
from ..domain.issues import (
    DEFAULT_TOPIC_TYPE,
    GENESIS_HASH,
    LIVE,
    NOT_A_PARTY,
    TERMINAL,
    TRANSITIONS,
    Action,
    IssueFacts,
    IssueKind,
    IssueState,
    Party,
    Severity,
    Status,
    anchor_root,
    apply_action,
    canonical_json,
    chain_hash,
    check_anchor,
    check_parties,
    check_severity_change,
    check_sign_off,
    differing_facts,
    is_overdue,
    replay_events,
    severity_rank,
    verify_chain,
)
from ..domain.model import Principal
from .revisions import processed_revision

__all__ = [
    "PHOTO_ROLES",
    "THUMBNAIL_MAX_PX",
    "PhotoUpload",
    "add_comment",
    "add_photo",
    "append_event",
    "chain_anchor",
    "check_photo_allowed",
    "create_issue",
    "element_severities",
    "get_issue",
    "issue_events",
    "list_issues",
    "lock_project",
    "may_edit",
    "photo_blob",
    "project_users",
    "retrying",
    "sign_off_issue",
    "take_action",
    "update_issue",
    "user_names",
    "verify_chains",
    "verify_project_chain",
]

PHOTO_ROLES = ("before", "after", "attachment")
THUMBNAIL_MAX_PX = 320  # long side of the thumbnail shown in lists, pins and printed notices
_ATTEMPTS = 8  # a use case losing a race this often in a row is reported as a conflict
_BACKOFF_S = 0.02  # first pause between attempts; doubles, with jitter, so racers spread out

T = TypeVar("T")


def retrying(session: Session, use_case: Callable[[], T], *, what: str) -> T:
    """Run ``use_case`` (which commits) again on fresh data when a parallel writer took the
    same issue number or event sequence first (a unique constraint refused the commit).

    PostgreSQL mostly avoids the race (writers lock the project or issue row first); SQLite
    takes its write lock only at the first write, after the reads, so there the retry is
    the mechanism. Pauses grow with jitter so that racers do not collide again in step.
    """
    for attempt in range(_ATTEMPTS):
        try:
            return use_case()
        except IntegrityError:
            session.rollback()
            time.sleep(_BACKOFF_S * (2**attempt) * (0.5 + random.random()))
    raise Conflict(f"{what} was changed by others at the same moment; try again", code="concurrent_change")


def lock_project(session: Session, project_id: int) -> None:
    """Take the project's row lock (PostgreSQL) before numbering its issues or notices, so
    parallel creators number one after the other instead of colliding."""
    session.execute(select(ProjectRow.node_id).where(ProjectRow.node_id == project_id).with_for_update())


# --------------------------------------------------------------------------- events


def append_event(
    session: Session,
    row: IssueRow,
    type_: str,
    value: Any,
    *,
    author: str,
    author_id: int | None,
    at: dt.datetime,
) -> None:
    """Append one event to the issue's chain and move the chain head on the issue row.

    The hashed content holds everything the row's columns hold (the verifier checks they
    agree), so neither can be changed without breaking the chain. Two writers taking the
    same sequence number are stopped by the unique (issue, sequence) constraint.
    """
    sequence = row.event_count + 1
    content = {
        "issue": row.guid,
        "sequence": sequence,
        "type": type_,
        "value": value,
        "author": author,
        "author_id": author_id,
        "at": _iso(at),
    }
    digest = chain_hash(row.head_hash, content)
    session.add(
        IssueEventRow(
            issue_id=row.id,
            sequence=sequence,
            type=type_,
            at=at,
            content=canonical_json(content).decode("utf-8"),
            prev_hash=row.head_hash,
            hash=digest,
        )
    )
    row.event_count = sequence
    row.head_hash = digest
    row.modified_at = at
    row.modified_by = author


def _iso(at: dt.datetime) -> str:
    return _utc(at).astimezone(dt.UTC).isoformat(timespec="microseconds")


def issue_events(session: Session, *, project_id: int, issue_id: int) -> list[EventRecord]:
    """The issue's events, oldest first, as stored (with their chain hashes)."""
    row = _issue_row(session, project_id, issue_id)
    out = []
    for event in session.scalars(
        select(IssueEventRow).where(IssueEventRow.issue_id == row.id).order_by(IssueEventRow.sequence)
    ):
        try:
            content = json.loads(event.content)
        except ValueError:
            content = {}  # a damaged row still lists; the audit reports it
        out.append(
            EventRecord(
                sequence=event.sequence,
                type=event.type,
                value=content.get("value"),
                author=str(content.get("author", "")),
                at=_utc(event.at),
                prev_hash=event.prev_hash,
                hash=event.hash,
            )
        )
    return out


def verify_project_chain(
    session: Session, *, project_id: int, anchor: Mapping[str, tuple[int, str]] | None = None
) -> AuditReport:
    """Check every issue of the project against its hash-chained log.

    Finds: an event row edited (its hash), inserted or deleted (sequence and links), the last
    one deleted or appended (the count and head recorded on the issue), index columns that
    differ from the hashed content, and the issue's own rows (status, grade, title, due date,
    assignee, labels, elements, comments, photos, viewpoints, sign-off, notice) differing
    from what its log says (``domain.issues.replay_events``). With ``anchor`` (an earlier
    ``chain_anchor`` kept outside the database) also issues deleted whole and chains cut
    back since then.
    """
    problems: list[ChainFinding] = []
    rows = session.scalars(
        select(IssueRow).where(IssueRow.project_id == project_id).order_by(IssueRow.number)
    ).all()
    by_issue: dict[int, list[IssueEventRow]] = {}
    for event in session.scalars(
        select(IssueEventRow)
        .join(IssueRow, IssueRow.id == IssueEventRow.issue_id)
        .where(IssueRow.project_id == project_id)
        .order_by(IssueEventRow.issue_id, IssueEventRow.sequence)
    ):
        by_issue.setdefault(event.issue_id, []).append(event)
    stored = _stored_facts(session, rows)
    events_checked = 0
    hashes: dict[str, dict[int, str]] = {}
    for row in rows:
        events = by_issue.pop(row.id, [])
        events_checked += len(events)
        hashes[row.guid] = {e.sequence: e.hash for e in events}
        chain, contents = [], []
        for event in events:
            try:
                content = json.loads(event.content)
            except ValueError:
                problems.append(ChainFinding(row.id, row.number, event.sequence, "its content is not JSON"))
                content = {}
            chain.append((event.sequence, content, event.prev_hash, event.hash))
            contents.append(content)
            if content and (
                content.get("type") != event.type
                or content.get("sequence") != event.sequence
                or content.get("issue") != row.guid
                or content.get("at") != _iso(event.at)
            ):
                problems.append(
                    ChainFinding(
                        row.id, row.number, event.sequence, "its columns differ from its hashed content"
                    )
                )
        for problem in verify_chain(chain, expected_count=row.event_count, expected_head=row.head_hash):
            problems.append(ChainFinding(row.id, row.number, problem.sequence, problem.reason))
        differing = differing_facts(replay_events(contents), stored[row.id])
        if differing:
            problems.append(
                ChainFinding(
                    row.id,
                    row.number,
                    row.event_count,
                    f"the issue's {', '.join(differing)} differ from what its event log says",
                )
            )
    if anchor is not None:
        numbers = {row.guid: (row.id, row.number) for row in rows}
        for guid, reason in check_anchor(anchor, hashes):
            issue_id, number = numbers.get(guid, (0, 0))
            problems.append(ChainFinding(issue_id, number, anchor[guid][0], f"{reason} [{guid}]"))
    return AuditReport(
        project_id,
        len(rows),
        events_checked,
        problems,
        anchor_root=anchor_root({row.guid: (row.event_count, row.head_hash) for row in rows}),
    )


def _stored_facts(session: Session, rows: Sequence[IssueRow]) -> dict[int, IssueFacts]:
    """What the rows say of each issue, in the form ``replay_events`` gives."""
    ids = [r.id for r in rows]
    elements = element_ids(session, ids)
    comments: dict[int, dict[str, str]] = {i: {} for i in ids}
    photos: dict[int, set[tuple[str, str]]] = {i: set() for i in ids}
    viewpoints: dict[int, set[str]] = {i: set() for i in ids}
    for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        chunk = ids[start : start + 900]
        for issue_id, guid, text in session.execute(
            select(IssueCommentRow.issue_id, IssueCommentRow.guid, IssueCommentRow.text).where(
                IssueCommentRow.issue_id.in_(chunk)
            )
        ):
            comments[issue_id][guid] = text
        for issue_id, role, sha256 in session.execute(
            select(IssuePhotoRow.issue_id, IssuePhotoRow.role, IssuePhotoRow.sha256).where(
                IssuePhotoRow.issue_id.in_(chunk)
            )
        ):
            photos[issue_id].add((role, sha256))
        for issue_id, guid in session.execute(
            select(IssueViewpointRow.issue_id, IssueViewpointRow.guid).where(
                IssueViewpointRow.issue_id.in_(chunk)
            )
        ):
            viewpoints[issue_id].add(guid)
    usernames = dict(
        session.execute(
            select(UserRow.id, UserRow.username).where(
                UserRow.id.in_({r.assignee_id for r in rows if r.assignee_id is not None})
            )
        ).all()
    )
    notices = dict(
        session.execute(
            select(RectificationNoticeRow.id, RectificationNoticeRow.number).where(
                RectificationNoticeRow.id.in_({r.notice_id for r in rows if r.notice_id is not None})
            )
        ).all()
    )
    return {
        r.id: IssueFacts(
            status=r.status,
            reopened_count=r.reopened_count,
            severity=r.severity,
            title=r.title,
            description=r.description,
            due_date=r.due_date.isoformat() if r.due_date else None,
            assignee=usernames.get(r.assignee_id) if r.assignee_id else r.assignee_name,
            labels=frozenset(json.loads(r.labels_json)),
            global_ids=frozenset(elements[r.id]),
            comments=tuple(sorted(comments[r.id].items())),
            photos=frozenset(photos[r.id]),
            viewpoints=frozenset(viewpoints[r.id]),
            signed_off=r.signoff_at is not None,
            notice=notices.get(r.notice_id) if r.notice_id else None,
        )
        for r in rows
    }


def chain_anchor(session: Session, *, project_id: int) -> dict[str, tuple[int, str]]:
    """Every issue's ``guid → (event count, head hash)`` now: keep it outside the database and
    pass it to ``verify_project_chain`` later (``twin audit anchor`` / ``verify --anchor``)."""
    return {
        guid: (count, head)
        for guid, count, head in session.execute(
            select(IssueRow.guid, IssueRow.event_count, IssueRow.head_hash).where(
                IssueRow.project_id == project_id
            )
        )
    }


def verify_chains(
    session: Session,
    *,
    project_ids: Sequence[int] | None = None,
    anchors: Mapping[int, Mapping[str, tuple[int, str]]] | None = None,
) -> list[AuditReport]:
    """``verify_project_chain`` for the given projects (default: every project with issues or
    an anchor), each against its anchor when ``anchors`` has one."""
    anchors = anchors or {}
    if project_ids is None:
        project_ids = sorted(set(session.scalars(select(IssueRow.project_id))) | set(anchors))
    return [verify_project_chain(session, project_id=p, anchor=anchors.get(p)) for p in project_ids]


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- people


def _issue_row(session: Session, project_id: int, issue_id: int, *, lock: bool = False) -> IssueRow:
    query = select(IssueRow).where(IssueRow.id == issue_id, IssueRow.project_id == project_id)
    if lock:
        # PostgreSQL: writers of one issue (its chain head) take turns; SQLite serialises
        # all writers anyway, and the unique sequence catches what slips through.
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound(f"no issue {issue_id} in this project")
    return row


def _project_user(session: Session, project_path: str, user_id: int | None, what: str) -> UserRow | None:
    """The active user ``user_id`` if they can see the project (their node is on its path)."""
    if user_id is None:
        return None
    found = session.execute(
        select(UserRow, OrgNodeRow.path)
        .join(OrgNodeRow, OrgNodeRow.id == UserRow.node_id)
        .where(UserRow.id == user_id, UserRow.active.is_(True))
    ).first()
    if found is None or not project_path.startswith(found[1]):
        raise InvalidInput(f"the {what} (user {user_id}) is not a user of this project")
    return found[0]


def project_users(session: Session, *, project_path: str) -> list[ProjectUser]:
    """Active users who see the project: bound to it, to its region or to HQ."""
    ancestors = [project_path[: i + 1] for i, ch in enumerate(project_path) if ch == "/" and i > 0]
    rows = session.execute(
        select(UserRow.id, UserRow.username, UserRow.display_name, UserRow.role, OrgNodeRow.code)
        .join(OrgNodeRow, OrgNodeRow.id == UserRow.node_id)
        .where(UserRow.active.is_(True), OrgNodeRow.path.in_(ancestors))
        .order_by(UserRow.username)
    )
    return [ProjectUser(i, u, d, Role(r), code) for i, u, d, r, code in rows]


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(UserRow.id, UserRow.display_name, UserRow.username).where(UserRow.id.in_(wanted))
    )
    return {uid: display or username for uid, display, username in rows}


def actor_name(actor: Principal) -> str:
    return actor.display_name or actor.username


def _state(row: IssueRow) -> IssueState:
    return IssueState(
        kind=IssueKind(row.kind),
        severity=Severity(row.severity),
        status=Status(row.status),
        reopened_count=row.reopened_count,
        due_date=row.due_date,
        has_treatment_plan=bool(row.treatment_plan and row.treatment_plan.strip()),
        has_regional_signoff=row.signoff_at is not None,
        void_reason=row.void_reason,
    )


def _parties(row: IssueRow, actor: Principal) -> set[Party]:
    parties = set()
    if row.creator_id is not None and row.creator_id == actor.user_id:
        parties.add(Party.CREATOR)
    if row.assignee_id is not None and row.assignee_id == actor.user_id:
        parties.add(Party.ASSIGNEE)
    if (row.verifier_id or row.creator_id) == actor.user_id:
        parties.add(Party.VERIFIER)
    return parties


def next_number(session: Session, project_id: int) -> int:
    """The next project-unique issue number (a racing creator is caught by the unique
    constraint and retried)."""
    current = session.scalar(select(func.max(IssueRow.number)).where(IssueRow.project_id == project_id))
    return (current or 0) + 1


# --------------------------------------------------------------------------- viewpoints


def viewpoint_from_viewer(viewpoint: Mapping[str, Any] | None, global_ids: Sequence[str]) -> dict | None:
    """The stored (BCF-shaped) viewpoint of an issue raised in the viewer: its camera, the
    selection (the pinned elements unless the viewer sent its own), visibility and the
    colour mode it was in. ``None`` when there is neither a camera nor an element."""
    viewpoint = viewpoint or {}
    selected = list(viewpoint.get("selected_global_ids") or global_ids)
    camera = viewpoint.get("camera")
    if camera is None and not selected:
        return None
    return {
        "camera": dict(camera) if camera else None,
        "selection": [_component(g) for g in selected],
        "default_visibility": bool(viewpoint.get("default_visibility", True)),
        "visibility_exceptions": [_component(g) for g in viewpoint.get("visibility_exceptions") or []],
        "spaces_visible": None,
        "space_boundaries_visible": None,
        "openings_visible": None,
        "coloring": [],
        "lines": [],
        "clipping_planes": [],
        "index": None,
        "color_mode": viewpoint.get("color_mode"),
    }


def _component(global_id: str) -> dict:
    return {"ifc_guid": global_id, "originating_system": None, "authoring_tool_id": None}


# --------------------------------------------------------------------------- creating


def _check_location(session: Session, project_id: int, fields: Mapping[str, Any]) -> str | None:
    """Check the revision, schedule and elements belong to the project; the storey of the
    first pinned element (when the revision knows it)."""
    revision_id = fields.get("revision_id")
    storey = None
    if revision_id is not None:
        found = session.scalar(
            select(RevisionRow.id).where(RevisionRow.id == revision_id, RevisionRow.project_id == project_id)
        )
        if found is None:
            raise InvalidInput(f"revision {revision_id} is not a revision of this project")
        wanted = sorted(set(fields.get("global_ids") or []))
        known: dict[str, str | None] = {}
        for start in range(0, len(wanted), 900):  # SQLite's bound-parameter limit
            known.update(
                session.execute(
                    select(ElementRow.global_id, ElementRow.storey_name).where(
                        ElementRow.revision_id == revision_id,
                        ElementRow.global_id.in_(wanted[start : start + 900]),
                    )
                ).all()
            )
        missing = [g for g in wanted if g not in known]
        if missing:
            raise InvalidInput(f"element {missing[0]} is not in revision {revision_id}")
        first = (fields.get("global_ids") or [None])[0]
        storey = known.get(first) if first else None
    schedule_id = fields.get("schedule_id")
    if schedule_id is not None:
        found = session.scalar(
            select(ScheduleRow.id).where(ScheduleRow.id == schedule_id, ScheduleRow.project_id == project_id)
        )
        if found is None:
            raise InvalidInput(f"schedule {schedule_id} is not a schedule of this project")
    return storey


def create_issue(
    session: Session,
    *,
    project_id: int,
    project_path: str,
    actor: Principal,
    fields: Mapping[str, Any],
    now: dt.datetime,
    today: dt.date,
) -> IssueDetail:
    """Create an issue (DRAFT; OPEN at once when ``fields['submit']``) with its location,
    and its first events. ``fields`` are ``schemas.issues.IssueCreate``'s."""
    if not actor.can(Capability.RAISE_ISSUE):
        raise PermissionDenied(f"the role {actor.role.value} may not raise issues")
    kind = IssueKind(fields["kind"])
    severity = Severity(fields.get("severity") or Severity.MINOR)
    check_severity_change(IssueState(kind, severity), severity, treatment_plan=True)
    check_parties(assignee=fields.get("assignee_id"), verifier=fields.get("verifier_id") or actor.user_id)

    def attempt() -> int:
        lock_project(session, project_id)
        storey = _check_location(session, project_id, fields)
        assignee = _project_user(session, project_path, fields.get("assignee_id"), "assignee")
        verifier = _project_user(session, project_path, fields.get("verifier_id"), "verifier")
        global_ids = list(
            dict.fromkeys(fields.get("global_ids") or [])
        )  # order kept: the first is "the" element
        point = fields.get("point_m")
        row = IssueRow(
            project_id=project_id,
            number=next_number(session, project_id),
            guid=str(uuid.uuid4()),
            kind=kind.value,
            category=fields.get("category"),
            severity=severity.value,
            topic_type=DEFAULT_TOPIC_TYPE[kind],
            priority=fields.get("priority"),
            title=fields["title"],
            description=fields.get("description"),
            labels_json=json.dumps(sorted(set(fields.get("labels") or [])), ensure_ascii=False),
            status=Status.DRAFT.value,
            reopened_count=0,
            due_date=fields.get("due_date"),
            creator_id=actor.user_id,
            creator_name=actor_name(actor),
            assignee_id=assignee.id if assignee else None,
            responsible_company=fields.get("responsible_company"),
            responsible_uscc=fields.get("responsible_uscc"),
            verifier_id=verifier.id if verifier else actor.user_id,
            distribution_json=json.dumps(list(fields.get("distribution") or []), ensure_ascii=False),
            required_measures=fields.get("required_measures"),
            treatment_plan=fields.get("treatment_plan"),
            revision_id=fields.get("revision_id"),
            point_json=json.dumps([float(v) for v in point]) if point else None,
            fourd_date=fields.get("fourd_date"),
            storey=fields.get("storey") or storey,
            zone=fields.get("zone"),
            location_text=fields.get("location_text"),
            schedule_id=fields.get("schedule_id"),
            task_key=fields.get("task_key"),
            created_at=now,
            event_count=0,
            head_hash=GENESIS_HASH,
        )
        session.add(row)
        session.flush()
        session.add_all(
            IssueElementRow(issue_id=row.id, global_id=g, position=i) for i, g in enumerate(global_ids)
        )
        viewpoint = viewpoint_from_viewer(fields.get("viewpoint"), global_ids)
        viewpoint_guids = []
        if viewpoint is not None:
            viewpoint_guids.append(str(uuid.uuid4()))
            session.add(
                IssueViewpointRow(
                    issue_id=row.id,
                    guid=viewpoint_guids[0],
                    position=0,
                    data_json=json.dumps(viewpoint, ensure_ascii=False, sort_keys=True),
                )
            )
        author = actor_name(actor)

        def event(type_: str, value: Any) -> None:
            append_event(session, row, type_, value, author=author, author_id=actor.user_id, at=now)

        event(
            "created",
            {
                "number": row.number,
                "kind": row.kind,
                "status": row.status,
                "title": row.title,
                "description": row.description,
                "severity": row.severity,
                "category": row.category,
                "priority": row.priority,
                "labels": json.loads(row.labels_json),
                "responsible_company": row.responsible_company,
                "responsible_uscc": row.responsible_uscc,
                "distribution": json.loads(row.distribution_json),
                "required_measures": row.required_measures,
                "treatment_plan": row.treatment_plan,
                "global_ids": global_ids,
                "point_m": json.loads(row.point_json) if row.point_json else None,
                "revision_id": row.revision_id,
                "viewpoints": viewpoint_guids,
                "viewpoint": viewpoint,
                "fourd_date": row.fourd_date.isoformat() if row.fourd_date else None,
                "storey": row.storey,
                "zone": row.zone,
                "location_text": row.location_text,
                "schedule_id": row.schedule_id,
                "task_key": row.task_key,
                "verifier": verifier.username if verifier else actor.username,
            },
        )
        if assignee:
            event("assigned_to_updated", assignee.username)
        if row.due_date:
            event("due_date_updated", row.due_date.isoformat())
        if fields.get("submit", True) and assignee is not None:
            _transition(session, row, actor, Action.SUBMIT, reason=None, now=now)
        session.commit()
        return row.id

    issue_id = retrying(session, attempt, what="the project's issue numbers")
    return get_issue(session, project_id=project_id, issue_id=issue_id, actor=actor, today=today)


# --------------------------------------------------------------------------- the loop


def _transition(
    session: Session, row: IssueRow, actor: Principal, action: Action, *, reason: str | None, now: dt.datetime
) -> None:
    if action is Action.SUBMIT and row.assignee_id is None:
        raise InvalidInput("assign the issue to someone before opening it (the ball goes to the assignee)")
    # Evidence of this round, from the one who rectifies (not a photo someone else left).
    evidence = session.scalar(
        select(func.count())
        .select_from(IssuePhotoRow)
        .where(
            IssuePhotoRow.issue_id == row.id,
            IssuePhotoRow.role == "after",
            IssuePhotoRow.round == row.reopened_count,
            IssuePhotoRow.uploaded_by_id == row.assignee_id,
        )
    )
    before = _state(row)
    after = apply_action(before, action, parties=_parties(row, actor), reason=reason, evidence_count=evidence)
    row.status = after.status.value
    row.reopened_count = after.reopened_count
    row.void_reason = after.void_reason
    row.closed_at = now if after.status in TERMINAL else None
    author = actor_name(actor)
    append_event(
        session,
        row,
        "status_updated",
        {
            "from": before.status.value,
            "to": after.status.value,
            "action": action.value,
            "reason": reason,
            "reopened_count": after.reopened_count,
        },
        author=author,
        author_id=actor.user_id,
        at=now,
    )
    if before.has_regional_signoff and not after.has_regional_signoff:
        row.signoff_at = None
        row.signoff_by_id = None
        append_event(session, row, "signoff_removed", None, author=author, author_id=actor.user_id, at=now)


def take_action(
    session: Session,
    *,
    project_id: int,
    issue_id: int,
    actor: Principal,
    action: Action,
    reason: str | None,
    comment: str | None,
    now: dt.datetime,
    today: dt.date,
) -> IssueDetail:
    """Move the issue along the state machine (see ``domain.issues``); a comment given with
    the step (整改说明, 复查结论) is kept as a comment and an event."""

    def attempt() -> None:
        row = _issue_row(session, project_id, issue_id, lock=True)
        _transition(session, row, actor, action, reason=reason, now=now)
        if comment and comment.strip():
            _add_comment_row(session, row, actor, comment.strip(), now)
        session.commit()

    retrying(session, attempt, what=f"issue {issue_id}")
    return get_issue(session, project_id=project_id, issue_id=issue_id, actor=actor, today=today)


#: Plain text fields the creator or verifier may change (each change is a ``<name>_updated`` event).
_UPDATABLE = (
    "title",
    "description",
    "category",
    "severity",
    "priority",
    "responsible_company",
    "responsible_uscc",
    "required_measures",
    "treatment_plan",
)


def update_issue(
    session: Session,
    *,
    project_id: int,
    project_path: str,
    issue_id: int,
    actor: Principal,
    changes: Mapping[str, Any],
    now: dt.datetime,
    today: dt.date,
) -> IssueDetail:
    """Change fields of an issue still in the loop (creator or verifier only); one event per
    changed field (``<field>_updated``, ``label_added``/``label_removed``)."""

    def attempt() -> None:
        row = _issue_row(session, project_id, issue_id, lock=True)
        if not may_edit(row, actor):
            raise PermissionDenied("only the issue's creator or verifier may edit it", code=NOT_A_PARTY)
        if Status(row.status) in TERMINAL:
            raise Conflict(f"the issue is {row.status}; it can no longer be edited", code="issue_closed")
        author = actor_name(actor)

        def event(type_: str, value: Any) -> None:
            append_event(session, row, type_, value, author=author, author_id=actor.user_id, at=now)

        if changes.get("severity") is not None:
            plan = changes.get("treatment_plan") or row.treatment_plan
            check_severity_change(
                _state(row), Severity(changes["severity"]), treatment_plan=bool(plan and plan.strip())
            )
        for name in _UPDATABLE:
            value = changes.get(name)
            if value is None:
                continue
            value = str(value)
            if value != (getattr(row, name) or ""):
                setattr(row, name, value)
                event(f"{name}_updated", value)
        if changes.get("labels") is not None:
            old, new = set(json.loads(row.labels_json)), set(changes["labels"])
            for label in sorted(new - old):
                event("label_added", label)
            for label in sorted(old - new):
                event("label_removed", label)
            row.labels_json = json.dumps(sorted(new), ensure_ascii=False)
        if changes.get("distribution") is not None:
            distribution = list(changes["distribution"])
            if distribution != json.loads(row.distribution_json):
                row.distribution_json = json.dumps(distribution, ensure_ascii=False)
                event("distribution_updated", distribution)
        if changes.get("clear_due_date"):
            if row.due_date is not None:
                row.due_date = None
                event("due_date_updated", None)
        elif changes.get("due_date") is not None and changes["due_date"] != row.due_date:
            row.due_date = changes["due_date"]
            event("due_date_updated", row.due_date.isoformat())
        if changes.get("assignee_id") is not None and changes["assignee_id"] != row.assignee_id:
            assignee = _project_user(session, project_path, changes["assignee_id"], "assignee")
            row.assignee_id = assignee.id
            row.assignee_name = None
            event("assigned_to_updated", assignee.username)
        if changes.get("verifier_id") is not None and changes["verifier_id"] != row.verifier_id:
            verifier = _project_user(session, project_path, changes["verifier_id"], "verifier")
            row.verifier_id = verifier.id
            event("verifier_updated", verifier.username)
        check_parties(assignee=row.assignee_id, verifier=row.verifier_id or row.creator_id)
        session.commit()

    retrying(session, attempt, what=f"issue {issue_id}")
    return get_issue(session, project_id=project_id, issue_id=issue_id, actor=actor, today=today)


def sign_off_issue(
    session: Session, *, project_id: int, issue_id: int, actor: Principal, now: dt.datetime, today: dt.date
) -> IssueDetail:
    """The region's sign-off that lets a major safety hazard (重大隐患) close."""
    if not actor.can(Capability.SIGN_OFF_HAZARD):
        raise PermissionDenied(f"the role {actor.role.value} may not sign major hazards off")

    def attempt() -> None:
        row = _issue_row(session, project_id, issue_id, lock=True)
        check_sign_off(_state(row))
        if row.signoff_at is not None:
            return  # signed already: nothing to add to the chain
        row.signoff_by_id = actor.user_id
        row.signoff_at = now
        append_event(
            session,
            row,
            "signoff_added",
            actor.username,
            author=actor_name(actor),
            author_id=actor.user_id,
            at=now,
        )
        session.commit()

    retrying(session, attempt, what=f"issue {issue_id}")
    return get_issue(session, project_id=project_id, issue_id=issue_id, actor=actor, today=today)


# --------------------------------------------------------------------------- comments, photos


def _add_comment_row(
    session: Session, row: IssueRow, actor: Principal, text: str, now: dt.datetime
) -> IssueCommentRow:
    comment = IssueCommentRow(
        issue_id=row.id,
        guid=str(uuid.uuid4()),
        author_id=actor.user_id,
        author_name=actor_name(actor),
        text=text,
        created_at=now,
    )
    session.add(comment)
    append_event(
        session,
        row,
        "comment_added",
        {"guid": comment.guid, "text": text},
        author=actor_name(actor),
        author_id=actor.user_id,
        at=now,
    )
    return comment


def may_edit(row: IssueRow, actor: Principal) -> bool:
    """The issue's creator or verifier: who may change its fields, dates and company."""
    return bool(_parties(row, actor) & {Party.CREATOR, Party.VERIFIER})


def _may_contribute(row: IssueRow, actor: Principal) -> bool:
    return bool(_parties(row, actor)) or actor.can(Capability.RAISE_ISSUE)


def add_comment(
    session: Session, *, project_id: int, issue_id: int, actor: Principal, text: str, now: dt.datetime
) -> CommentRecord:
    """A comment by one of the issue's parties or by an inspector (a closed issue can still
    be commented on: the history stays open to remarks, its status does not)."""

    def attempt() -> IssueCommentRow:
        row = _issue_row(session, project_id, issue_id, lock=True)
        if not _may_contribute(row, actor):
            raise PermissionDenied(
                "only the issue's parties and inspectors may comment on it", code=NOT_A_PARTY
            )
        comment = _add_comment_row(session, row, actor, text, now)
        session.commit()
        return comment

    return _comment_record(retrying(session, attempt, what=f"issue {issue_id}"))


@dataclass(frozen=True, slots=True)
class PhotoUpload:
    """A stored photo blob and what was read from it (``services.photos.store_upload``)."""

    sha256: str
    size_bytes: int
    content_type: str
    file_name: str
    thumbnail_sha256: str | None
    exif_time: str | None


def check_photo_allowed(
    session: Session, *, project_id: int, issue_id: int, actor: Principal, role: str
) -> None:
    """Raise unless ``actor`` may add a ``role`` photo to the issue now (checked before the
    upload is stored, and again when it is attached)."""
    if role not in PHOTO_ROLES:
        raise InvalidInput(f"a photo's role is one of {', '.join(PHOTO_ROLES)}")
    row = _issue_row(session, project_id, issue_id)
    _check_photo(row, actor, role)


def _check_photo(row: IssueRow, actor: Principal, role: str) -> None:
    if role == "after" and Party.ASSIGNEE not in _parties(row, actor):
        raise PermissionDenied(
            "only the issue's assignee adds after-photos (the rectification evidence)", code=NOT_A_PARTY
        )
    if not _may_contribute(row, actor):
        raise PermissionDenied("only the issue's parties and inspectors may add photos", code=NOT_A_PARTY)
    if Status(row.status) in TERMINAL:
        raise Conflict(f"the issue is {row.status}", code="issue_closed")


def add_photo(
    session: Session,
    *,
    project_id: int,
    issue_id: int,
    actor: Principal,
    role: str,
    upload: PhotoUpload,
    now: dt.datetime,
) -> PhotoRecord:
    """Attach a stored photo: ``before`` (evidence of the finding), ``after`` (the
    assignee's rectification evidence, counted for the reply of this round) or
    ``attachment``. The same file twice in the same role is stored once (idempotent)."""
    if role not in PHOTO_ROLES:
        raise InvalidInput(f"a photo's role is one of {', '.join(PHOTO_ROLES)}")

    def attempt() -> IssuePhotoRow:
        row = _issue_row(session, project_id, issue_id, lock=True)
        _check_photo(row, actor, role)
        existing = session.scalar(
            select(IssuePhotoRow).where(
                IssuePhotoRow.issue_id == row.id,
                IssuePhotoRow.role == role,
                IssuePhotoRow.sha256 == upload.sha256,
            )
        )
        if existing is not None:
            session.rollback()
            return existing
        photo = IssuePhotoRow(
            issue_id=row.id,
            role=role,
            sha256=upload.sha256,
            thumbnail_sha256=upload.thumbnail_sha256,
            content_type=upload.content_type,
            file_name=upload.file_name,
            size_bytes=upload.size_bytes,
            exif_time=upload.exif_time,
            round=row.reopened_count,
            uploaded_by_id=actor.user_id,
            uploaded_at=now,
        )
        session.add(photo)
        append_event(
            session,
            row,
            "photo_added",
            {
                "role": role,
                "sha256": upload.sha256,
                "file_name": upload.file_name,
                "exif_time": upload.exif_time,
                "round": row.reopened_count,
            },
            author=actor_name(actor),
            author_id=actor.user_id,
            at=now,
        )
        session.commit()
        return photo

    photo = retrying(session, attempt, what=f"issue {issue_id}")
    return _photo_record(photo, user_names(session, [photo.uploaded_by_id]))


def photo_blob(
    session: Session, *, project_id: int, issue_id: int, sha256: str
) -> tuple[str, str | None, str, str]:
    """``(sha256, thumbnail sha256, content type, file name)`` of a photo of this issue."""
    _issue_row(session, project_id, issue_id)
    photo = session.scalars(
        select(IssuePhotoRow).where(IssuePhotoRow.issue_id == issue_id, IssuePhotoRow.sha256 == sha256)
    ).first()
    if photo is None:
        raise NotFound(f"no photo {sha256[:12]}… on issue {issue_id}")
    return photo.sha256, photo.thumbnail_sha256, photo.content_type, photo.file_name


# --------------------------------------------------------------------------- reading


def _comment_record(row: IssueCommentRow) -> CommentRecord:
    return CommentRecord(
        id=row.id,
        guid=row.guid,
        author=row.author_name,
        text=row.text,
        viewpoint_guid=row.viewpoint_guid,
        created_at=_utc(row.created_at),
        modified_at=_utc(row.modified_at) if row.modified_at else None,
    )


def _photo_record(row: IssuePhotoRow, names: Mapping[int, str]) -> PhotoRecord:
    return PhotoRecord(
        id=row.id,
        role=row.role,
        sha256=row.sha256,
        thumbnail_sha256=row.thumbnail_sha256,
        content_type=row.content_type,
        file_name=row.file_name,
        size_bytes=row.size_bytes,
        exif_time=row.exif_time,
        round=row.round,
        uploaded_by=names.get(row.uploaded_by_id) if row.uploaded_by_id else None,
        uploaded_at=_utc(row.uploaded_at),
    )


def _summary_fields(row: IssueRow, global_ids: list[str], names: Mapping[int, str], today: dt.date) -> dict:
    return {
        "id": row.id,
        "number": row.number,
        "guid": row.guid,
        "kind": IssueKind(row.kind),
        "title": row.title,
        "category": row.category,
        "severity": Severity(row.severity),
        "priority": row.priority,
        "status": Status(row.status),
        "overdue": is_overdue(_state(row), today),
        "due_date": row.due_date,
        "assignee_id": row.assignee_id,
        "assignee": names.get(row.assignee_id) if row.assignee_id else row.assignee_name,
        "responsible_company": row.responsible_company,
        "verifier_id": row.verifier_id,
        "creator": row.creator_name,
        "global_ids": global_ids,
        "point_m": json.loads(row.point_json) if row.point_json else None,
        "fourd_date": row.fourd_date,
        "storey": row.storey,
        "reopened_count": row.reopened_count,
        "notice_id": row.notice_id,
        "created_at": _utc(row.created_at),
        "modified_at": _utc(row.modified_at) if row.modified_at else None,
    }


def element_ids(session: Session, issue_ids: Sequence[int]) -> dict[int, list[str]]:
    """The pinned GlobalIds of each issue, in pinning order."""
    out: dict[int, list[str]] = {i: [] for i in issue_ids}
    for start in range(0, len(issue_ids), 900):  # SQLite's bound-parameter limit
        chunk = issue_ids[start : start + 900]
        for issue_id, global_id in session.execute(
            select(IssueElementRow.issue_id, IssueElementRow.global_id)
            .where(IssueElementRow.issue_id.in_(chunk))
            .order_by(IssueElementRow.issue_id, IssueElementRow.position, IssueElementRow.global_id)
        ):
            out[issue_id].append(global_id)
    return out


def summaries(session: Session, rows: Sequence[IssueRow], today: dt.date) -> list[IssueSummary]:
    elements = element_ids(session, [r.id for r in rows])
    names = user_names(session, [r.assignee_id for r in rows])
    return [IssueSummary(**_summary_fields(r, elements[r.id], names, today)) for r in rows]


def get_issue(
    session: Session, *, project_id: int, issue_id: int, actor: Principal, today: dt.date
) -> IssueDetail:
    row = _issue_row(session, project_id, issue_id)
    names = user_names(session, [row.assignee_id, row.verifier_id, row.signoff_by_id])
    comments = session.scalars(
        select(IssueCommentRow)
        .where(IssueCommentRow.issue_id == row.id)
        .order_by(IssueCommentRow.created_at, IssueCommentRow.id)
    ).all()
    photos = session.scalars(
        select(IssuePhotoRow).where(IssuePhotoRow.issue_id == row.id).order_by(IssuePhotoRow.id)
    ).all()
    names |= user_names(session, [p.uploaded_by_id for p in photos])
    viewpoints = session.scalars(
        select(IssueViewpointRow)
        .where(IssueViewpointRow.issue_id == row.id)
        .order_by(IssueViewpointRow.position)
    ).all()
    parties = _parties(row, actor)
    allowed = [
        action
        for (status, action), (_, party) in TRANSITIONS.items()
        if status == row.status and party in parties
    ]
    return IssueDetail(
        **_summary_fields(row, element_ids(session, [row.id])[row.id], names, today),
        description=row.description,
        labels=json.loads(row.labels_json),
        verifier=names.get(row.verifier_id) if row.verifier_id else None,
        responsible_uscc=row.responsible_uscc,
        distribution=json.loads(row.distribution_json),
        required_measures=row.required_measures,
        treatment_plan=row.treatment_plan,
        signed_off_by=names.get(row.signoff_by_id) if row.signoff_by_id else None,
        signed_off_at=_utc(row.signoff_at) if row.signoff_at else None,
        void_reason=row.void_reason,
        revision_id=row.revision_id,
        viewpoints=[_viewpoint_view(v) for v in viewpoints],
        zone=row.zone,
        location_text=row.location_text,
        schedule_id=row.schedule_id,
        task_key=row.task_key,
        topic_type=row.topic_type,
        stage=row.stage,
        closed_at=_utc(row.closed_at) if row.closed_at else None,
        allowed_actions=allowed,
        comments=[_comment_record(c) for c in comments],
        photos=[_photo_record(p, names) for p in photos],
    )


def _viewpoint_view(row: IssueViewpointRow) -> dict:
    data = json.loads(row.data_json)
    return {"guid": row.guid, **data, "snapshot_sha256": row.snapshot_sha256}


def list_issues(
    session: Session,
    *,
    project_id: int,
    today: dt.date,
    statuses: Sequence[Status] = (),
    severities: Sequence[Severity] = (),
    kinds: Sequence[IssueKind] = (),
    overdue: bool | None = None,
    assignee_id: int | None = None,
    global_id: str | None = None,
    notice_id: int | None = None,
    offset: int = 0,
    limit: int = 200,
) -> IssuePage:
    """Issues of the project, newest first, filtered; ``overdue`` is decided with ``today``."""
    query = select(IssueRow).where(IssueRow.project_id == project_id)
    if statuses:
        query = query.where(IssueRow.status.in_([s.value for s in statuses]))
    if severities:
        query = query.where(IssueRow.severity.in_([s.value for s in severities]))
    if kinds:
        query = query.where(IssueRow.kind.in_([k.value for k in kinds]))
    if assignee_id is not None:
        query = query.where(IssueRow.assignee_id == assignee_id)
    if notice_id is not None:
        query = query.where(IssueRow.notice_id == notice_id)
    if global_id is not None:
        query = query.where(
            IssueRow.id.in_(select(IssueElementRow.issue_id).where(IssueElementRow.global_id == global_id))
        )
    if overdue is not None:
        # The SQL form of domain.issues.is_overdue: OPEN and past due.
        late = (
            (IssueRow.status == Status.OPEN.value)
            & IssueRow.due_date.is_not(None)
            & (IssueRow.due_date < today)
        )
        query = query.where(late if overdue else ~late)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(IssueRow.number.desc()).offset(offset).limit(limit)).all()
    return IssuePage(summaries(session, rows, today), total or 0)


def element_severities(session: Session, *, project_id: int, revision_id: int) -> ElementSeverities:
    """Per element of a processed revision, the worst severity among its live issues (open,
    ready for review, disputed) and how many there are; ``glb_codes`` holds the same as one
    byte per GLB element row (0 none, else ``severity_rank``): the viewer's "defects" mode.

    Issues are pinned by GlobalId, so an issue raised on an earlier revision colours the
    same element in every later one.
    """
    processed_revision(session, project_id=project_id, revision_id=revision_id)
    rows = dict(
        session.execute(
            select(ElementRow.global_id, ElementRow.glb_index).where(
                ElementRow.revision_id == revision_id, ElementRow.glb_index.is_not(None)
            )
        ).all()
    )
    worst: dict[str, tuple[int, Severity, int]] = {}
    for global_id, severity in session.execute(
        select(IssueElementRow.global_id, IssueRow.severity)
        .join(IssueRow, IssueRow.id == IssueElementRow.issue_id)
        .where(IssueRow.project_id == project_id, IssueRow.status.in_([s.value for s in LIVE]))
    ):
        if global_id not in rows:
            continue  # pinned to an element this revision does not have
        level = Severity(severity)
        rank, current, count = worst.get(global_id, (0, level, 0))
        if severity_rank(level) > rank:
            rank, current = severity_rank(level), level
        worst[global_id] = (rank, current, count + 1)
    codes = bytearray(max(rows.values(), default=-1) + 1)
    for global_id, (rank, _, _) in worst.items():
        codes[rows[global_id]] = rank
    ordered = sorted(worst)
    return ElementSeverities(
        global_ids=ordered,
        severities=[worst[g][1] for g in ordered],
        counts=[worst[g][2] for g in ordered],
        glb_codes=bytes(codes),
    )
