"""Rectification notices (整改通知单): findings bundled to one company with a deadline, the
responsible party's acknowledgement, and the printable document.

A notice's state is not stored: it follows its findings (``domain.issues.notice_status``),
so it can never disagree with them. Bundling, acknowledging and re-dating are events in
each finding's hash chain.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.orm import IssuePhotoRow, IssueRow, OrgNodeRow, RectificationNoticeRow, UserRow
from ..domain.access import Capability
from ..domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..domain.issue_records import NoticeRecord
from ..domain.issues import NOT_A_PARTY, TERMINAL, IssueKind, NoticeHandling, Severity, Status, notice_status
from ..domain.model import Principal
from ..reports import NoticeDocument, NoticeFinding
from ..storage import LocalBlobStore
from .issues import actor_name, append_event, element_ids, lock_project, may_edit, retrying, user_names

__all__ = ["acknowledge_notice", "create_notice", "get_notice", "list_notices", "notice_document"]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _notice_row(
    session: Session, project_id: int, notice_id: int, *, lock: bool = False
) -> RectificationNoticeRow:
    query = select(RectificationNoticeRow).where(
        RectificationNoticeRow.id == notice_id, RectificationNoticeRow.project_id == project_id
    )
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"no rectification notice {notice_id} in this project")
    return row


def _record(session: Session, row: RectificationNoticeRow) -> NoticeRecord:
    findings = session.execute(
        select(IssueRow.id, IssueRow.status, IssueRow.reopened_count)
        .where(IssueRow.notice_id == row.id)
        .order_by(IssueRow.number)
    ).all()
    status = notice_status(
        ((Status(s), r) for _, s, r in findings), acknowledged=row.acknowledged_at is not None
    )
    names = user_names(session, [row.issued_by_id])
    return NoticeRecord(
        id=row.id,
        number=row.number,
        project_id=row.project_id,
        issued_by=names.get(row.issued_by_id) if row.issued_by_id else None,
        issued_to_company=row.issued_to_company,
        issued_to_uscc=row.issued_to_uscc,
        contact_person=row.contact_person,
        issued_on=row.issued_on,
        deadline=row.deadline,
        handling=NoticeHandling(row.handling),
        required_measures=row.required_measures,
        cc=json.loads(row.cc_json),
        status=status.value,
        acknowledged_at=_utc(row.acknowledged_at) if row.acknowledged_at else None,
        issue_ids=[i for i, _, _ in findings],
        reopened_findings=sum(1 for _, s, r in findings if r > 0 and Status(s) not in TERMINAL),
        created_at=_utc(row.created_at),
    )


def create_notice(
    session: Session,
    *,
    project_id: int,
    actor: Principal,
    issue_ids: Sequence[int],
    issued_to_company: str,
    issued_to_uscc: str | None,
    contact_person: str | None,
    deadline: dt.date,
    handling: NoticeHandling,
    required_measures: str | None,
    cc: Sequence[str],
    now: dt.datetime,
    today: dt.date,
) -> NoticeRecord:
    """Bundle findings into a 整改通知单 to one company: each finding gets the notice, the
    company and the deadline as its due date (each change an event). Only findings still
    in the loop may be bundled, a finding sits on one notice at a time, and the issuer must
    be each finding's creator or verifier (who may re-date it anyway)."""
    if not actor.can(Capability.RAISE_ISSUE):
        raise PermissionDenied(f"the role {actor.role.value} may not issue rectification notices")
    if deadline < today:
        raise InvalidInput(f"the deadline {deadline} is in the past")
    wanted = sorted(set(issue_ids))

    def attempt() -> int:
        lock_project(session, project_id)
        rows = session.scalars(
            select(IssueRow)
            .where(IssueRow.project_id == project_id, IssueRow.id.in_(wanted))
            .order_by(IssueRow.id)
            .with_for_update()
        ).all()
        missing = sorted(set(wanted) - {r.id for r in rows})
        if missing:
            raise NotFound(f"no issue {missing[0]} in this project")
        for row in rows:
            if Status(row.status) in TERMINAL or row.status == Status.DRAFT.value:
                raise Conflict(
                    f"issue #{row.number} is {row.status}; only open findings go on a notice",
                    code="issue_not_open",
                )
            if not may_edit(row, actor):
                raise PermissionDenied(
                    f"issue #{row.number} goes on a notice by its creator or verifier, not by you",
                    code=NOT_A_PARTY,
                )
            if row.notice_id is not None:
                current = session.get(RectificationNoticeRow, row.notice_id)
                raise Conflict(
                    f"issue #{row.number} is already on notice {current.number}", code="already_on_notice"
                )
        current = session.scalar(
            select(func.max(RectificationNoticeRow.sequence)).where(
                RectificationNoticeRow.project_id == project_id
            )
        )
        sequence = (current or 0) + 1
        notice = RectificationNoticeRow(
            project_id=project_id,
            sequence=sequence,
            number=f"ZG-{today.year}-{sequence:04d}",
            issued_by_id=actor.user_id,
            issued_to_company=issued_to_company,
            issued_to_uscc=issued_to_uscc,
            contact_person=contact_person,
            issued_on=today,
            deadline=deadline,
            handling=NoticeHandling(handling).value,
            required_measures=required_measures,
            cc_json=json.dumps(list(cc), ensure_ascii=False),
            created_at=now,
        )
        session.add(notice)
        session.flush()
        author = actor_name(actor)
        for row in rows:

            def event(type_: str, value: object, row: IssueRow = row) -> None:
                append_event(session, row, type_, value, author=author, author_id=actor.user_id, at=now)

            row.notice_id = notice.id
            event("notice_issued", notice.number)
            if row.responsible_company != issued_to_company:
                row.responsible_company = issued_to_company
                event("responsible_company_updated", issued_to_company)
            if row.responsible_uscc != issued_to_uscc:
                # A new company's code replaces the old one, or clears it (never the old
                # company's code under the new company's name).
                row.responsible_uscc = issued_to_uscc
                event("responsible_uscc_updated", issued_to_uscc)
            if row.due_date != deadline:
                row.due_date = deadline
                event("due_date_updated", deadline.isoformat())
        session.commit()
        return notice.id

    notice_id = retrying(session, attempt, what="the project's notices")
    return get_notice(session, project_id=project_id, notice_id=notice_id)


def get_notice(session: Session, *, project_id: int, notice_id: int) -> NoticeRecord:
    return _record(session, _notice_row(session, project_id, notice_id))


def list_notices(session: Session, *, project_id: int) -> list[NoticeRecord]:
    rows = session.scalars(
        select(RectificationNoticeRow)
        .where(RectificationNoticeRow.project_id == project_id)
        .order_by(RectificationNoticeRow.sequence.desc())
    ).all()
    return [_record(session, r) for r in rows]


def acknowledge_notice(
    session: Session, *, project_id: int, notice_id: int, actor: Principal, now: dt.datetime
) -> NoticeRecord:
    """The responsible party signs for the notice (签收): an assignee of one of its findings.
    Signing twice changes nothing."""

    def attempt() -> None:
        row = _notice_row(session, project_id, notice_id, lock=True)
        assignees = set(session.scalars(select(IssueRow.assignee_id).where(IssueRow.notice_id == row.id)))
        if actor.user_id not in assignees:
            raise PermissionDenied(
                "only an assignee of the notice's findings may acknowledge it", code=NOT_A_PARTY
            )
        if row.acknowledged_at is not None:
            return
        row.acknowledged_at = now
        row.acknowledged_by_id = actor.user_id
        for issue in session.scalars(
            select(IssueRow).where(IssueRow.notice_id == row.id).order_by(IssueRow.id).with_for_update()
        ):
            append_event(
                session,
                issue,
                "notice_acknowledged",
                row.number,
                author=actor_name(actor),
                author_id=actor.user_id,
                at=now,
            )
        session.commit()

    retrying(session, attempt, what=f"notice {notice_id}")
    return get_notice(session, project_id=project_id, notice_id=notice_id)


def notice_document(
    session: Session, *, project_id: int, notice_id: int, blobs: LocalBlobStore
) -> NoticeDocument:
    """The notice as printed: header, findings in number order (with their first
    before-photo's thumbnail), and the issuer's organisation."""
    notice = _notice_row(session, project_id, notice_id)
    record = _record(session, notice)
    project = session.get(OrgNodeRow, project_id)
    issuer = session.execute(
        select(UserRow, OrgNodeRow.name)
        .join(OrgNodeRow, OrgNodeRow.id == UserRow.node_id)
        .where(UserRow.id == notice.issued_by_id)
    ).first()
    rows = session.scalars(
        select(IssueRow).where(IssueRow.notice_id == notice.id).order_by(IssueRow.number)
    ).all()
    elements = element_ids(session, [r.id for r in rows])
    thumbs: dict[int, str | None] = {}
    for issue_id, thumb in session.execute(
        select(IssuePhotoRow.issue_id, IssuePhotoRow.thumbnail_sha256)
        .where(IssuePhotoRow.issue_id.in_([r.id for r in rows]), IssuePhotoRow.role == "before")
        .order_by(IssuePhotoRow.id)
    ):
        thumbs.setdefault(issue_id, thumb)
    findings = []
    for row in rows:
        path = blobs.path(thumbs[row.id]) if thumbs.get(row.id) else None
        location = " · ".join(
            part
            for part in (row.location_text, row.storey, row.zone, ", ".join(elements[row.id][:3]))
            if part
        )
        findings.append(
            NoticeFinding(
                number=row.number,
                title=row.title,
                location=location,
                description=row.description or "",
                severity=Severity(row.severity),
                kind=IssueKind(row.kind),
                status=Status(row.status),
                required_measures=row.required_measures,
                due_date=row.due_date,
                photo_jpeg=path.read_bytes() if path is not None else None,
                reopened_count=row.reopened_count,
            )
        )
    issuer_user, issuer_org = issuer if issuer else (None, "")
    return NoticeDocument(
        number=notice.number,
        project_name=project.name if project else "",
        project_code=project.code if project else "",
        issued_by=(issuer_user.display_name or issuer_user.username) if issuer_user else "",
        issued_by_org=issuer_org,
        issued_to_company=notice.issued_to_company,
        issued_to_uscc=notice.issued_to_uscc,
        contact_person=notice.contact_person or "",
        issued_on=notice.issued_on,
        deadline=notice.deadline,
        handling=NoticeHandling(notice.handling),
        required_measures=notice.required_measures or "",
        cc=tuple(json.loads(notice.cc_json)),
        status=record.status,
        findings=tuple(findings),
    )
