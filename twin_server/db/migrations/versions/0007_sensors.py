"""sensors: devices, monitor points, readings, aggregates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The two sensor alert rules (domain.alerts.DEFAULT_RULES as of this revision). A new
# database gets every default from services.alerts.ensure_default_rules, which seeds only an
# empty table; one seeded before sensors existed gets these two here, once.
_SENSOR_RULES = (
    {"code": "sensor_threshold", "kind": "sensor_threshold", "level": "red"},
    {"code": "sensor_offline", "kind": "sensor_offline", "level": "yellow"},
)


def upgrade() -> None:
    op.create_table(
        "sensor_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("device_type", sa.String(length=32), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=True),
        sa.Column("protocol", sa.String(length=32), nullable=True),
        sa.Column("heartbeat_timeout_s", sa.Float(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.node_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "code", name="uq_sensor_devices_project_code"),
    )
    op.create_table(
        "monitor_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("warn_lower", sa.Float(), nullable=True),
        sa.Column("warn_upper", sa.Float(), nullable=True),
        sa.Column("alarm_lower", sa.Float(), nullable=True),
        sa.Column("alarm_upper", sa.Float(), nullable=True),
        sa.Column("control_lower", sa.Float(), nullable=True),
        sa.Column("control_upper", sa.Float(), nullable=True),
        sa.Column("persist_s", sa.Float(), nullable=False),
        sa.Column("element_global_id", sa.String(length=22), nullable=True),
        sa.Column("space_global_id", sa.String(length=22), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("tier_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tier_value", sa.Float(), nullable=True),
        sa.Column("tier_bound", sa.Float(), nullable=True),
        sa.Column("tier_side", sa.String(length=8), nullable=True),
        sa.Column("exceeding_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("last_ts", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["sensor_devices.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["projects.node_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "code", name="uq_monitor_points_project_code"),
    )
    op.create_index("ix_monitor_points_device_id", "monitor_points", ["device_id"], unique=False)
    op.create_table(
        "sensor_readings",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("quality", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["point_id"], ["monitor_points.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("point_id", "ts"),
    )
    op.create_table(
        "sensor_aggregates",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["point_id"], ["monitor_points.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("point_id", "bucket", "bucket_start"),
    )
    for rule in _SENSOR_RULES:
        op.execute(
            sa.text(
                "INSERT INTO alert_rules"
                " (code, kind, scope_node_id, params_json, level, cooldown_minutes, enabled, created_at)"
                " SELECT :code, :kind, NULL, '{}', :level, 1440, :enabled, CURRENT_TIMESTAMP"
                " WHERE EXISTS (SELECT 1 FROM alert_rules)"
                " AND NOT EXISTS (SELECT 1 FROM alert_rules WHERE code = :code OR kind = :kind)"
            ).bindparams(**rule, enabled=True)
        )


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM alerts WHERE rule_id IN (SELECT id FROM alert_rules WHERE kind LIKE 'sensor_%')")
    )
    op.execute(sa.text("DELETE FROM alert_rules WHERE kind LIKE 'sensor_%'"))
    op.drop_table("sensor_aggregates")
    op.drop_table("sensor_readings")
    op.drop_index("ix_monitor_points_device_id", table_name="monitor_points")
    op.drop_table("monitor_points")
    op.drop_table("sensor_devices")
