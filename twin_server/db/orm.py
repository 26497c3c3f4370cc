"""Tables of the twin (SQLAlchemy 2 declarative mapping).

Works on SQLite (embedded default) and PostgreSQL alike: no dialect-specific types.
Element properties are rows of their own (``element_properties``) rather than a JSON
column, so filters by property value are plain indexed SQL on both databases.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OrgNodeRow(Base):
    """HQ, region or project. ``path`` is the chain of ids from the root: ``/1/4/17/``."""

    __tablename__ = "org_nodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), index=True, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProjectRow(Base):
    """Project details of an org node of kind ``project`` (WGS-84 site point)."""

    __tablename__ = "projects"

    node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id", ondelete="CASCADE"), primary_key=True)
    site_lon: Mapped[float | None] = mapped_column(Float)
    site_lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(400))
    project_type: Mapped[str | None] = mapped_column(String(64))
    contract_value_cny: Mapped[float | None] = mapped_column(Float)
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_finish: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), default="active")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to invalidate every token issued before (password change, deactivation).
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginFailureRow(Base):
    """One failed log-in, keyed by ``user:<name>`` and by ``ip:<address>`` (rate limit)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)


class ModelRow(Base):
    """A model of a project (e.g. "3# building, structure"), holding its revisions."""

    __tablename__ = "models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    discipline: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_models_project_name"),)


class RevisionRow(Base):
    """An uploaded IFC file of a model and its processing job.

    ``processing`` is the job's state; elements and geometry exist only once it is
    ``succeeded`` (written in the same transaction). ``heartbeat_at`` is the running
    job's lease: a stale heartbeat means its worker died.
    """

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="WIP")
    processing: Mapped[str] = mapped_column(String(16), default="queued")
    stage: Mapped[str | None] = mapped_column(String(32))
    progress_pct: Mapped[float] = mapped_column(Float, default=0.0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    file_name: Mapped[str] = mapped_column(String(400))
    file_bytes: Mapped[int] = mapped_column(BigInteger)
    file_sha256: Mapped[str] = mapped_column(String(64))
    glb_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    glb_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # Documents: loaded only when asked for (status checks run on every element request).
    summary_json: Mapped[str | None] = mapped_column(Text, deferred=True)
    spatial_json: Mapped[str | None] = mapped_column(Text, deferred=True)
    georef_json: Mapped[str | None] = mapped_column(Text, deferred=True)
    failures_json: Mapped[str | None] = mapped_column(Text, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("model_id", "label", name="uq_revisions_model_label"),
        UniqueConstraint("model_id", "file_sha256", name="uq_revisions_model_file"),
        # At most one published revision per model, whatever races between publishers.
        Index(
            "uq_revisions_one_published",
            "model_id",
            unique=True,
            sqlite_where=text("state = 'PUBLISHED'"),
            postgresql_where=text("state = 'PUBLISHED'"),
        ),
    )


class ElementRow(Base):
    """One element of a processed revision; ``record_json`` is its full record."""

    __tablename__ = "elements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"))
    global_id: Mapped[str] = mapped_column(String(22))
    ifc_class: Mapped[str] = mapped_column(String(64))
    predefined_type: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(400))
    type_name: Mapped[str | None] = mapped_column(String(400))
    storey_global_id: Mapped[str | None] = mapped_column(String(22))
    storey_name: Mapped[str | None] = mapped_column(String(200))
    glb_index: Mapped[int | None] = mapped_column(Integer)
    # Hash of the record without step ids and GLB rows, which change on every export:
    # equal hashes mean the element did not change between revisions.
    content_hash: Mapped[str] = mapped_column(String(32))
    record_json: Mapped[str] = mapped_column(Text, deferred=True)

    __table_args__ = (
        UniqueConstraint("revision_id", "global_id", name="uq_elements_revision_global_id"),
        Index("ix_elements_revision_class", "revision_id", "ifc_class"),
        Index("ix_elements_revision_storey", "revision_id", "storey_global_id"),
    )


class ElementPropertyRow(Base):
    """A scalar property value of an element, for filtering (``value_num`` if numeric)."""

    __tablename__ = "element_properties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("elements.id", ondelete="CASCADE"), index=True)
    pset: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    value_text: Mapped[str | None] = mapped_column(String(400))
    value_num: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_element_properties_text", "pset", "name", "value_text"),
        Index("ix_element_properties_num", "pset", "name", "value_num"),
    )


class ElementClassificationRow(Base):
    __tablename__ = "element_classifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    element_id: Mapped[int] = mapped_column(ForeignKey("elements.id", ondelete="CASCADE"), index=True)
    system: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(100), index=True)


# --------------------------------------------------------------------------- schedules (4D)


class ScheduleRow(Base):
    """A project's schedule (e.g. 总进度计划); its content lives in versions."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The version whose planned dates are the baseline: the one before the latest, unless
    # someone pinned one (``baseline_pinned``).
    baseline_version_id: Mapped[int | None] = mapped_column(Integer)
    baseline_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_schedules_project_name"),)


class ScheduleVersionRow(Base):
    """One import of a schedule file."""

    __tablename__ = "schedule_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    source_format: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(400))
    file_sha256: Mapped[str] = mapped_column(String(64))
    data_date: Mapped[dt.date | None] = mapped_column(Date)
    task_count: Mapped[int] = mapped_column(Integer)
    calendars_json: Mapped[str] = mapped_column(Text, default="[]")
    warnings_json: Mapped[str] = mapped_column(Text, default="[]")
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("schedule_id", "number", name="uq_schedule_versions_number"),)


class TaskRow(Base):
    """A task of one schedule version; ``key`` is its id in the source file, stable
    across versions, and what links, rules and progress refer to."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("schedule_versions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)  # file order; the task index of the 4D payload
    parent_key: Mapped[str | None] = mapped_column(String(100))
    wbs_code: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(400))
    is_milestone: Mapped[bool] = mapped_column(Boolean, default=False)
    is_summary: Mapped[bool] = mapped_column(Boolean, default=False)
    is_critical: Mapped[bool] = mapped_column(Boolean, default=False)
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_finish: Mapped[dt.date | None] = mapped_column(Date)
    baseline_start: Mapped[dt.date | None] = mapped_column(Date)
    baseline_finish: Mapped[dt.date | None] = mapped_column(Date)
    actual_start: Mapped[dt.date | None] = mapped_column(Date)
    actual_finish: Mapped[dt.date | None] = mapped_column(Date)
    duration_days: Mapped[float | None] = mapped_column(Float)
    percent_complete: Mapped[float | None] = mapped_column(Float)
    total_float_days: Mapped[float | None] = mapped_column(Float)
    calendar_key: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("version_id", "key", name="uq_tasks_version_key"),
        Index("ix_tasks_version_position", "version_id", "position"),
    )


class TaskLinkRow(Base):
    """A dependency between two tasks of a version (FS/SS/FF/SF with a lag in days)."""

    __tablename__ = "task_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("schedule_versions.id", ondelete="CASCADE"), index=True
    )
    predecessor_key: Mapped[str] = mapped_column(String(100))
    successor_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(2))
    lag_days: Mapped[float] = mapped_column(Float, default=0.0)


class ElementTaskRow(Base):
    """An element linked to a task by GlobalId: from IFC relations, a table, or by hand.

    Keyed by task key and GlobalId, so a link holds for every version of the schedule and
    every revision of the model that still has both.
    """

    __tablename__ = "element_task_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    task_key: Mapped[str] = mapped_column(String(100))
    global_id: Mapped[str] = mapped_column(String(22))
    source: Mapped[str] = mapped_column(String(16))  # ifc | table | manual
    role: Mapped[str] = mapped_column(String(8), default="OUTPUT")

    __table_args__ = (
        UniqueConstraint("schedule_id", "task_key", "global_id", name="uq_element_task_links"),
        Index("ix_element_task_links_schedule", "schedule_id", "global_id"),
    )


class LinkRuleRow(Base):
    """A rule linking a task to every element that matches a filter, in any revision."""

    __tablename__ = "link_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    task_key: Mapped[str] = mapped_column(String(100))
    filter_json: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TaskProgressRow(Base):
    """Progress reported on the twin for a task (overrides the file's actuals)."""

    __tablename__ = "task_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    task_key: Mapped[str] = mapped_column(String(100))
    actual_start: Mapped[dt.date | None] = mapped_column(Date)
    actual_finish: Mapped[dt.date | None] = mapped_column(Date)
    percent_complete: Mapped[float | None] = mapped_column(Float)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("schedule_id", "task_key", name="uq_task_progress"),)


class InstalledMarkRow(Base):
    """ "This element is installed": date, who, note, optional photo (a blob)."""

    __tablename__ = "installed_marks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"))
    global_id: Mapped[str] = mapped_column(String(22))
    installed_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    marked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("project_id", "global_id", name="uq_installed_marks"),)


# --------------------------------------------------------------------------- issues


class RectificationNoticeRow(Base):
    """整改通知单: findings bundled to one company with a deadline. Its state is derived
    from its issues (``domain.issues.notice_status``); only the acknowledgement is stored."""

    __tablename__ = "rectification_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)  # per project, 1, 2, …
    number: Mapped[str] = mapped_column(String(40))  # "ZG-2026-0007"
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_to_company: Mapped[str] = mapped_column(String(200))
    issued_to_uscc: Mapped[str | None] = mapped_column(String(18))  # 统一社会信用代码
    contact_person: Mapped[str | None] = mapped_column(String(100))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    handling: Mapped[str] = mapped_column(String(16))  # rectify / stop_work / fine
    required_measures: Mapped[str | None] = mapped_column(Text)
    cc_json: Mapped[str] = mapped_column(Text, default="[]")
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("project_id", "sequence", name="uq_notices_sequence"),
        UniqueConstraint("project_id", "number", name="uq_notices_number"),
    )


class IssueRow(Base):
    """A quality defect, safety hazard or coordination topic (a BCF topic).

    ``event_count`` and ``head_hash`` record the end of the issue's event chain when the
    last event was appended, so deleting (or adding) the last event row is detectable.
    """

    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # project-unique, like BCF ServerAssignedId
    guid: Mapped[str] = mapped_column(String(64))  # BCF topic guid (lower-case UUID)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(100))  # trade / 专业 / 隐患类别
    severity: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    labels_json: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(24), index=True)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    creator_name: Mapped[str] = mapped_column(String(200))  # BCF CreationAuthor when imported
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    assignee_name: Mapped[str | None] = mapped_column(String(200))  # BCF AssignedTo without a user
    responsible_company: Mapped[str | None] = mapped_column(String(200))
    responsible_uscc: Mapped[str | None] = mapped_column(String(18))
    verifier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    distribution_json: Mapped[str] = mapped_column(Text, default="[]")
    required_measures: Mapped[str | None] = mapped_column(Text)
    treatment_plan: Mapped[str | None] = mapped_column(Text)  # 重大隐患 治理方案
    signoff_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signoff_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(Text)
    # Location: any subset (element links live in issue_elements).
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"))
    point_json: Mapped[str | None] = mapped_column(Text)  # [x, y, z] in the model's local frame, m
    fourd_date: Mapped[dt.date | None] = mapped_column(Date)
    storey: Mapped[str | None] = mapped_column(String(200))
    zone: Mapped[str | None] = mapped_column(String(200))
    location_text: Mapped[str | None] = mapped_column(String(400))  # 部位
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id"))
    task_key: Mapped[str | None] = mapped_column(String(100))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("rectification_notices.id"), index=True)
    # BCF fields kept for a faithful round trip.
    topic_type: Mapped[str | None] = mapped_column(String(100))
    stage: Mapped[str | None] = mapped_column(String(100))
    bcf_extra_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    modified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    modified_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default="0" * 64)

    __table_args__ = (
        UniqueConstraint("project_id", "number", name="uq_issues_number"),
        UniqueConstraint("project_id", "guid", name="uq_issues_guid"),
    )


class IssueElementRow(Base):
    """An element an issue is pinned to, by GlobalId (survives new revisions)."""

    __tablename__ = "issue_elements"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True)
    global_id: Mapped[str] = mapped_column(String(22), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # 0: the element the issue was raised on


class IssueEventRow(Base):
    """One entry of an issue's append-only log. ``content`` is the canonical JSON that was
    hashed; ``type`` and ``at`` are copies for queries (the verifier checks they agree)."""

    __tablename__ = "issue_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # RESTRICT: an issue cannot be deleted with one statement taking its history along.
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="RESTRICT"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    content: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("issue_id", "sequence", name="uq_issue_events_sequence"),)


class IssueCommentRow(Base):
    __tablename__ = "issue_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(64))  # BCF comment guid
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    viewpoint_guid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    modified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    modified_by: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("issue_id", "guid", name="uq_issue_comments_guid"),)


class IssueViewpointRow(Base):
    """A BCF viewpoint: camera + components as JSON, the snapshot as a blob."""

    __tablename__ = "issue_viewpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)  # order within the issue
    data_json: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    snapshot_type: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (UniqueConstraint("issue_id", "guid", name="uq_issue_viewpoints_guid"),)


class IssuePhotoRow(Base):
    """A photo or attachment: the file and its thumbnail are content-addressed blobs.
    ``round`` is the issue's reopened_count when it was added, so a reply after a failed
    re-inspection needs new after-photos."""

    __tablename__ = "issue_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # before / after / attachment
    sha256: Mapped[str] = mapped_column(String(64))
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # EXIF DateTimeOriginal as the camera recorded it (ISO; with its offset only when the
    # photo has OffsetTimeOriginal: cameras keep local time without a zone).
    exif_time: Mapped[str | None] = mapped_column(String(40))
    round: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("issue_id", "role", "sha256", name="uq_issue_photos"),)
