"""BCF exchange: issues in and out as BCF files (1.0–3.0 in, 2.1 or 3.0 out).

Import is keyed by topic guid within the project. A topic seen for the first time becomes
an issue (a coordination topic unless our own labels say otherwise); a topic seen before
only adds what is new — comments, viewpoints, field changes and status changes — each as
an event in the issue's chain, so importing the same file twice changes nothing.

Our own fields travel in BCF's extension point for free text, ``Labels``, prefixed
``erji:`` (``erji:kind=safety``, ``erji:severity=major``, ``erji:status=ready_for_review``,
``erji:4d=2025-03-20``); BCF's ``TopicStatus`` carries the coarse status every tool
understands (Open / Closed, domain.md §3.7). On import, an ``erji:status`` label counts
only while it agrees with the file's ``TopicStatus``: if another tool closed or reopened
the topic since we exported it, its TopicStatus is the newer word.

What a file may change in an issue we already hold:

- a **coordination** topic still in the loop takes the file's field changes (title,
  description, priority, due date, assignee, stage, type, labels) when the file says it was
  modified after our last change (its ModifiedDate is newer): an old file re-imported never
  undoes later work; it takes the file's status change (Open ↔ Closed) unless the file is
  older than our last change;
- a **quality defect or safety hazard** closes only through the 整改 → 复查 loop (a
  verifier's re-inspection), never because a file says so, and its fields are the
  inspectors' to edit: a file only adds comments and viewpoints; a status it disagrees on
  is recorded once as an ``external_status_reported`` event and listed (``status_kept``);
- a closed or void issue only gains comments and viewpoints.

A topic seen for the first time keeps the status its file gives (an exchange must not lose
where an issue stands); its ``created`` event records that it came from a file.

Untrusted values are made safe before they reach a column: guids that are not UUIDs (or
too long for one) become a UUID derived from them (the same file always gives the same),
dates outside 1900–2199 are dropped (PostgreSQL cannot hold year 1 in every zone, and no
real topic needs it), times are kept in UTC, text is cut to its column.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import tempfile
import types
import typing
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from ifc_processing.bcf import (
    BcfBimSnippet,
    BcfComment,
    BcfDocument,
    BcfDocumentReference,
    BcfError,
    BcfExtensions,
    BcfFile,
    BcfHeaderFile,
    BcfTopic,
    BcfViewpoint,
    read_bcf,
    write_bcf,
)

from ..db.orm import IssueCommentRow, IssueElementRow, IssueRow, IssueViewpointRow, OrgNodeRow, UserRow
from ..domain.errors import InvalidInput, TooLarge
from ..domain.issue_records import BcfImportReport
from ..domain.issues import (
    DEFAULT_TOPIC_TYPE,
    GENESIS_HASH,
    TERMINAL,
    IssueKind,
    Severity,
    Status,
    bcf_status,
)
from ..domain.model import Principal
from ..storage import LocalBlobStore
from .issues import (
    actor_name,
    append_event,
    element_ids,
    lock_project,
    next_number,
    project_users,
    retrying,
)

__all__ = ["MAX_BCF_BYTES", "export_bcf", "import_bcf", "import_bcf_upload"]

#: Largest BCF upload: a file of 1,000 topics with a 300 kB snapshot each is ~300 MB.
MAX_BCF_BYTES = 512 * 1024 * 1024
LABEL_PREFIX = "erji:"
# TopicStatus words of common tools (Solibri, BIMcollab, Revizto, ACC, the BCF test cases),
# lower case, by what they mean for the loop. Anything else is reported as unknown.
_OPEN_WORDS = frozenset(
    {
        "open",
        "active",
        "reopened",
        "re-opened",
        "new",
        "assigned",
        "in progress",
        "inprogress",
        "pending",
        "unresolved",
    }
)
_CLOSED_WORDS = frozenset({"closed", "resolved", "done", "fixed", "complete", "completed", "inactive"})
_GLOBAL_ID = re.compile(r"^[0-9A-Za-z_$]{22}$")
_MAX_ELEMENTS = 10_000  # pinned elements per issue, as in the API


def _coarse(topic_status: str | None) -> str | None:
    """``"Open"``, ``"Closed"`` or ``None`` (no status, or a word we do not know)."""
    word = (topic_status or "").strip().lower()
    if word in _OPEN_WORDS:
        return "Open"
    if word in _CLOSED_WORDS:
        return "Closed"
    return None


def _ours(labels: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The user's labels, and our ``erji:key=value`` labels as a dict."""
    plain, extension = [], {}
    for label in labels:
        if label.startswith(LABEL_PREFIX):
            key, _, value = label[len(LABEL_PREFIX) :].partition("=")
            extension[key] = value
        else:
            plain.append(label)
    return plain, extension


def _guid(value: str) -> str:
    """A topic, comment or viewpoint guid as we store it: a lower-case UUID. Tools differ in
    case and some wrap them in braces; anything that is not a UUID becomes one derived from
    it, so that it fits the column and the same file always maps to the same issue."""
    text = value.strip().strip("{}").lower()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"erji-twin:bcf-guid:{text}"))


_EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """``value`` in UTC (a time without zone is UTC, as BCF says); ``None`` outside
    1900–2199."""
    if value is None or not 1900 <= value.year < 2200:  # before converting: year 1 at +05:00 overflows
        return None
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value if _EARLIEST <= value < _LATEST else None


def _cut(text: str | None, length: int) -> str | None:
    return text[:length] if text else None


# --------------------------------------------------------------------------- records <-> JSON
# BCF records become JSON columns (a viewpoint's components and camera, a topic's snippet,
# header files and documents) so that every part a file carries is kept for the next export.
# Bytes inside them (bitmaps, snippets, documents) go to the blob store and the JSON keeps
# ``{"$blob": sha256}``; datetimes become ``{"$datetime": iso}``. Written by hand because the
# records are ours and small: a general serialisation library would add a dependency for
# these forty lines.


def to_plain(value: Any, blobs: LocalBlobStore) -> Any:
    """``value`` (a record, or anything inside one) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name), blobs) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        with blobs.writer() as (out, done):
            out.write(value)
        return {"$blob": done.sha256}
    if isinstance(value, dt.datetime):
        return {"$datetime": _utc(value).isoformat()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, blobs) for v in value]
    return value


def from_plain(kind: Any, data: Any, blobs: LocalBlobStore) -> Any:
    """The inverse of ``to_plain`` for a value of type ``kind`` (a record class or a type hint)."""
    if data is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        inner = [k for k in typing.get_args(kind) if k is not type(None)]
        return from_plain(inner[0], data, blobs)
    if origin is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(args[0], item, blobs) for item in data)
        return tuple(from_plain(k, item, blobs) for k, item in zip(args, data, strict=True))
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(
            **{
                f.name: from_plain(hints[f.name], data[f.name], blobs)
                for f in dataclasses.fields(kind)
                if f.name in data
            }
        )
    if kind is bytes:
        path = blobs.path(data["$blob"])
        return path.read_bytes() if path is not None else None
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(data["$datetime"])
    if kind is float:
        return float(data)
    return data


# --------------------------------------------------------------------------- import


def import_bcf_upload(
    session: Session,
    *,
    project_id: int,
    project_path: str,
    actor: Principal,
    handle: BinaryIO,
    file_name: str,
    blobs: LocalBlobStore,
    work_dir: Path,
    now: dt.datetime,
) -> BcfImportReport:
    """Read an uploaded BCF file (``handle``) safely and import it; a file that is not a
    BCF file, or an unsafe archive (zip slip, zip bomb, XML entities), is ``InvalidInput``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=work_dir, suffix=".bcf") as spooled:
        handle.seek(0)
        copied = 0
        while chunk := handle.read(1024 * 1024):
            copied += len(chunk)
            if copied > MAX_BCF_BYTES:
                raise TooLarge(
                    f"{file_name}: larger than the {MAX_BCF_BYTES // 2**20} MB a BCF file may have"
                )
            spooled.write(chunk)
        spooled.flush()
        try:
            bcf = read_bcf(Path(spooled.name), name=file_name)
        except BcfError as exc:
            raise InvalidInput(str(exc), code="invalid_bcf") from None
    return import_bcf(
        session,
        project_id=project_id,
        project_path=project_path,
        actor=actor,
        bcf=bcf,
        file_name=file_name,
        blobs=blobs,
        now=now,
    )


def import_bcf(
    session: Session,
    *,
    project_id: int,
    project_path: str,
    actor: Principal,
    bcf: BcfFile,
    file_name: str,
    blobs: LocalBlobStore,
    now: dt.datetime,
) -> BcfImportReport:
    """Import every topic of ``bcf`` into the project in one transaction (all or nothing)."""
    snapshots = _store_snapshots(bcf, blobs)
    documents = {_guid(d.guid): d for d in bcf.documents}
    users = {u.username.lower(): u for u in project_users(session, project_path=project_path)}

    def attempt() -> BcfImportReport:
        lock_project(session, project_id)
        counts = {"created": 0, "updated": 0, "comments": 0, "viewpoints": 0, "status": 0}
        kept: list[str] = []
        unknown: set[str] = set()
        seen: set[str] = set()
        for topic in bcf.topics:
            guid = _guid(topic.guid)
            if guid in seen:
                continue  # the same topic twice in one file: the first wins
            seen.add(guid)
            row = session.scalar(
                select(IssueRow).where(IssueRow.project_id == project_id, IssueRow.guid == guid)
            )
            importer = _Importer(
                session,
                row,
                topic,
                actor=actor,
                users=users,
                snapshots=snapshots,
                blobs=blobs,
                documents=documents,
                now=now,
            )
            if row is None:
                importer.create(project_id=project_id, file_name=file_name, version=bcf.version)
                counts["created"] += 1
            elif importer.update():
                counts["updated"] += 1
            counts["comments"] += importer.comments_added
            counts["viewpoints"] += importer.viewpoints_added
            counts["status"] += importer.status_changed
            kept += importer.status_kept
            if importer.unknown_status:
                unknown.add(importer.unknown_status)
        session.commit()
        return BcfImportReport(
            version=bcf.version,
            topics=len(seen),
            created=counts["created"],
            updated=counts["updated"],
            comments_added=counts["comments"],
            viewpoints_added=counts["viewpoints"],
            status_changes=counts["status"],
            status_kept=kept,
            unknown_statuses=sorted(unknown),
        )

    return retrying(session, attempt, what="the project's issues")


def _store_snapshots(bcf: BcfFile, blobs: LocalBlobStore) -> dict[int, str]:
    """Snapshot bytes → blob sha256, keyed by ``id()`` of the viewpoint record."""
    stored = {}
    for topic in bcf.topics:
        for viewpoint in topic.viewpoints:
            if viewpoint.snapshot:
                with blobs.writer() as (out, done):
                    out.write(viewpoint.snapshot)
                stored[id(viewpoint)] = done.sha256
    return stored


def viewpoint_data(viewpoint: BcfViewpoint, blobs: LocalBlobStore) -> dict[str, Any]:
    """The stored JSON of a viewpoint: everything but its guid and snapshot (columns of
    their own), plus our ``color_mode`` (``None`` for a viewpoint from a file)."""
    data = to_plain(viewpoint, blobs)
    for key in ("guid", "snapshot", "snapshot_type"):
        data.pop(key)
    data["color_mode"] = None
    return data


class _Importer:
    """One topic into one issue (new or existing)."""

    def __init__(
        self, session, row, topic: BcfTopic, *, actor, users, snapshots, blobs, documents, now
    ) -> None:
        self.session = session
        self.blobs = blobs
        self.documents = documents
        self.row: IssueRow | None = row
        self.topic = topic
        self.actor = actor
        self.users = users
        self.snapshots = snapshots
        self.now = now
        self.labels, self.extension = _ours(topic.labels)
        # The same comment or viewpoint twice in one topic (guids differing only in case or
        # braces): the first wins, so that a re-import finds nothing new.
        self.comments = list({_guid(c.guid): c for c in reversed(topic.comments)}.values())[::-1]
        self.viewpoints = list({_guid(v.guid): v for v in reversed(topic.viewpoints)}.values())[::-1]
        self.comments_added = 0
        self.viewpoints_added = 0
        self.status_changed = 0
        self.status_kept: list[str] = []
        self.unknown_status: str | None = None

    def event(self, type_: str, value: Any) -> None:
        append_event(
            self.session,
            self.row,
            type_,
            value,
            author=actor_name(self.actor),
            author_id=self.actor.user_id,
            at=self.now,
        )

    # -- fields --------------------------------------------------------------------------
    def _kind(self) -> IssueKind:
        try:
            return IssueKind(self.extension.get("kind", ""))
        except ValueError:
            return IssueKind.COORDINATION

    def _severity(self, kind: IssueKind) -> Severity:
        try:
            severity = Severity(self.extension.get("severity", ""))
        except ValueError:
            return Severity.MINOR
        return Severity.MAJOR if kind is IssueKind.SAFETY and severity is Severity.CRITICAL else severity

    def _status(self) -> Status:
        coarse = _coarse(self.topic.topic_status)
        if self.topic.topic_status and coarse is None:
            self.unknown_status = self.topic.topic_status
        try:
            native = Status(self.extension.get("status", ""))
        except ValueError:
            native = None
        if native is not None and (coarse is None or bcf_status(native) == coarse):
            return native
        return Status.CLOSED if coarse == "Closed" else Status.OPEN

    def _fourd_date(self) -> dt.date | None:
        try:
            day = dt.date.fromisoformat(self.extension.get("4d", ""))
        except ValueError:
            return None
        return day if 1900 <= day.year < 2200 else None

    def _point(self) -> str | None:
        """``erji:point=x,y,z`` (IFC world frame, m) as the stored JSON, or None."""
        try:
            x, y, z = (float(v) for v in self.extension.get("point", "").split(","))
        except ValueError:
            return None
        if not all(math.isfinite(v) and abs(v) <= 1e9 for v in (x, y, z)):
            return None
        return json.dumps([x, y, z])

    def _assignee(self) -> tuple[int | None, str | None, str | None]:
        """``(user id, name without a user, what the event records)``: the file's AssignedTo
        matched to an active user of the project by user name (any case), else kept as text."""
        text = (self.topic.assigned_to or "").strip()
        if not text:
            return None, None, None
        user = self.users.get(text.lower())
        row = self.row
        verifier = (row.verifier_id or row.creator_id) if row is not None else self.actor.user_id
        # The verifier never rectifies their own issue: named as assignee, they stay a name.
        if user is not None and user.id != verifier:
            return user.id, None, user.username
        return None, text[:200], text[:200]

    def _fields(self) -> dict[str, Any]:
        """The issue columns this topic decides (compared on re-import)."""
        topic = self.topic
        assignee_id, assignee_name, _ = self._assignee()
        due = _utc(topic.due_date)
        return {
            "title": (topic.title or "").strip()[:300] or "(untitled)",
            "description": topic.description,
            "priority": _cut(topic.priority, 32),
            "due_date": topic.due_date.date() if due else None,
            "assignee_id": assignee_id,
            "assignee_name": assignee_name,
            "stage": _cut(topic.stage, 100),
            # A topic without a type gets the one we would write for it, so it exports unchanged.
            "topic_type": (topic.topic_type or DEFAULT_TOPIC_TYPE[self._kind()])[:100],
            "labels_json": json.dumps(sorted({label[:100] for label in self.labels}), ensure_ascii=False),
            "fourd_date": self._fourd_date(),
        }

    def _extra(self) -> dict[str, Any]:
        """What the topic carries beyond our columns, kept for the next export."""
        topic = self.topic
        referenced = [
            self.documents[_guid(r.document_guid)]
            for r in topic.document_references
            if r.document_guid and _guid(r.document_guid) in self.documents
        ]
        return {
            "server_assigned_id": topic.server_assigned_id,
            "index": topic.index,
            "reference_links": list(topic.reference_links),
            "related_topics": list(topic.related_topics),
            "document_references": to_plain(topic.document_references, self.blobs),
            "documents": to_plain(referenced, self.blobs),
            "bim_snippet": to_plain(topic.bim_snippet, self.blobs),
            "header_files": to_plain(topic.header_files, self.blobs),
        }

    def _global_ids(self, viewpoints: Sequence[BcfViewpoint]) -> list[str]:
        found = []
        for viewpoint in viewpoints:
            for component in viewpoint.selection:
                if component.ifc_guid and _GLOBAL_ID.match(component.ifc_guid):
                    found.append(component.ifc_guid)
        return list(dict.fromkeys(found))[:_MAX_ELEMENTS]

    # -- create ---------------------------------------------------------------------------
    def create(self, *, project_id: int, file_name: str, version: str) -> None:
        topic = self.topic
        kind = self._kind()
        status = self._status()
        fields = self._fields()
        self.row = row = IssueRow(
            project_id=project_id,
            number=next_number(self.session, project_id),
            guid=_guid(topic.guid),
            kind=kind.value,
            severity=self._severity(kind).value,
            status=status.value,
            reopened_count=0,
            creator_id=None,
            creator_name=(topic.creation_author or "BCF")[:200],
            verifier_id=self.actor.user_id,
            distribution_json="[]",
            point_json=self._point(),
            bcf_extra_json=json.dumps(self._extra(), ensure_ascii=False, sort_keys=True),
            created_at=_utc(topic.creation_date) or self.now,
            closed_at=self.now if status in TERMINAL else None,
            event_count=0,
            head_hash=GENESIS_HASH,
            **fields,
        )
        self.session.add(row)
        self.session.flush()
        global_ids = self._global_ids(self.viewpoints)
        self.session.add_all(
            IssueElementRow(issue_id=row.id, global_id=g, position=i) for i, g in enumerate(global_ids)
        )
        self.event(
            "created",
            {
                "source": "bcf",
                "file": file_name,
                "bcf_version": version,
                "number": row.number,
                "kind": row.kind,
                "title": row.title,
                "description": row.description,
                "severity": row.severity,
                "status": row.status,
                "labels": json.loads(row.labels_json),
                "topic_status": topic.topic_status,
                "creation_author": topic.creation_author,
                "global_ids": global_ids,
                "point_m": json.loads(row.point_json) if row.point_json else None,
            },
        )
        assignee = self._assignee()[2]
        if assignee:
            self.event("assigned_to_updated", assignee)
        if fields["due_date"]:
            self.event("due_date_updated", fields["due_date"].isoformat())
        self._add_viewpoints(existing=set(), start=0)
        self._add_comments(existing={})

    # -- update ---------------------------------------------------------------------------
    def update(self) -> bool:
        """Add what is new in the topic; True if anything changed."""
        row = self.row
        before = row.event_count
        newer = self._newer()
        live = Status(row.status) not in TERMINAL
        if row.kind == IssueKind.COORDINATION.value and live and newer:
            self._update_fields()
        self._update_status(newer=newer or self.topic.modified_date is None)
        viewpoints = self.session.execute(
            select(IssueViewpointRow.guid, IssueViewpointRow.position).where(
                IssueViewpointRow.issue_id == row.id
            )
        ).all()
        added = self._add_viewpoints(existing={g for g, _ in viewpoints}, start=len(viewpoints))
        if added:
            known = set(element_ids(self.session, [row.id])[row.id])
            new = [g for g in self._global_ids(added) if g not in known]
            self.session.add_all(
                IssueElementRow(issue_id=row.id, global_id=g, position=len(known) + i)
                for i, g in enumerate(new)
            )
            if new:
                self.event("elements_added", new)
        comments = {
            c.guid: c
            for c in self.session.scalars(select(IssueCommentRow).where(IssueCommentRow.issue_id == row.id))
        }
        self._add_comments(existing=comments)
        return row.event_count != before

    def _newer(self) -> bool:
        """The file says the topic changed after our last change to the issue."""
        modified = _utc(self.topic.modified_date)
        ours = _utc(self.row.modified_at)
        return modified is not None and (ours is None or modified > ours)

    def _update_fields(self) -> None:
        row = self.row
        fields = self._fields()
        current_assignee = (
            self.session.scalar(select(UserRow.username).where(UserRow.id == row.assignee_id))
            if row.assignee_id
            else row.assignee_name
        )
        # The same name as now means no change, even if that user can no longer be matched
        # (deactivated): a file must not unassign an issue by re-stating its assignee.
        text = (self.topic.assigned_to or "").strip()
        changed = (fields["assignee_id"], fields["assignee_name"]) != (row.assignee_id, row.assignee_name)
        if text.lower() != (current_assignee or "").lower() and changed:
            row.assignee_id, row.assignee_name = fields["assignee_id"], fields["assignee_name"]
            self.event("assigned_to_updated", self._assignee()[2])
        for name, value in fields.items():
            if name in ("assignee_id", "assignee_name"):
                continue
            current = getattr(row, name)
            if name == "description" and (value or "").strip() == (current or "").strip():
                continue
            if value == current:
                continue
            if name == "labels_json":
                old, new = set(json.loads(current)), set(json.loads(value))
                for label in sorted(new - old):
                    self.event("label_added", label)
                for label in sorted(old - new):
                    self.event("label_removed", label)
            else:
                shown = value.isoformat() if isinstance(value, dt.date) else value
                self.event(f"{name}_updated", shown)
            setattr(row, name, value)

    def _update_status(self, *, newer: bool) -> None:
        row = self.row
        coarse = _coarse(self.topic.topic_status)
        if self.topic.topic_status and coarse is None:
            self.unknown_status = self.topic.topic_status
        current = Status(row.status)
        if coarse is None or coarse == bcf_status(current):
            return
        if row.kind != IssueKind.COORDINATION.value:
            extra = json.loads(row.bcf_extra_json or "{}")
            if extra.get("reported_status") != self.topic.topic_status:
                extra["reported_status"] = self.topic.topic_status
                row.bcf_extra_json = json.dumps(extra, ensure_ascii=False, sort_keys=True)
                self.event("external_status_reported", {"topic_status": self.topic.topic_status})
            self.status_kept.append(
                f"#{row.number}: the file says {self.topic.topic_status}, the issue is {row.status}"
            )
            return
        if not newer:
            return  # an older file: its status is not news
        target = Status.CLOSED if coarse == "Closed" else Status.OPEN
        row.status = target.value
        if current in TERMINAL and target not in TERMINAL:
            row.reopened_count += 1
        row.closed_at = self.now if target in TERMINAL else None
        self.event(
            "status_updated",
            {
                "from": current.value,
                "to": target.value,
                "source": "bcf",
                "topic_status": self.topic.topic_status,
                "reopened_count": row.reopened_count,
            },
        )
        self.status_changed += 1

    # -- children -------------------------------------------------------------------------
    def _add_viewpoints(self, *, existing: set[str], start: int) -> list[BcfViewpoint]:
        added = []
        for viewpoint in self.viewpoints:
            guid = _guid(viewpoint.guid)
            if guid in existing:
                continue
            existing.add(guid)
            snapshot = self.snapshots.get(id(viewpoint))
            self.session.add(
                IssueViewpointRow(
                    issue_id=self.row.id,
                    guid=guid,
                    position=start + len(added),
                    data_json=json.dumps(
                        viewpoint_data(viewpoint, self.blobs), ensure_ascii=False, sort_keys=True
                    ),
                    snapshot_sha256=snapshot,
                    snapshot_type=_snapshot_type(viewpoint) if snapshot else None,
                )
            )
            self.event("viewpoint_added", {"guid": guid, "source": "bcf"})
            added.append(viewpoint)
        self.viewpoints_added += len(added)
        return added

    def _add_comments(self, *, existing: dict[str, IssueCommentRow]) -> None:
        fallback = _utc(self.topic.creation_date) or self.now
        for comment in sorted(self.comments, key=lambda c: (_utc(c.date) or fallback, _guid(c.guid))):
            guid = _guid(comment.guid)
            known = existing.get(guid)
            if known is not None:
                if known.text != comment.text:
                    known.text = comment.text
                    known.modified_at = _utc(comment.modified_date) or self.now
                    known.modified_by = _cut(comment.modified_author or comment.author, 200)
                    self.event("comment_updated", {"guid": guid, "text": comment.text, "source": "bcf"})
                continue
            row = IssueCommentRow(
                issue_id=self.row.id,
                guid=guid,
                author_id=None,
                author_name=(comment.author or "BCF")[:200],
                text=comment.text,
                viewpoint_guid=_guid(comment.viewpoint_guid) if comment.viewpoint_guid else None,
                created_at=_utc(comment.date) or fallback,
                modified_at=_utc(comment.modified_date),
                modified_by=_cut(comment.modified_author, 200),
            )
            self.session.add(row)
            existing[guid] = row
            self.event(
                "comment_added",
                {"guid": guid, "text": comment.text, "author": comment.author, "source": "bcf"},
            )
            self.comments_added += 1


def _snapshot_type(viewpoint: BcfViewpoint) -> str:
    """``png`` or ``jpg``: what the bytes are, whatever the file named them."""
    return "jpg" if (viewpoint.snapshot or b"")[:3] == b"\xff\xd8\xff" else "png"


# --------------------------------------------------------------------------- export


def export_bcf(
    session: Session,
    *,
    project_id: int,
    blobs: LocalBlobStore,
    version: str,
    statuses: Sequence[Status] = (),
    kinds: Sequence[IssueKind] = (),
    today: dt.date,
) -> tuple[bytes, str]:
    """The project's issues (optionally filtered) as a BCF file: ``(bytes, file name)``."""
    query = select(IssueRow).where(IssueRow.project_id == project_id)
    if statuses:
        query = query.where(IssueRow.status.in_([s.value for s in statuses]))
    if kinds:
        query = query.where(IssueRow.kind.in_([k.value for k in kinds]))
    rows = session.scalars(query.order_by(IssueRow.number)).all()
    ids = [r.id for r in rows]
    usernames = dict(session.execute(select(UserRow.id, UserRow.username)).all()) if rows else {}
    comments: dict[int, list[IssueCommentRow]] = {i: [] for i in ids}
    viewpoints: dict[int, list[IssueViewpointRow]] = {i: [] for i in ids}
    for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        chunk = ids[start : start + 900]
        for comment in session.scalars(
            select(IssueCommentRow)
            .where(IssueCommentRow.issue_id.in_(chunk))
            .order_by(IssueCommentRow.created_at, IssueCommentRow.id)
        ):
            comments[comment.issue_id].append(comment)
        for viewpoint in session.scalars(
            select(IssueViewpointRow)
            .where(IssueViewpointRow.issue_id.in_(chunk))
            .order_by(IssueViewpointRow.position)
        ):
            viewpoints[viewpoint.issue_id].append(viewpoint)
    topics = [_topic(row, comments[row.id], viewpoints[row.id], usernames, blobs) for row in rows]
    documents: dict[str, BcfDocument] = {}
    for row in rows:
        for document in from_plain(
            tuple[BcfDocument, ...], json.loads(row.bcf_extra_json or "{}").get("documents") or [], blobs
        ):
            documents.setdefault(document.guid, document)
    project = session.get(OrgNodeRow, project_id)
    bcf = BcfFile(
        documents=tuple(documents.values()),
        version=version,
        topics=tuple(topics),
        project_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"erji-twin:project:{project_id}")),
        project_name=project.name if project else None,
        extensions=BcfExtensions(
            topic_types=tuple(
                sorted({t.topic_type for t in topics if t.topic_type} | set(DEFAULT_TOPIC_TYPE.values()))
            ),
            topic_statuses=("Open", "Closed"),
            priorities=tuple(sorted({t.priority for t in topics if t.priority})),
            labels=tuple(sorted({label for t in topics for label in t.labels})),
            stages=tuple(sorted({t.stage for t in topics if t.stage})),
            users=tuple(sorted({t.assigned_to for t in topics if t.assigned_to})),
        ),
    )
    stem = (
        re.sub(r"[^0-9A-Za-z_.-]+", "-", project.code if project else str(project_id)).strip("-") or "project"
    )
    return write_bcf(bcf, version=version), f"{stem}-issues-{today.isoformat()}.bcf"


def _topic(
    row: IssueRow,
    comments: Sequence[IssueCommentRow],
    viewpoints: Sequence[IssueViewpointRow],
    usernames: dict[int, str],
    blobs: LocalBlobStore,
) -> BcfTopic:
    extra = json.loads(row.bcf_extra_json or "{}")
    labels = list(json.loads(row.labels_json))
    labels += [
        f"{LABEL_PREFIX}kind={row.kind}",
        f"{LABEL_PREFIX}severity={row.severity}",
        f"{LABEL_PREFIX}status={row.status}",
    ]
    if row.fourd_date:
        labels.append(f"{LABEL_PREFIX}4d={row.fourd_date.isoformat()}")
    if row.point_json:
        labels.append(f"{LABEL_PREFIX}point={','.join(repr(float(v)) for v in json.loads(row.point_json))}")
    assigned_to = usernames.get(row.assignee_id) if row.assignee_id else row.assignee_name
    return BcfTopic(
        guid=row.guid,
        title=row.title,
        topic_type=row.topic_type or DEFAULT_TOPIC_TYPE[IssueKind(row.kind)],
        topic_status=bcf_status(Status(row.status)),
        server_assigned_id=str(row.number),
        priority=row.priority,
        index=extra.get("index"),
        labels=tuple(labels),
        creation_date=_utc(row.created_at),
        creation_author=row.creator_name,
        modified_date=_utc(row.modified_at),
        modified_author=row.modified_by,
        due_date=dt.datetime.combine(row.due_date, dt.time(), tzinfo=dt.UTC) if row.due_date else None,
        assigned_to=assigned_to,
        stage=row.stage,
        description=row.description,
        reference_links=tuple(extra.get("reference_links") or ()),
        related_topics=tuple(extra.get("related_topics") or ()),
        document_references=from_plain(
            tuple[BcfDocumentReference, ...], extra.get("document_references") or [], blobs
        ),
        bim_snippet=from_plain(BcfBimSnippet | None, extra.get("bim_snippet"), blobs),
        header_files=from_plain(tuple[BcfHeaderFile, ...], extra.get("header_files") or [], blobs),
        comments=tuple(
            BcfComment(
                guid=c.guid,
                date=_utc(c.created_at),
                author=c.author_name,
                text=c.text,
                viewpoint_guid=c.viewpoint_guid,
                modified_date=_utc(c.modified_at),
                modified_author=c.modified_by,
            )
            for c in comments
        ),
        viewpoints=tuple(_viewpoint(v, blobs) for v in viewpoints),
    )


def _viewpoint(row: IssueViewpointRow, blobs: LocalBlobStore) -> BcfViewpoint:
    data = json.loads(row.data_json)
    data.pop("color_mode", None)
    snapshot = None
    if row.snapshot_sha256:
        path = blobs.path(row.snapshot_sha256)
        snapshot = path.read_bytes() if path is not None else None
    viewpoint = from_plain(BcfViewpoint, {**data, "guid": row.guid}, blobs)
    return dataclasses.replace(
        viewpoint, snapshot=snapshot, snapshot_type=row.snapshot_type if snapshot else None
    )
