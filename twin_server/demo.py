"""Demo portfolio for ``make run``: an HQ, two regions, three projects, one user per role,
the generated sample building uploaded as the first revision of one project, its own
IFC work schedule imported with its element links (so 4D has something to show), and a
handful of issues at every step of the 整改 → 复查 loop, with a rectification notice.

Idempotent: running it again adds only what is missing. Demo users share one published
password, so this refuses to run outside development mode.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from .domain.access import NodeKind, Role
from .domain.errors import Conflict, NotFound
from .runtime import Runtime
from .services import orgs, revisions, schedules
from .services.access import NodeRef
from .services.auth import create_user

__all__ = ["DEMO_PASSWORD", "DemoResult", "seed_demo"]

log = logging.getLogger(__name__)

DEMO_PASSWORD = "erji-demo-2026"

_REGIONS = (("EAST", "华东区域公司"), ("SOUTH", "华南区域公司"))
_PROJECTS = (
    # code, name, region, lon, lat, address, type, contract value (CNY), start, finish
    (
        "SH-PD-01",
        "上海浦东科创中心 3# 楼",
        "EAST",
        121.5908,
        31.2036,
        "上海市浦东新区张江路 88 号",
        "office",
        6.8e8,
        dt.date(2026, 3, 1),
        dt.date(2027, 12, 31),
    ),
    (
        "HZ-XS-02",
        "杭州萧山安置房二期",
        "EAST",
        120.2645,
        30.1850,
        "杭州市萧山区市心北路 1 号",
        "residential",
        4.2e8,
        dt.date(2025, 9, 15),
        dt.date(2027, 6, 30),
    ),
    (
        "SZ-NS-01",
        "深圳南山人才公寓",
        "SOUTH",
        113.9305,
        22.5333,
        "深圳市南山区科苑路 15 号",
        "residential",
        5.5e8,
        dt.date(2026, 1, 10),
        dt.date(2028, 3, 31),
    ),
)
_USERS = (
    ("admin", Role.ADMIN, "HQ", "系统管理员"),
    ("hq", Role.HQ_VIEWER, "HQ", "集团总部"),
    ("east", Role.REGIONAL_MANAGER, "EAST", "华东区域经理"),
    ("bim", Role.BIM_COORDINATOR, "SH-PD-01", "BIM 协调员"),
    ("inspector", Role.INSPECTOR, "SH-PD-01", "质量检查员"),
    ("site", Role.SITE_MANAGER, "SH-PD-01", "项目经理"),
)


@dataclass(frozen=True, slots=True)
class DemoResult:
    users: tuple[str, ...]
    project_id: int
    revision_id: int | None


def seed_demo(runtime: Runtime, *, sample_ifc: Path | None) -> DemoResult:
    """Create whatever of the demo portfolio is missing; upload ``sample_ifc`` once."""
    if not runtime.settings.development:
        raise Conflict("the demo data uses a published password: run it in development mode only")
    with runtime.sessions() as session:
        hq = _ensure(session, NodeKind.HQ, "HQ", "集团总部", None)
        regions = {code: _ensure(session, NodeKind.REGION, code, name, hq) for code, name in _REGIONS}
        project_ids = {}
        for code, name, region, lon, lat, address, kind, value, start, finish in _PROJECTS:
            try:
                project_ids[code] = orgs.find_node(session, code).id
            except NotFound:
                project = orgs.create_project(
                    session,
                    region=NodeRef(regions[region].id, NodeKind.REGION, regions[region].path),
                    code=code,
                    name=name,
                    site_lon=lon,
                    site_lat=lat,
                    address=address,
                    project_type=kind,
                    contract_value_cny=value,
                    planned_start=start,
                    planned_finish=finish,
                )
                project_ids[code] = project.id
        for username, role, node, display in _USERS:
            with contextlib.suppress(Conflict):  # already there
                create_user(
                    session,
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    node_code=node,
                    display_name=display,
                )
        session.commit()
        project_id = project_ids["SH-PD-01"]
        revision_id = _upload_sample(runtime, session, project_id, sample_ifc) if sample_ifc else None
        if sample_ifc:
            _import_sample_schedule(session, project_id, sample_ifc)
            _raise_demo_issues(runtime, session, project_id, sample_ifc)
    return DemoResult(tuple(u[0] for u in _USERS), project_id, revision_id)


def _ensure(session, kind: NodeKind, code: str, name: str, parent) -> object:
    try:
        return orgs.find_node(session, code)
    except NotFound:
        node = orgs.create_node(
            session, kind=kind, code=code, name=name, parent_id=parent.id if parent else None
        )
        session.commit()
        return node


_DEMO_SCHEDULE = "主体结构施工进度计划"


def _import_sample_schedule(session, project_id: int, sample_ifc: Path) -> None:
    """The sample building's own IFC work schedule, with its element links, once."""
    from ifc_processing import IfcProcessingError
    from ifc_processing.schedules import read_schedule

    if any(s.name == _DEMO_SCHEDULE for s in schedules.list_schedules(session, project_id=project_id)):
        return
    try:
        record = read_schedule(sample_ifc)
    except IfcProcessingError as exc:  # a sample without a work schedule: nothing to import
        log.warning("no demo schedule: %s", exc)
        return
    info = schedules.import_schedule(
        session,
        project_id=project_id,
        name=_DEMO_SCHEDULE,
        record=record,
        file_name=sample_ifc.name,
        file_sha256=hashlib.sha256(sample_ifc.read_bytes()).hexdigest(),
        user_id=None,
    )
    _report_demo_progress(session, project_id, info.schedule_id)


def _report_demo_progress(session, project_id: int, schedule_id: int) -> None:
    """Site progress for the demo, so the 4D timeline shows every status: most tasks done
    (one in four three days late, one in seven a day early), the next tenth started and
    unfinished, the last sixth not started — deterministic, by planned start order."""
    tasks = [
        t
        for t in schedules.task_table(session, project_id=project_id, schedule_id=schedule_id)
        if not t.is_summary and t.planned_start and t.planned_finish
    ]
    tasks.sort(key=lambda t: (t.planned_start, t.index))
    finished = int(len(tasks) * 0.75)
    started = int(len(tasks) * 0.85)
    day = dt.timedelta(days=1)
    for i, task in enumerate(tasks[:started]):
        start = task.planned_start + (day if i % 5 == 4 else 0 * day)
        finish = None
        if i < finished:
            finish = task.planned_finish + (3 * day if i % 4 == 3 else -day if i % 7 == 6 else 0 * day)
            finish = max(finish, start)
        schedules.set_task_progress(
            session,
            project_id=project_id,
            schedule_id=schedule_id,
            task_key=task.key,
            actual_start=start,
            actual_finish=finish,
            percent_complete=100.0 if finish else 50.0,
            user_id=None,
        )


def _upload_sample(runtime: Runtime, session, project_id: int, sample_ifc: Path) -> int | None:
    models = revisions.list_models(session, project_id=project_id)
    model = next((m for m in models if m.name == "3# 楼 结构+建筑"), None)
    if model is None:
        model = revisions.create_model(
            session, project_id=project_id, name="3# 楼 结构+建筑", discipline="structure", user_id=None
        )
    if revisions.list_revisions(session, project_id=project_id, model_id=model.id):
        return None
    sha256, size = runtime.blobs.put_file(sample_ifc)
    revision = revisions.accept_upload(
        session,
        project_id=project_id,
        model_id=model.id,
        label="P01",
        file_name=sample_ifc.name,
        file_sha256=sha256,
        file_bytes=size,
        user_id=None,
    )
    runtime.queue.enqueue(revision.id)
    log.info("queued the sample building as revision %s of project %s", revision.id, project_id)
    return revision.id


# title, description, kind, severity, element pick (index into the linked elements), days
# until due (negative: overdue), where the loop stands
_DEMO_ISSUES = (
    ("C 轴柱脚露筋", "柱脚混凝土剥落，主筋外露约 20 cm，需凿毛修补。", "quality", "major", 3, 5, "open"),
    ("楼板表面裂缝", "板面出现多条收缩裂缝，宽度约 0.2 mm。", "quality", "minor", 17, -3, "open"),
    ("临边防护缺失", "楼层东侧临边未设防护栏杆。", "safety", "major", 29, 1, "open"),
    ("梁底蜂窝麻面", "梁底局部蜂窝，面积约 0.3 m²。", "quality", "critical", 41, 4, "ready_for_review"),
    ("风管与梁碰撞", "二层风管标高与框架梁冲突，需调整。", "coordination", "minor", 53, 7, "closed"),
)


def _demo_photo(rgb: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), rgb).save(out, "JPEG", quality=70)
    return out.getvalue()


def _raise_demo_issues(runtime: Runtime, session, project_id: int, sample_ifc: Path) -> None:
    """Issues on elements of the sample building (pinned by GlobalId, so they colour every
    revision), once: two open (one overdue), a major hazard with its plan, one waiting for
    re-inspection, one closed, and a notice bundling the open quality findings."""
    from ifc_processing import IfcProcessingError
    from ifc_processing.schedules import read_schedule

    from .domain.issues import Action, NoticeHandling
    from .services import issues, notices
    from .services.auth import principal_named
    from .services.photos import store_upload

    if issues.list_issues(session, project_id=project_id, today=dt.date.today(), limit=1).total:
        return
    try:
        linked = sorted({link.global_id for link in read_schedule(sample_ifc).element_links})
    except IfcProcessingError:
        return
    if not linked:
        return
    inspector, site, bim = (principal_named(session, username=u) for u in ("inspector", "site", "bim"))
    path = orgs.get_project(session, project_id).path
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC)
    created = []

    def attach(issue_id: int, actor, role: str, rgb: tuple[int, int, int], name: str) -> None:
        upload = store_upload(runtime.blobs, iter([_demo_photo(rgb)]), file_name=name, role=role)
        issues.add_photo(
            session, project_id=project_id, issue_id=issue_id, actor=actor, role=role, upload=upload, now=now
        )

    for title, description, kind, severity, pick, due_in, stage in _DEMO_ISSUES:
        raiser = bim if kind == "coordination" else inspector
        detail = issues.create_issue(
            session,
            project_id=project_id,
            project_path=path,
            actor=raiser,
            fields={
                "kind": kind,
                "title": title,
                "description": description,
                "severity": severity,
                "assignee_id": site.user_id,
                "due_date": today + dt.timedelta(days=due_in),
                "global_ids": [linked[pick % len(linked)]],
                "treatment_plan": "立即设置临时防护栏杆并挂警示牌，专人监护，24 小时内完成。"
                if kind == "safety"
                else None,
            },
            now=now,
            today=today,
        )
        created.append(detail)
        attach(detail.id, raiser, "before", (150, 60, 50), "现场.jpg")
        if stage in ("ready_for_review", "closed"):
            attach(detail.id, site, "after", (90, 150, 90), "整改后.jpg")
            issues.take_action(
                session,
                project_id=project_id,
                issue_id=detail.id,
                actor=site,
                action=Action.REPLY,
                reason=None,
                comment="已按要求整改完成，请复查。",
                now=now,
                today=today,
            )
        if stage == "closed":
            issues.take_action(
                session,
                project_id=project_id,
                issue_id=detail.id,
                actor=raiser,
                action=Action.REINSPECT_PASS,
                reason=None,
                comment="复查合格，同意闭合。",
                now=now,
                today=today,
            )
    notices.create_notice(
        session,
        project_id=project_id,
        actor=inspector,
        issue_ids=[
            d.id for d, stage in zip(created, (i[-1] for i in _DEMO_ISSUES), strict=True) if stage == "open"
        ][:2],
        issued_to_company="上海某劳务有限公司",
        issued_to_uscc=None,
        contact_person="张工",
        deadline=today + dt.timedelta(days=5),
        handling=NoticeHandling.RECTIFY,
        required_measures="按图纸及规范整改，完成后上传整改照片并提交复查。",
        cc=("监理单位",),
        now=now,
        today=today,
    )
