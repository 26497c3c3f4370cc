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
    LargeBinary,
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
    # Every change stamps it (the portfolio summary's cache notices renames and moves).
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


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
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


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
    # Where the model lies on Earth (``services.sites.place_revision``): the ground outline
    # in the engineering frame as the pipeline wrote it, and in WGS-84 as placed by the
    # chosen georeference; the model's plan centre in WGS-84; what was odd about the data.
    footprint_local_json: Mapped[str | None] = mapped_column(Text, deferred=True)
    footprint_json: Mapped[str | None] = mapped_column(Text, deferred=True)
    georef_kind: Mapped[str | None] = mapped_column(String(32))
    georef_crs: Mapped[str | None] = mapped_column(String(400))
    center_lon: Mapped[float | None] = mapped_column(Float)
    center_lat: Mapped[float | None] = mapped_column(Float)
    georef_warnings_json: Mapped[str | None] = mapped_column(Text)
    placed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
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


# --------------------------------------------------------------------------- regional layer


class InspectionLotRow(Base):
    """One acceptance attempt of an inspection lot (检验批, GB 50300): attempt 2 or more of a
    lot accepted in the end is a rework, counted per zone and ISO week."""

    __tablename__ = "inspection_lots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"))
    code: Mapped[str] = mapped_column(String(64))  # the lot's number, e.g. "F3-KL-检验批-2"
    name: Mapped[str] = mapped_column(String(200))
    zone: Mapped[str] = mapped_column(String(100))  # 区域 / 流水段
    trade: Mapped[str] = mapped_column(String(100))  # 分项 / 专业 (钢筋, 模板, 混凝土 …)
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    attempt_no: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("project_id", "code", "attempt_no", name="uq_inspection_lots_attempt"),
        Index("ix_inspection_lots_project_day", "project_id", "inspected_on"),
    )


class KpiPeriodRow(Base):
    """A project's KPIs and health for one period (a calendar month, "2026-11"): recomputed
    while the period is open, frozen (never written again) once it has closed, so rankings
    made from it can be made again with the same answer."""

    __tablename__ = "kpi_periods"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    frozen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    light: Mapped[str] = mapped_column(String(8))
    score: Mapped[float] = mapped_column(Float)
    health_json: Mapped[str] = mapped_column(Text)  # lights, scores and reasons per dimension

    __table_args__ = (
        Index("ix_kpi_periods_period", "period"),
        # The newest computation stamps the portfolio summary's cache (one index probe).
        Index("ix_kpi_periods_computed_at", "computed_at"),
    )


class KpiValueRow(Base):
    """One KPI of a project for a period (the values behind ``kpi_periods``)."""

    __tablename__ = "kpi_values"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)


class ScheduleFactsCacheRow(Base):
    """A project's schedule reduced to what its KPIs read, kept between recomputations (a
    portfolio recomputed every few minutes should not re-read thousands of unchanged
    schedules): its leaf tasks' dates and flags, and the sorted baseline and actual finish
    days of the linked elements of the revision named (for the element-weighted SPI). Valid
    while ``stamp`` — a digest of the revision, schedule version, links, rules, progress and
    installed marks — is unchanged.

    ``task_days``: float64 (7, n) — planned start/finish, baseline start/finish (the plan
    where no baseline), actual start/finish (day numbers since 1970-01-01, NaN = none) and
    total float (days); ``task_flags``: uint8 (2, n) — critical, milestone; ``tasks_json``:
    ``[[key, name, wbs_code], …]``; ``element_days``: int32 (2, m) sorted, 2³¹−1 = none;
    empty without a processed revision.
    """

    __tablename__ = "kpi_schedule_cache"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"), primary_key=True)
    stamp: Mapped[str] = mapped_column(String(64))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"))
    task_days: Mapped[bytes] = mapped_column(LargeBinary)
    task_flags: Mapped[bytes] = mapped_column(LargeBinary)
    tasks_json: Mapped[str] = mapped_column(Text)
    element_days: Mapped[bytes] = mapped_column(LargeBinary)


class AlertRuleRow(Base):
    """An alert rule as data (domain.alerts): what it watches, where, with which numbers."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    scope_node_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))  # None: every project
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    level: Mapped[str] = mapped_column(String(8))
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AlertRow(Base):
    """An alert raised by a rule for one subject (a task, a hazard, a zone, the project).

    ``open_key`` is set while the alert is open or acknowledged and cleared when it is
    resolved: its unique constraint is what keeps one open alert per (rule, subject), on
    SQLite and PostgreSQL alike (NULLs do not collide).
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_key: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(8))
    value: Mapped[float | None] = mapped_column(Float)
    facts_json: Mapped[str] = mapped_column(Text, default="{}")
    message_zh: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    open_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id")
    )  # None: the rule's condition ended
    resolution: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_alerts_project_status", "project_id", "status"),
        Index("ix_alerts_updated_at", "updated_at"),  # every change sets it: the summary cache's stamp
        Index("ix_alerts_rule_subject", "rule_id", "project_id", "subject_key"),
    )


class ImprovementActionRow(Base):
    """PDCA: what a project ranked in its region's bottom three will do, who owns it, by
    when, and what next month's check found."""

    __tablename__ = "improvement_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"), index=True)
    period: Mapped[str] = mapped_column(String(7))  # the ranking month that called for it
    reasons_json: Mapped[str] = mapped_column(Text, default="[]")
    action: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned, done, checked
    check_result: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class JobRunRow(Base):
    """When a periodic job last started, so several processes do not all run it."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# --------------------------------------------------------------------------- sensors (IoT)


class SensorDeviceRow(Base):
    """A device on site (dust and noise monitor, crane, excavation inclinometer …) that
    reports the readings of its monitor points. ``last_seen_at`` is its latest reading or
    heartbeat; silent for more than ``heartbeat_timeout_s`` it is offline. ``lon``/``lat``:
    where it stands (WGS-84), if surveyed."""

    __tablename__ = "sensor_devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    device_type: Mapped[str] = mapped_column(String(32))
    serial: Mapped[str | None] = mapped_column(String(100))
    protocol: Mapped[str | None] = mapped_column(String(32))
    heartbeat_timeout_s: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("project_id", "code", name="uq_sensor_devices_project_code"),)


class MonitorPointRow(Base):
    """What one device measures at one place (监测点), e.g. S-07 wall displacement. The
    ``code`` is unique in the project and names the point in payloads and in the MQTT topic
    ``twin/{project code}/{point code}``. The six bounds override the metric's defaults
    (``domain.sensors.ThresholdOverrides``: null inherits, ±inf switches a bound off).

    ``tier`` … ``evaluated_at`` are the point's state as the latest reading batch left it
    (``domain.sensors.evaluate_point``: the tier in force and its trigger, the latest
    reading), kept for fast reads and so that a long run keeps its trigger; the readings are
    the truth and any state can be recomputed from them."""

    __tablename__ = "monitor_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.node_id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("sensor_devices.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(32))
    warn_lower: Mapped[float | None] = mapped_column(Float)
    warn_upper: Mapped[float | None] = mapped_column(Float)
    alarm_lower: Mapped[float | None] = mapped_column(Float)
    alarm_upper: Mapped[float | None] = mapped_column(Float)
    control_lower: Mapped[float | None] = mapped_column(Float)
    control_upper: Mapped[float | None] = mapped_column(Float)
    persist_s: Mapped[float] = mapped_column(Float, default=0.0)
    element_global_id: Mapped[str | None] = mapped_column(String(22))
    space_global_id: Mapped[str | None] = mapped_column(String(22))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    tier: Mapped[str] = mapped_column(String(8), default="ok")
    tier_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    tier_value: Mapped[float | None] = mapped_column(Float)
    tier_bound: Mapped[float | None] = mapped_column(Float)
    tier_side: Mapped[str | None] = mapped_column(String(8))
    exceeding_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_value: Mapped[float | None] = mapped_column(Float)
    last_ts: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    evaluated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("project_id", "code", name="uq_monitor_points_project_code"),)


class SensorReadingRow(Base):
    """One value of a point at an instant (UTC). The key (point, ts) makes ingest
    idempotent: a replayed batch writes nothing, a corrected value replaces the stored one
    (last write wins). Kept for ``sensor_retention_days``; the aggregates outlive it."""

    __tablename__ = "sensor_readings"

    point_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_points.id", ondelete="CASCADE"), primary_key=True
    )
    ts: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    quality: Mapped[str] = mapped_column(String(8), default="good")


class SensorAggregateRow(Base):
    """A point's readings per UTC minute or hour (``bad`` ones left out): count, min, max,
    mean and the last value, for charts over long ranges. Minutes are recomputed from the
    raw readings of each minute a batch touches, hours rolled up from their minutes."""

    __tablename__ = "sensor_aggregates"

    point_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_points.id", ondelete="CASCADE"), primary_key=True
    )
    bucket: Mapped[str] = mapped_column(String(8), primary_key=True)  # "minute" | "hour"
    bucket_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    mean: Mapped[float] = mapped_column(Float)
    last: Mapped[float] = mapped_column(Float)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
