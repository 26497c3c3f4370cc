"""The regional layer: portfolio summary and rankings, KPIs per project and roll-ups per
node, alerts and their rules, inspection lots (the rework input) and improvement actions.

Every list is cut to the caller's part of the organisation: HQ sees every region, a region
its projects, a project its own.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...domain.access import Capability
from ...domain.model import Principal
from ...schemas.portfolio import (
    ActionCreate,
    ActionPublic,
    ActionUpdate,
    AlertPublic,
    AlertRuleCreate,
    AlertRulePublic,
    AlertRuleUpdate,
    LotCreate,
    LotPublic,
    Period,
    PortfolioSummaryPublic,
    ProjectKpisPublic,
    RankingPublic,
    RecomputeIn,
    RecomputePublic,
    ResolveIn,
    RollupPublic,
)
from ...schemas.sites import SiteCollectionPublic
from ...services import alerts as alert_service
from ...services import portfolio as portfolio_service
from ...services import sites as site_service
from ..deps import (
    Authenticated,
    Id,
    NodeAccess,
    NodeScope,
    ProjectAccess,
    ProjectScope,
    RuntimeDep,
    SessionDep,
)
from ..encoding import accepts_gzip

router = APIRouter(prefix="/api", tags=["portfolio"])

Reader = Annotated[Principal, Depends(Authenticated(Capability.READ))]
ProjectReader = Annotated[ProjectScope, Depends(ProjectAccess(Capability.READ))]
NodeReader = Annotated[NodeScope, Depends(NodeAccess(Capability.READ))]
NodeManager = Annotated[NodeScope, Depends(NodeAccess(Capability.MANAGE_ORG))]
ProjectManager = Annotated[ProjectScope, Depends(ProjectAccess(Capability.MANAGE_ORG))]
AlertHandler = Annotated[ProjectScope, Depends(ProjectAccess(Capability.HANDLE_ALERTS))]
Reporter = Annotated[ProjectScope, Depends(ProjectAccess(Capability.REPORT_PROGRESS))]
PeriodQuery = Annotated[Period | None, Query(description="a month, YYYY-MM (default: this month)")]
Statuses = Annotated[
    list[Literal["open", "acknowledged", "resolved"]] | None,
    Query(description="default: open and acknowledged"),
]
Levels = Annotated[list[Literal["yellow", "red"]] | None, Query()]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _today() -> dt.date:
    return dt.date.today()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _period(period: str | None) -> str:
    return period or portfolio_service.period_of(_today())


# --------------------------------------------------------------------------- portfolio


@router.get("/portfolio/summary", response_model=PortfolioSummaryPublic)
async def portfolio_summary(
    request: Request, principal: Reader, runtime: RuntimeDep, session: SessionDep, period: PeriodQuery = None
) -> Response:
    """Every project the caller may see with its traffic light, composite score, rank in its
    region, dimension lights, six-month score trend and open alerts; rolled up per region
    and for all. Read from the stored KPIs (computed after every change and every few
    minutes) and served again from memory until a KPI or an alert changes."""
    period = _period(period)

    def build(session: Session) -> bytes:
        summary = portfolio_service.portfolio_summary(session, principal=principal, period=period)
        return PortfolioSummaryPublic.model_validate(summary).model_dump_json().encode()

    packed = await run_in_threadpool(
        _cached_json,
        session,
        runtime.summaries,
        key=(principal.scope_path, period),
        stamp=portfolio_service.portfolio_stamp,
        build=build,
    )
    return _json_response(request, packed, media_type="application/json")


@router.get("/portfolio/sites", response_model=SiteCollectionPublic)
async def portfolio_sites(
    request: Request,
    principal: Reader,
    runtime: RuntimeDep,
    session: SessionDep,
    period: PeriodQuery = None,
    region: Annotated[int | None, Query(ge=1, lt=2**31, description="one region's projects")] = None,
    datum: Annotated[
        Literal["wgs84", "gcj02", "bd09"],
        Query(description="gcj02 / bd09: shifted for AMap-Tencent / Baidu base maps (display only)"),
    ] = "wgs84",
) -> Response:
    """Every project the caller may see as a GeoJSON Feature: its site point (WGS-84), health,
    contract value, top alerts and the footprint of its model; ``geometry`` is null for a
    project with no location yet. Served again from memory until a KPI, an alert or a
    model's placement changes."""
    period = _period(period)

    def build(session: Session) -> bytes:
        sites = site_service.portfolio_sites(
            session, principal=principal, period=period, region_id=region, datum=datum
        )
        return SiteCollectionPublic.of(sites).model_dump_json().encode()

    packed = await run_in_threadpool(
        _cached_json,
        session,
        runtime.summaries,
        key=("sites", principal.scope_path, period, region, datum),
        stamp=site_service.sites_stamp,
        build=build,
    )
    return _json_response(request, packed, media_type="application/geo+json")


def _cached_json(
    session: Session,
    cache: portfolio_service.SummaryCache,
    *,
    key: tuple,
    stamp: Callable[[Session], tuple],
    build: Callable[[Session], bytes],
) -> tuple[bytes, bytes]:
    """A JSON answer, plain and gzipped, from the cache while ``stamp`` holds, else built.
    The stamp is read first: a change landing while the answer is built leaves a newer stamp
    behind, so nothing stale outlives the next request."""
    current = stamp(session)
    cached = cache.get(key, current)
    if cached is not None:
        return cached
    raw = build(session)
    # Level 1: 1,000 projects' 0.6 MB shrink ~10x in a few ms; higher levels gain little.
    value = (raw, gzip.compress(raw, compresslevel=1))
    cache.put(key, current, value)
    return value


def _json_response(request: Request, packed: tuple[bytes, bytes], *, media_type: str) -> Response:
    raw, gzipped = packed
    if accepts_gzip(request):
        return Response(
            gzipped, media_type=media_type, headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        )
    return Response(raw, media_type=media_type, headers={"Vary": "Accept-Encoding"})


@router.get(
    "/portfolio/sites/export",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}, "application/geopackage+sqlite3": {}}}},
)
def export_portfolio_sites(
    principal: Reader,
    session: SessionDep,
    format: Annotated[Literal["geojson", "gpkg"], Query(description="geojson or gpkg")] = "geojson",
    period: PeriodQuery = None,
    region: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
) -> Response:
    """The sites the caller may see as a file for GIS tools (QGIS, ArcGIS): site points and
    model footprints, WGS-84, with each project's light, score and alert counts."""
    period = _period(period)
    sites = site_service.portfolio_sites(session, principal=principal, period=period, region_id=region)
    data = site_service.export_sites(sites, file_format=format)
    media = "application/geopackage+sqlite3" if format == "gpkg" else "application/geo+json"
    name = f"erji-sites-{period}.{format}"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/portfolio/ranking")
def portfolio_ranking(principal: Reader, session: SessionDep, period: PeriodQuery = None) -> RankingPublic:
    """Projects ranked within each region by composite score (ties: fewer red dimensions
    first), with each region's bottom three and their two main reasons. For a month that has
    closed the values are frozen, so asking again gives the same answer."""
    return RankingPublic.model_validate(
        portfolio_service.ranking(session, principal=principal, period=_period(period))
    )


@router.get("/org/nodes/{node_id}/kpis")
def node_kpis(scope: NodeReader, session: SessionDep, period: PeriodQuery = None) -> RollupPublic:
    """A region's (or HQ's, or one project's) KPIs rolled up: lights counted, mean score,
    counts summed, rates averaged."""
    rollup = portfolio_service.node_rollup(
        session, node_id=scope.node.id, node_path=scope.node.path, period=_period(period)
    )
    return RollupPublic.model_validate(rollup)


@router.post("/org/nodes/{node_id}/kpis/recompute")
async def recompute(
    body: RecomputeIn, scope: NodeManager, runtime: RuntimeDep, session: SessionDep
) -> RecomputePublic:
    """Compute the KPIs of the node's projects now (default: this month and the last; a month
    that has ended is frozen as it is written, a frozen one is never written again)."""
    ids = await run_in_threadpool(portfolio_service.projects_under, session, node_path=scope.node.path)
    report = await run_in_threadpool(
        portfolio_service.recompute_kpis,
        session,
        today=_today(),
        periods=body.periods,
        project_ids=ids,
        policy=runtime.settings.health_policy,
    )
    return RecomputePublic.model_validate(report)


@router.get("/projects/{project_id}/kpis")
def project_kpis(scope: ProjectReader, session: SessionDep, period: PeriodQuery = None) -> ProjectKpisPublic:
    """One project's KPIs and health for a month (values, lights and scores per dimension,
    the reasons a score falls short)."""
    kpis = portfolio_service.project_kpis(session, project_id=scope.project.id, period=_period(period))
    return ProjectKpisPublic.model_validate(kpis)


# --------------------------------------------------------------------------- alerts


@router.get("/alerts")
def alert_feed(
    principal: Reader, session: SessionDep, status: Statuses = None, level: Levels = None, limit: Limit = 200
) -> list[AlertPublic]:
    """The caller's alert feed: alerts of every project in their part of the organisation,
    red first, newest first."""
    alerts = alert_service.list_alerts(
        session,
        scope_path=principal.scope_path,
        statuses=status or alert_service.LIVE,
        levels=level or (),
        limit=limit,
    )
    return [AlertPublic.model_validate(a) for a in alerts]


@router.get("/projects/{project_id}/alerts")
def project_alerts(
    scope: ProjectReader,
    session: SessionDep,
    status: Statuses = None,
    level: Levels = None,
    limit: Limit = 200,
) -> list[AlertPublic]:
    alerts = alert_service.list_alerts(
        session,
        scope_path=scope.project.path,
        statuses=status or alert_service.LIVE,
        levels=level or (),
        project_id=scope.project.id,
        limit=limit,
    )
    return [AlertPublic.model_validate(a) for a in alerts]


@router.post("/projects/{project_id}/alerts/{alert_id}/acknowledge")
def acknowledge_alert(alert_id: Id, scope: AlertHandler, session: SessionDep) -> AlertPublic:
    """Seen, someone is on it: the alert stays until its condition ends or it is resolved."""
    alert = alert_service.acknowledge_alert(
        session, project_id=scope.project.id, alert_id=alert_id, user_id=scope.principal.user_id, now=_now()
    )
    return AlertPublic.model_validate(alert)


@router.post("/projects/{project_id}/alerts/{alert_id}/resolve")
def resolve_alert(alert_id: Id, body: ResolveIn, scope: AlertHandler, session: SessionDep) -> AlertPublic:
    """Close the alert by hand, saying what was done; if the condition still holds after
    the rule's cooldown, it is raised again."""
    alert = alert_service.resolve_alert(
        session,
        project_id=scope.project.id,
        alert_id=alert_id,
        user_id=scope.principal.user_id,
        note=body.note,
        now=_now(),
    )
    return AlertPublic.model_validate(alert)


@router.get("/alert-rules")
def alert_rules(principal: Reader, session: SessionDep) -> list[AlertRulePublic]:
    """The rules that can apply to the caller's projects (HQ-wide ones and those scoped to
    nodes on their path or below)."""
    return [AlertRulePublic.model_validate(r) for r in alert_service.list_rules(session, principal=principal)]


@router.post("/org/nodes/{node_id}/alert-rules", status_code=201)
def create_alert_rule(
    body: AlertRuleCreate, scope: NodeManager, runtime: RuntimeDep, session: SessionDep
) -> AlertRulePublic:
    """A rule for the projects under the node (overrides a wider rule of the same kind); the
    node's projects are evaluated under it at once."""
    rule = alert_service.create_rule(
        session,
        node_id=scope.node.id,
        code=body.code,
        kind=body.kind,
        params=body.params,
        level=body.level,
        cooldown_minutes=body.cooldown_minutes,
        enabled=body.enabled,
        user_id=scope.principal.user_id,
    )
    runtime.queue.evaluate(portfolio_service.projects_under(session, node_path=scope.node.path))
    return AlertRulePublic.model_validate(rule)


@router.patch("/org/nodes/{node_id}/alert-rules/{alert_rule_id}")
def update_alert_rule(
    alert_rule_id: Id, body: AlertRuleUpdate, scope: NodeManager, runtime: RuntimeDep, session: SessionDep
) -> AlertRulePublic:
    """Change a rule scoped to the node or below it (HQ changes the defaults); the projects
    it covers are evaluated again at once."""
    rule = alert_service.update_rule(
        session,
        node_path=scope.node.path,
        rule_id=alert_rule_id,
        params=body.params,
        level=body.level,
        cooldown_minutes=body.cooldown_minutes,
        enabled=body.enabled,
        now=_now(),
    )
    runtime.queue.evaluate(portfolio_service.projects_under(session, node_path=rule.scope_path))
    return AlertRulePublic.model_validate(rule)


# --------------------------------------------------------------------------- lots, actions


@router.get("/projects/{project_id}/lots")
def list_lots(scope: ProjectReader, session: SessionDep, limit: Limit = 1000) -> list[LotPublic]:
    return [
        LotPublic.model_validate(lot)
        for lot in portfolio_service.list_lots(session, project_id=scope.project.id, limit=limit)
    ]


@router.post("/projects/{project_id}/lots", status_code=201)
def add_lot(body: LotCreate, scope: Reporter, runtime: RuntimeDep, session: SessionDep) -> LotPublic:
    """Record an inspection lot's acceptance attempt (检验批验收): accepted on attempt 2 or
    later is a rework, counted per zone and week for the rework rate and its trend alert."""
    lot = portfolio_service.add_lot(
        session,
        project_id=scope.project.id,
        code=body.code,
        name=body.name,
        zone=body.zone,
        trade=body.trade,
        inspected_on=body.inspected_on,
        accepted=body.accepted,
        note=body.note,
        user_id=scope.principal.user_id,
    )
    runtime.queue.evaluate([scope.project.id])
    return LotPublic.model_validate(lot)


@router.get("/projects/{project_id}/improvement-actions")
def list_actions(scope: ProjectReader, session: SessionDep) -> list[ActionPublic]:
    return [
        ActionPublic.model_validate(a)
        for a in portfolio_service.list_actions(session, project_id=scope.project.id)
    ]


@router.post("/projects/{project_id}/improvement-actions", status_code=201)
def create_action(body: ActionCreate, scope: ProjectManager, session: SessionDep) -> ActionPublic:
    """An improvement action (PDCA) for a project in its region's bottom three: what, who, by
    when; next month's check is recorded on it."""
    action = portfolio_service.create_action(
        session,
        project_id=scope.project.id,
        period=body.period,
        action=body.action,
        owner_id=body.owner_id,
        due_date=body.due_date,
        user_id=scope.principal.user_id,
    )
    return ActionPublic.model_validate(action)


@router.patch("/projects/{project_id}/improvement-actions/{action_id}")
def update_action(
    action_id: Id, body: ActionUpdate, scope: ProjectManager, session: SessionDep
) -> ActionPublic:
    action = portfolio_service.update_action(
        session,
        project_id=scope.project.id,
        action_id=action_id,
        status=body.status,
        check_result=body.check_result,
        now=_now(),
    )
    return ActionPublic.model_validate(action)
