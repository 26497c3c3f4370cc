"""Request and response bodies of the regional layer: KPIs, health, rankings, roll-ups,
alerts and their rules, inspection lots and improvement actions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ..domain.alerts import RuleKind
from ..domain.kpis import Light
from .common import Input, PlanDate, Public, UtcDatetime

Period = Annotated[str, StringConstraints(pattern=r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$")]
OneLine = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]*$")
]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]*$")
]


class TrendPointPublic(Public):
    period: str
    score: float
    light: str


class ProjectLinePublic(Public):
    id: int
    code: str
    name: str
    region_id: int | None
    region: str | None
    site_lon: float | None
    site_lat: float | None
    contract_value_cny: float | None
    light: str | None = Field(
        description="green / yellow / red: the worst dimension; null before the first computation"
    )
    score: float | None = Field(
        description="composite score 0..100 (weights: schedule 30, quality 25, safety 30, other 15)"
    )
    rank_in_region: int | None
    lights: dict[str, str]
    trend: list[TrendPointPublic] = Field(description="score and light of the last six months (oldest first)")
    open_alerts: int
    red_alerts: int


class RegionLinePublic(Public):
    id: int
    code: str
    name: str
    projects: int
    by_light: dict[str, int]
    mean_score: float | None
    open_alerts: int


class PortfolioSummaryPublic(Public):
    period: str
    projects: list[ProjectLinePublic]
    regions: list[RegionLinePublic]
    by_light: dict[str, int]


class ReasonPublic(Public):
    dimension: str
    code: str = Field(description="the KPI that drives the shortfall")
    value: float | None
    shortfall: float = Field(description="weighted points below a perfect score")


class RankedPublic(Public):
    project_id: int
    code: str
    name: str
    score: float
    light: str
    red_count: int
    rank_in_region: int
    reasons: list[ReasonPublic]


class RegionRankingPublic(Public):
    region_id: int
    region: str
    ranked: list[RankedPublic]
    bottom: list[RankedPublic] = Field(
        description="the three worst, worst first, each with its two main reasons"
    )


class RankingPublic(Public):
    period: str
    frozen: bool = Field(
        description="every value is frozen (the month has closed): the ranking cannot change"
    )
    regions: list[RegionRankingPublic]


class ReworkCellPublic(Public):
    zone: str
    week: str = Field(description="ISO week, e.g. 2026-W49")
    accepted: int = Field(description="lots accepted in the week")
    reworked: int = Field(description="of which accepted only on a later attempt (返工)")
    rate: float | None
    trades: list[str] = Field(description="trades of the reworked lots")


class ProjectKpisPublic(Public):
    project_id: int
    period: str
    frozen: bool
    computed_at: UtcDatetime
    light: str
    score: float
    lights: dict[str, str]
    scores: dict[str, float]
    reasons: list[ReasonPublic]
    values: dict[str, float | None]
    rework_by_zone_week: list[ReworkCellPublic] = Field(
        description="rework rate per zone and ISO week of the lots accepted in the month"
    )


class RollupPublic(Public):
    node_id: int
    period: str
    projects: int
    by_light: dict[str, int]
    mean_score: float | None
    totals: dict[str, float]
    means: dict[str, float]


class RecomputeIn(Input):
    periods: list[Period] | None = Field(
        default=None, max_length=36, description="default: this month and the last"
    )


class RecomputePublic(Public):
    periods: list[str]
    projects: int
    computed: int
    frozen: int
    skipped_frozen: int
    seconds: float


class AlertPublic(Public):
    id: int
    project_id: int
    project_code: str
    project_name: str
    rule_code: str
    kind: str
    subject_type: str
    subject_key: str
    level: str
    value: float | None
    facts: dict
    message_zh: str
    message_en: str
    status: str
    opened_at: UtcDatetime
    updated_at: UtcDatetime
    acknowledged_at: UtcDatetime | None
    acknowledged_by: str | None
    resolved_at: UtcDatetime | None
    resolved_by: str | None
    resolution: str | None


class ResolveIn(Input):
    note: Annotated[str, StringConstraints(max_length=4000)] | None = None


class AlertRulePublic(Public):
    id: int
    code: str
    kind: str
    scope_node_id: int | None
    scope: str | None
    params: dict[str, float]
    level: str
    cooldown_minutes: int
    enabled: bool


Param = Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]


class AlertRuleCreate(Input):
    code: Code
    kind: RuleKind
    params: dict[Annotated[str, StringConstraints(max_length=40)], Param] = Field(
        default_factory=dict, max_length=10
    )
    level: Literal["yellow", "red"] = "red"
    cooldown_minutes: int = Field(default=1440, ge=0, le=525_600)
    enabled: bool = True


class AlertRuleUpdate(Input):
    params: dict[Annotated[str, StringConstraints(max_length=40)], Param] | None = Field(
        default=None, max_length=10
    )
    level: Light | None = None
    cooldown_minutes: int | None = Field(default=None, ge=0, le=525_600)
    enabled: bool | None = None


class LotCreate(Input):
    code: Code = Field(description="the lot's number (检验批编号); attempts are numbered per code")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    zone: OneLine = Field(description="区域 / 流水段")
    trade: OneLine = Field(description="分项 / 专业, e.g. 钢筋")
    inspected_on: PlanDate
    accepted: bool
    note: Annotated[str, StringConstraints(max_length=4000)] | None = None


class LotPublic(Public):
    id: int
    code: str
    name: str
    zone: str
    trade: str
    inspected_on: dt.date
    attempt_no: int
    accepted: bool
    note: str | None


class ActionCreate(Input):
    period: Period = Field(description="the ranking month the action answers")
    action: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    owner_id: int | None = Field(default=None, ge=1, le=2_147_483_647)
    due_date: PlanDate


class ActionUpdate(Input):
    status: Literal["planned", "done", "checked"] | None = None
    check_result: Annotated[str, StringConstraints(max_length=4000)] | None = None


class ActionPublic(Public):
    id: int
    project_id: int
    period: str
    reasons: list[ReasonPublic]
    action: str
    owner_id: int | None
    owner: str | None
    due_date: dt.date
    status: str
    check_result: str | None
    created_at: UtcDatetime
