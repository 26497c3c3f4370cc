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
