"""Request and response bodies of issues, their events and photos, and rectification notices."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from ..domain.access import Role
from ..domain.issues import Action, IssueKind, NoticeHandling, Severity, Status
from .common import GlobalIdText, Input, Name, PlanDate, Public, UtcDatetime


def _one_line(value: str) -> str:
    # Titles, names and labels are one line of printable text: control characters would not
    # survive a BCF file (XML refuses most of them) or a printed notice.
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("must be one line of text, without control characters")
    return value


def _not_reserved(label: str) -> str:
    if label.lower().startswith("erji:"):
        raise ValueError("labels starting with 'erji:' are reserved for Erji Twin's own BCF fields")
    return label


#: A database id in a request body (32-bit in the schema, as in paths and queries).
BodyId = Annotated[int, Field(ge=1, le=2_147_483_647)]
Text200 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_one_line)
]
Text100 = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(_one_line)
]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_one_line),
    AfterValidator(_not_reserved),
]
Uscc = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")]  # GB 32100-2015 alphabet
Priority = Literal["high", "medium", "low"]


Coordinate = Annotated[float, Field(ge=-1e9, le=1e9)]  # metres: ±1,000,000 km covers any CRS
Vector3 = tuple[Coordinate, Coordinate, Coordinate]


class Camera(Input):
    """A BCF camera in the IFC project's world frame (Z up, metres): what the viewer
    reports, and what a BCF viewpoint holds."""

    kind: Literal["perspective", "orthogonal"] = "perspective"
    position_m: Vector3
    direction: Vector3
    up: Vector3 = (0.0, 0.0, 1.0)
    field_of_view_deg: float | None = Field(default=None, gt=0, lt=180)
    view_to_world_scale: float | None = Field(default=None, gt=0, le=1e7)
    aspect_ratio: float | None = Field(default=None, gt=0, le=100)


class Viewpoint(Input):
    """What the viewer showed: camera, selection, visibility and the colour mode."""

    camera: Camera | None = None
    selected_global_ids: list[GlobalIdText] = Field(default_factory=list, max_length=10_000)
    default_visibility: bool = True
    visibility_exceptions: list[GlobalIdText] = Field(default_factory=list, max_length=100_000)
    color_mode: str | None = Field(default=None, max_length=40)


class IssueCreate(Input):
    kind: IssueKind
    title: Text200
    description: LongText | None = None
    category: Label | None = Field(default=None, description="trade / 专业 / 隐患类别")
    severity: Severity = Severity.MINOR
    priority: Priority | None = None
    labels: list[Label] = Field(default_factory=list, max_length=50)
    due_date: PlanDate | None = None
    assignee_id: BodyId | None = Field(default=None, description="the user the ball goes to")
    responsible_company: Text200 | None = None
    responsible_uscc: Uscc | None = None
    verifier_id: BodyId | None = Field(default=None, description="default: the creator")
    distribution: list[Text200] = Field(default_factory=list, max_length=100)
    required_measures: LongText | None = None
    treatment_plan: LongText | None = Field(default=None, description="重大隐患 治理方案")
    global_ids: list[GlobalIdText] = Field(default_factory=list, max_length=10_000)
    point_m: Vector3 | None = Field(
        default=None, description="the picked point on the element: IFC project world frame (Z up), metres"
    )
    revision_id: BodyId | None = None
    viewpoint: Viewpoint | None = None
    fourd_date: PlanDate | None = Field(default=None, description="the date the 4D viewer was at")
    storey: Text200 | None = None
    zone: Text200 | None = None
    location_text: Annotated[str, StringConstraints(max_length=400)] | None = Field(
        default=None, description="部位"
    )
    schedule_id: BodyId | None = None
    task_key: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    submit: bool = Field(default=True, description="open it at once (DRAFT → OPEN)")


class IssueUpdate(Input):
    """Fields the creator or verifier may change while the issue is in the loop."""

    title: Text200 | None = None
    description: LongText | None = None
    category: Label | None = None
    severity: Severity | None = None
    priority: Priority | None = None
    labels: list[Label] | None = Field(default=None, max_length=50)
    due_date: PlanDate | None = None
    clear_due_date: bool = False
    assignee_id: BodyId | None = None
    responsible_company: Text200 | None = None
    responsible_uscc: Uscc | None = None
    verifier_id: BodyId | None = None
    distribution: list[Text200] | None = Field(default=None, max_length=100)
    required_measures: LongText | None = None
    treatment_plan: LongText | None = None


class IssueActionIn(Input):
    action: Action
    reason: Annotated[str, StringConstraints(max_length=4000)] | None = None
    comment: Annotated[str, StringConstraints(max_length=20_000)] | None = Field(
        default=None, description="the reply's 整改说明 or the re-inspection's 复查结论, kept as a comment"
    )


class CommentCreate(Input):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class CommentPublic(Public):
    id: int
    guid: str
    author: str
    text: str
    viewpoint_guid: str | None
    created_at: UtcDatetime
    modified_at: UtcDatetime | None


class PhotoPublic(Public):
    id: int
    role: str
    sha256: str
    thumbnail_sha256: str | None
    content_type: str
    file_name: str
    size_bytes: int
    exif_time: str | None = Field(
        description="EXIF DateTimeOriginal as recorded (ISO; with an offset only when the photo has one)"
    )
    round: int
    uploaded_by: str | None
    uploaded_at: UtcDatetime


class EventPublic(Public):
    sequence: int
    type: str
    value: Any
    author: str
    at: UtcDatetime
    prev_hash: str
    hash: str


class IssueSummaryPublic(Public):
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
    created_at: UtcDatetime
    modified_at: UtcDatetime | None


class IssuePublic(IssueSummaryPublic):
    description: str | None
    labels: list[str]
    verifier: str | None
    responsible_uscc: str | None
    distribution: list[str]
    required_measures: str | None
    treatment_plan: str | None
    signed_off_by: str | None
    signed_off_at: UtcDatetime | None
    void_reason: str | None
    revision_id: int | None
    viewpoints: list[dict[str, Any]] = Field(
        description="BCF-shaped viewpoints (camera in the IFC world frame, components by IfcGuid), "
        "the one the issue was raised in first"
    )
    zone: str | None
    location_text: str | None
    schedule_id: int | None
    task_key: str | None
    topic_type: str | None
    stage: str | None
    closed_at: UtcDatetime | None
    allowed_actions: list[Action] = Field(description="what the caller may do next")
    comments: list[CommentPublic]
    photos: list[PhotoPublic]


class IssuePagePublic(Public):
    items: list[IssueSummaryPublic]
    total: int


class ProjectUserPublic(Public):
    id: int
    username: str
    display_name: str | None
    role: Role
    node_code: str


class ElementSeverityPublic(Public):
    """Worst live severity per element with live issues (the "defects" colour mode)."""

    global_ids: list[str]
    severities: list[Severity]
    counts: list[int] = Field(description="live issues on the element")


class ChainProblemPublic(Public):
    issue_id: int
    number: int
    sequence: int
    reason: str


class AuditReportPublic(Public):
    project_id: int
    issues_checked: int
    events_checked: int
    intact: bool
    problems: list[ChainProblemPublic]
    anchor_root: str = Field(
        description="sha256 over every issue's event count and head hash: kept outside the database "
        "(see `twin audit anchor`), it shows later whether whole issues or chain ends were removed"
    )


class NoticeCreate(Input):
    issue_ids: list[BodyId] = Field(min_length=1, max_length=500)
    issued_to_company: Name = Field(max_length=200)
    issued_to_uscc: Uscc | None = None
    contact_person: Text100 | None = None
    deadline: PlanDate
    handling: NoticeHandling = NoticeHandling.RECTIFY
    required_measures: LongText | None = None
    cc: list[Text200] = Field(default_factory=list, max_length=50)


class NoticePublic(Public):
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
    acknowledged_at: UtcDatetime | None
    issue_ids: list[int]
    reopened_findings: int
    created_at: UtcDatetime


class BcfImportPublic(Public):
    version: str = Field(description="BCF version the file said (1.0 for files without bcf.version)")
    topics: int
    created: int
    updated: int
    comments_added: int
    viewpoints_added: int
    status_changes: int
    status_kept: list[str] = Field(
        description="quality/safety issues whose status the file would change: the 整改 → 复查 loop decides"
    )
    unknown_statuses: list[str]
