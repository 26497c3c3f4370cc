"""What the issue services hand to the API: plain dataclasses, never ORM rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .access import Role
from .issues import Action, IssueKind, NoticeHandling, Severity, Status

__all__ = [
    "AuditReport",
    "BcfImportReport",
    "ChainFinding",
    "CommentRecord",
    "ElementSeverities",
    "EventRecord",
    "IssueDetail",
    "IssuePage",
    "IssueSummary",
    "NoticeRecord",
    "PhotoRecord",
    "ProjectUser",
]


@dataclass(frozen=True, slots=True)
class CommentRecord:
    id: int
    guid: str
    author: str
    text: str
    viewpoint_guid: str | None
    created_at: dt.datetime
    modified_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class PhotoRecord:
    id: int
    role: str
    sha256: str
    thumbnail_sha256: str | None
    content_type: str
    file_name: str
    size_bytes: int
    exif_time: str | None
    round: int
    uploaded_by: str | None
    uploaded_at: dt.datetime


@dataclass(frozen=True, slots=True)
class EventRecord:
    sequence: int
    type: str
    value: Any
    author: str
    at: dt.datetime
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class IssueSummary:
    id: int
    number: int
    guid: str
    kind: IssueKind
    title: str
    category: str | None
    severity: Severity
    priority: str | None
    status: Status
    overdue: bool
    due_date: dt.date | None
    assignee_id: int | None
    assignee: str | None
    responsible_company: str | None
    verifier_id: int | None
    creator: str
    global_ids: list[str]
    point_m: list[float] | None
    fourd_date: dt.date | None
    storey: str | None
    reopened_count: int
    notice_id: int | None
    created_at: dt.datetime
    modified_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class IssueDetail(IssueSummary):
    description: str | None
    labels: list[str]
    verifier: str | None
    responsible_uscc: str | None
    distribution: list[str]
    required_measures: str | None
    treatment_plan: str | None
    signed_off_by: str | None
    signed_off_at: dt.datetime | None
    void_reason: str | None
    revision_id: int | None
    # BCF-shaped viewpoints (camera in the IFC world frame, components by GlobalId), first
    # the one the issue was raised in; each with its ``guid`` and ``snapshot_sha256``.
    viewpoints: list[dict[str, Any]]
    zone: str | None
    location_text: str | None
    schedule_id: int | None
    task_key: str | None
    topic_type: str | None
    stage: str | None
    closed_at: dt.datetime | None
    allowed_actions: list[Action]
    comments: list[CommentRecord]
    photos: list[PhotoRecord]


@dataclass(frozen=True, slots=True)
class IssuePage:
    items: list[IssueSummary]
    total: int


@dataclass(frozen=True, slots=True)
class ElementSeverities:
    """Elements with live issues (worst severity, how many), and the same per GLB row."""

    global_ids: list[str]
    severities: list[Severity]
    counts: list[int]
    glb_codes: bytes  # one byte per GLB element row: 0 none, 1 minor, 2 major, 3 critical


@dataclass(frozen=True, slots=True)
class ProjectUser:
    id: int
    username: str
    display_name: str | None
    role: Role
    node_code: str


@dataclass(frozen=True, slots=True)
class ChainFinding:
    issue_id: int
    number: int
    sequence: int
    reason: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    project_id: int
    issues_checked: int
    events_checked: int
    problems: list[ChainFinding]
    anchor_root: str = ""  # sha256 over every issue's (event count, head hash): note it outside

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    id: int
    number: str
    project_id: int
    issued_by: str | None
    issued_to_company: str
    issued_to_uscc: str | None
    contact_person: str | None
    issued_on: dt.date
    deadline: dt.date
    handling: NoticeHandling
    required_measures: str | None
    cc: list[str]
    status: str
    acknowledged_at: dt.datetime | None
    issue_ids: list[int]
    reopened_findings: int
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class BcfImportReport:
    """What a BCF import did; re-importing the same file reports zeros but ``topics``."""

    version: str
    topics: int
    created: int
    updated: int
    comments_added: int
    viewpoints_added: int
    status_changes: int
    status_kept: list[str]  # "#12: file says Closed" for quality/safety issues (the loop decides)
    unknown_statuses: list[str]
