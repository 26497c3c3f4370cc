"""Demo portfolio for ``make run``: a construction group's HQ, six regional companies across
China and about fifty projects, so that the product is alive on first start.

What ``seed_demo`` builds (``projects`` of them in all, deterministic from ``seed``; every date
is relative to ``today``):

* HQ, the regions that have projects (华东 EAST, 华南 SOUTH, 华北 NORTH, 西南 SOUTHWEST,
  华中 CENTRAL, 西北 NORTHWEST), and the projects: the first three are the original small demo
  (SH-PD-01, HZ-XS-02, SZ-NS-01), the rest come from a catalogue of real cities, taken region
  by region in turn. Each has its city's WGS-84 point plus a small offset, an address, a
  type, a contract value and planned dates.
* Users, all with the published password ``erji-demo-2026``: ``admin`` and ``hq`` at HQ, one
  regional manager per region (``east``, ``south``, …), a regional quality and safety
  inspector per region (``east-qs``, …), a project manager per project (``pm-hz-xs-02``, …),
  and ``bim``, ``inspector`` and ``site`` on the flagship SH-PD-01.
* The flagship SH-PD-01: the sample building given as ``sample_ifc`` uploaded as revision P01,
  its own IFC work schedule imported with its element links, site progress, and issues at
  every step of the 整改 → 复查 loop with photos and a rectification notice.
* Every other project: a small building from ``sample_models`` (1–3 storeys; each size is
  generated once and uploaded to the projects that use it), its IFC work schedule imported
  with its element links and stretched over the project's superstructure period (which began
  five to seven months before ``today``), site progress over those months, issues raised and
  closed over the same months (dated in the past, through the services, so every issue's
  event chain is intact), and weekly inspection lots by zone and trade.
* Health. Most projects run to plan. In every block of seven projects (in catalogue order,
  shuffled by the seed) one has a serious problem — its schedule slipping (tasks weeks late,
  topping out missed), an overdue 重大隐患, or a backlog of overdue quality findings under a
  rectification notice — and one a warning — a milestone a few days late, an open 重大隐患,
  or a couple of overdue findings; one more has a rework rate rising three weeks in a row in
  zone A (the "risk predicted" alert).
* Every model is processed inline, then the KPIs of the six months before ``today``'s (frozen
  as they are written) and of this month are computed and the alert rules evaluated.

Idempotent: a run adds only what is missing (a project that has its model, schedule, issues
and lots gets nothing more); KPIs of this month are recomputed and alerts re-evaluated. The
demo users share one published password, so this refuses to run outside development mode.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .domain.access import NodeKind, Role
from .domain.errors import Conflict, InvalidInput, NotFound
from .runtime import Runtime
from .services import orgs, revisions, schedules
from .services.access import NodeRef
from .services.auth import create_user

__all__ = ["DEFAULT_PROJECTS", "DEFAULT_SEED", "DEMO_PASSWORD", "MAX_PROJECTS", "DemoResult", "seed_demo"]

log = logging.getLogger(__name__)

DEMO_PASSWORD = "erji-demo-2026"
#: Projects of the full demo (``make run``), the original three included.
DEFAULT_PROJECTS = 50
DEFAULT_SEED = 2026
#: Months of history before ``today``'s month: their KPIs are computed and frozen.
HISTORY_MONTHS = 6

# code, name, manager, manager's display name, inspector's display name
_REGIONS = (
    ("EAST", "华东区域公司", "east", "华东区域经理", "华东区域质安巡检"),
    ("SOUTH", "华南区域公司", "south", "华南区域经理", "华南区域质安巡检"),
    ("NORTH", "华北区域公司", "north", "华北区域经理", "华北区域质安巡检"),
    ("SOUTHWEST", "西南区域公司", "southwest", "西南区域经理", "西南区域质安巡检"),
    ("CENTRAL", "华中区域公司", "central", "华中区域经理", "华中区域质安巡检"),
    ("NORTHWEST", "西北区域公司", "northwest", "西北区域经理", "西北区域质安巡检"),
)
_REGION_NAMES = {code: name for code, name, *_ in _REGIONS}

FLAGSHIP = "SH-PD-01"
# The original small demo, unchanged: code, name, region, lon, lat, address, type,
# contract value (CNY), start, finish.
_PROJECTS = (
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

# The rest of the portfolio, per region in the order projects are taken: code, name, type,
# city centre (WGS-84 lon, lat), address.
# fmt: off
_CATALOGUE: dict[str, tuple[tuple[str, str, str, float, float, str], ...]] = {
    "NORTH": (
        ("BJ-TZ-01", "北京城市副中心行政办公区 C2 楼", "office", 116.4074, 39.9042,
         "北京市通州区运河东大街 57 号"),
        ("TJ-BH-01", "天津滨海新区海河特大桥", "bridge", 117.2010, 39.0842,
         "天津市滨海新区海河外滩西侧"),
        ("SJ-ZD-01", "石家庄正定新区第一医院", "hospital", 114.5149, 38.0428,
         "石家庄市正定新区太行大街 9 号"),
        ("XG-RD-01", "雄安新区容东片区安置房 C 组团", "residential", 115.8660, 39.0502,
         "河北雄安新区容东片区金湖路"),
        ("TY-XD-01", "太原小店区人才公寓", "residential", 112.5489, 37.8706,
         "太原市小店区长治路 226 号"),
        ("BJ-DX-02", "北京大兴临空区物流中心", "industrial", 116.4074, 39.9042,
         "北京市大兴区礼贤镇临空经济区"),
        ("HH-SH-01", "呼和浩特赛罕区全民健身中心", "public", 111.7492, 40.8426,
         "呼和浩特市赛罕区敕勒川大街"),
        ("TS-CF-01", "唐山曹妃甸港区综合服务楼", "office", 118.1802, 39.6309,
         "唐山市曹妃甸区港口路 18 号"),
        ("TJ-XQ-02", "天津西青区第一中学新校区", "school", 117.2010, 39.0842,
         "天津市西青区中北镇汇智路"),
    ),
    "SOUTHWEST": (
        ("CD-TF-01", "成都天府新区人才公寓 3# 楼", "residential", 104.0668, 30.5728,
         "成都市天府新区兴隆湖东路 99 号"),
        ("CQ-LJ-01", "重庆两江新区悦来小学", "school", 106.5516, 29.5630,
         "重庆市渝北区悦来大道 6 号"),
        ("KM-CG-01", "昆明呈贡新区人民医院", "hospital", 102.8329, 24.8801,
         "昆明市呈贡区彩云北路 1 号"),
        ("GY-GS-01", "贵阳地铁 3 号线观山湖车辆段", "metro", 106.6302, 26.6477,
         "贵阳市观山湖区金阳南路"),
        ("CD-GX-02", "成都高新区西部智谷研发楼", "office", 104.0668, 30.5728,
         "成都市高新区天府大道中段 1366 号"),
        ("CQ-YZ-02", "重庆嘉陵江大桥加固改造", "bridge", 106.5516, 29.5630,
         "重庆市渝中区嘉陵江滨江路"),
        ("MY-KJ-01", "绵阳科技城电子厂房", "industrial", 104.6796, 31.4675,
         "绵阳市涪城区科技城大道 8 号"),
        ("LS-CG-01", "拉萨城关区安居工程", "residential", 91.1409, 29.6456,
         "拉萨市城关区江苏大道"),
    ),
    "CENTRAL": (
        ("WH-GG-01", "武汉光谷科创大厦", "office", 114.3055, 30.5928,
         "武汉市东湖高新区光谷大道 77 号"),
        ("CS-YL-01", "长沙湘江新区麓谷中学", "school", 112.9388, 28.2282,
         "长沙市岳麓区麓谷大道 627 号"),
        ("ZZ-ZD-01", "郑州郑东新区中心医院", "hospital", 113.6254, 34.7466,
         "郑州市金水区商务外环路 8 号"),
        ("WH-HY-02", "武汉地铁 12 号线汉阳车辆段", "metro", 114.3055, 30.5928,
         "武汉市汉阳区四新大道"),
        ("NC-HG-01", "南昌红谷滩人才公寓", "residential", 115.8582, 28.6829,
         "南昌市红谷滩区赣江中大道 1218 号"),
        ("YC-WJ-01", "宜昌伍家岗长江大桥引桥", "bridge", 111.2865, 30.6919,
         "宜昌市伍家岗区沿江大道"),
        ("LY-LL-01", "洛阳洛龙区保障性住房", "residential", 112.4540, 34.6197,
         "洛阳市洛龙区开元大道 256 号"),
        ("XY-DJ-01", "襄阳东津新区会展中心", "public", 112.1224, 32.0090,
         "襄阳市襄州区东津大道"),
    ),
    "NORTHWEST": (
        ("XA-GX-01", "西安高新区软件新城 C 座", "office", 108.9398, 34.3416,
         "西安市雁塔区天谷八路 156 号"),
        ("LZ-CG-01", "兰州城关区第一人民医院住院楼", "hospital", 103.8343, 36.0611,
         "兰州市城关区东岗西路 1 号"),
        ("XA-CB-02", "西安地铁 14 号线浐灞车辆段", "metro", 108.9398, 34.3416,
         "西安市灞桥区浐灞大道"),
        ("UR-SY-01", "乌鲁木齐沙依巴克区第九中学", "school", 87.6168, 43.8256,
         "乌鲁木齐市沙依巴克区西虹西路"),
        ("NX-JF-01", "银川金凤区安置房", "residential", 106.2309, 38.4872,
         "银川市金凤区亲水大街 16 号"),
        ("XN-CX-01", "西宁城西区人才公寓", "residential", 101.7782, 36.6171,
         "西宁市城西区五四西路 7 号"),
        ("XA-QJ-03", "西安曲江文化艺术中心", "public", 108.9398, 34.3416,
         "西安市雁塔区曲江池东路"),
    ),
    "EAST": (
        ("NJ-JB-01", "南京江北新区人才公寓 A 地块", "residential", 118.7969, 32.0603,
         "南京市浦口区浦滨路 320 号"),
        ("SU-GY-01", "苏州工业园区国际学校扩建", "school", 120.5853, 31.2989,
         "苏州市工业园区星湖街 218 号"),
        ("NB-YZ-01", "宁波鄞州第二医院门诊综合楼", "hospital", 121.5440, 29.8683,
         "宁波市鄞州区前河北路 41 号"),
        ("HF-BH-01", "合肥滨湖科学城实验楼", "office", 117.2272, 31.8206,
         "合肥市包河区滨湖大道 5 号"),
        ("QD-HD-01", "青岛地铁 6 号线黄岛车辆段", "metro", 120.3826, 36.0671,
         "青岛市黄岛区江山南路"),
        ("XM-JM-01", "厦门集美新城中学", "school", 118.0894, 24.4798,
         "厦门市集美区杏林湾路 99 号"),
        ("JN-LX-01", "济南中央商务区 B3 写字楼", "office", 117.1205, 36.6512,
         "济南市历下区经十路 9999 号"),
        ("FZ-CS-01", "福州仓山区保障性住房", "residential", 119.2965, 26.0745,
         "福州市仓山区盖山路 68 号"),
        ("WX-XW-01", "无锡新吴区集成电路厂房", "industrial", 120.3119, 31.4912,
         "无锡市新吴区长江路 21 号"),
        ("SH-MH-02", "上海闵行区中心医院扩建", "hospital", 121.4737, 31.2304,
         "上海市闵行区莘松路 170 号"),
    ),
    "SOUTH": (
        ("GZ-TH-01", "广州天河智慧城产业园二期", "office", 113.2644, 23.1291,
         "广州市天河区高唐路 230 号"),
        ("FS-SD-01", "佛山顺德区人民医院新院区", "hospital", 113.1214, 23.0215,
         "佛山市顺德区大良街道德和路"),
        ("NN-WX-01", "南宁地铁 5 号线五象车辆段", "metro", 108.3669, 22.8170,
         "南宁市良庆区五象大道"),
        ("DG-SL-01", "东莞松山湖研发中心", "office", 113.7518, 23.0205,
         "东莞市松山湖高新区工业西路 6 号"),
        ("HK-JD-01", "海口江东新区安置房", "residential", 110.1999, 20.0440,
         "海口市美兰区江东大道"),
        ("GZ-HP-02", "广州黄埔中新知识城小学", "school", 113.2644, 23.1291,
         "广州市黄埔区九龙大道"),
        ("SZ-BA-02", "深圳宝安西乡河大桥改造", "bridge", 114.0579, 22.5431,
         "深圳市宝安区西乡街道宝源路"),
        ("ZH-HQ-01", "珠海横琴口岸综合体", "commercial", 113.5767, 22.2707,
         "珠海市横琴新区口岸路"),
        ("SY-HT-01", "三亚海棠湾度假酒店", "hotel", 109.5119, 18.2528,
         "三亚市海棠区海棠北路"),
    ),
}
# fmt: on
#: The order regions take turns in after the original three projects.
_TURNS = ("NORTH", "SOUTHWEST", "CENTRAL", "NORTHWEST", "EAST", "SOUTH")
MAX_PROJECTS = len(_PROJECTS) + sum(len(entries) for entries in _CATALOGUE.values())

# Contract value range per project type, 亿元 (1e8 CNY).
_VALUE_RANGE = {
    "residential": (3.0, 9.0),
    "office": (4.0, 12.0),
    "hospital": (6.0, 18.0),
    "school": (1.5, 4.5),
    "metro": (8.0, 25.0),
    "bridge": (3.0, 15.0),
    "industrial": (2.0, 8.0),
    "public": (3.0, 10.0),
    "commercial": (5.0, 15.0),
    "hotel": (4.0, 10.0),
}
# Sample building sizes (storeys, bays along X, bays along Y) and how often each is used:
# 40 to 210 elements, so fifty models process in well under a minute.
_SIZES = ((1, 2, 1), (2, 2, 1), (2, 3, 2), (3, 3, 2))
_SIZE_WEIGHTS = (1, 3, 3, 2)

_USERS = (
    ("admin", Role.ADMIN, "HQ", "系统管理员"),
    ("hq", Role.HQ_VIEWER, "HQ", "集团总部"),
    ("bim", Role.BIM_COORDINATOR, FLAGSHIP, "BIM 协调员"),
    ("inspector", Role.INSPECTOR, FLAGSHIP, "质量检查员"),
    ("site", Role.SITE_MANAGER, FLAGSHIP, "项目经理"),
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"


# --------------------------------------------------------------------------- the plan


class Health:
    """What a project's demo data is made to show (its light follows from the data)."""

    GREEN = "green"
    SLIPPING = "red:schedule"  # tasks more than five days late, topping out missed, SPI down
    HAZARD_OVERDUE = "red:safety"  # an open 重大隐患 past its rectification deadline
    QUALITY_BACKLOG = "red:quality"  # five findings overdue under a rectification notice
    MILESTONE_LATE = "yellow:schedule"  # topping out due two to four days ago, not reached yet
    HAZARD_OPEN = "yellow:safety"  # an open 重大隐患, not yet due
    FINDINGS_OVERDUE = "yellow:quality"  # two findings past their due date


_RED = (Health.SLIPPING, Health.HAZARD_OVERDUE, Health.QUALITY_BACKLOG)
_YELLOW = (Health.MILESTONE_LATE, Health.HAZARD_OPEN, Health.FINDINGS_OVERDUE)
_BLOCK = 7  # one red, one yellow and one rising-rework project in every block of seven


@dataclass(frozen=True, slots=True)
class _Plan:
    """One project of the portfolio: its details and what its demo data shows."""

    ordinal: int  # place in the portfolio, 0 = the flagship
    code: str
    name: str
    region: str
    lon: float
    lat: float
    address: str
    kind: str
    value_cny: float
    planned_start: dt.date
    planned_finish: dt.date
    health: str = Health.GREEN
    rework_rising: bool = False
    size: tuple[int, int, int] = (2, 2, 1)
    works_start: dt.date | None = None  # the superstructure schedule, stretched over these days
    works_finish: dt.date | None = None
    topping_out: dt.date | None = None  # … or stretched so that its topping out falls on this day


def _portfolio(count: int, seed: int, today: dt.date) -> list[_Plan]:
    """The first ``count`` projects of the portfolio, deterministic from ``seed`` and ``today``."""
    if not 1 <= count <= MAX_PROJECTS:
        raise InvalidInput(f"the demo has 1 to {MAX_PROJECTS} projects, not {count}")
    entries = [
        (code, name, region, lon, lat, address, kind)
        for code, name, region, lon, lat, address, kind, *_ in _PROJECTS
    ]
    fixed = {p[0]: p for p in _PROJECTS}
    queues = {region: list(items) for region, items in _CATALOGUE.items()}
    while any(queues.values()):
        for region in _TURNS:
            if queues[region]:
                code, name, kind, lon, lat, address = queues[region].pop(0)
                entries.append((code, name, region, lon, lat, address, kind))
    plans = []
    for ordinal, (code, name, region, lon, lat, address, kind) in enumerate(entries[:count]):
        rng = random.Random(f"{seed}:{code}")
        if code in fixed:
            value, start, finish = fixed[code][7:10]
        else:
            lon = round(lon + rng.uniform(-0.06, 0.06), 5)
            lat = round(lat + rng.uniform(-0.05, 0.05), 5)
            low, high = _VALUE_RANGE[kind]
            value = round(rng.uniform(low, high), 2) * 1e8
        works_start = today - dt.timedelta(days=rng.randint(175, 215))
        works_finish = today + dt.timedelta(days=rng.randint(60, 200))
        if code not in fixed:
            start = works_start - dt.timedelta(days=rng.randint(60, 240))
            finish = works_finish + dt.timedelta(days=rng.randint(150, 420))
        size = rng.choices(_SIZES, weights=_SIZE_WEIGHTS)[0]
        plans.append(
            _Plan(
                ordinal,
                code,
                name,
                region,
                lon,
                lat,
                address,
                kind,
                value,
                start,
                finish,
                size=size,
                works_start=works_start,
                works_finish=works_finish,
            )
        )
    # Health by blocks of seven (the flagship is left as it is): one red, one yellow and one
    # rising rework rate in each, shuffled by the seed; red and yellow causes take turns.
    others = plans[1:]
    reds = yellows = 0
    for block_start in range(0, len(others), _BLOCK):
        block = others[block_start : block_start + _BLOCK]
        slots = list(range(_BLOCK))
        random.Random(f"{seed}:block:{block_start // _BLOCK}").shuffle(slots)
        red, yellow, rework = slots[0], slots[1], slots[2]
        if len(block) < _BLOCK:  # a short last block still gets its red and its yellow
            red, yellow, rework = red % len(block), yellow % len(block), rework % len(block)
            if yellow == red:
                yellow = (red + 1) % len(block)
        for index, plan in enumerate(block):
            changes: dict = {}
            if index == red:
                changes["health"] = _RED[reds % len(_RED)]
                reds += 1
            elif index == yellow:
                changes["health"] = _YELLOW[yellows % len(_YELLOW)]
                yellows += 1
            if index == rework and changes.get("health") not in _RED:
                changes["rework_rising"] = True
            late = random.Random(f"{seed}:{plan.code}:late")
            if changes.get("health") == Health.SLIPPING:  # topping out due weeks ago, and missed
                changes["topping_out"] = today - dt.timedelta(days=late.randint(12, 25))
            elif changes.get("health") == Health.MILESTONE_LATE:
                changes["topping_out"] = today - dt.timedelta(days=late.randint(2, 4))
            if changes:
                others[block_start + index] = dataclasses.replace(plan, **changes)
    return [plans[0], *others]


# --------------------------------------------------------------------------- the entry point


@dataclass(frozen=True, slots=True)
class DemoResult:
    users: tuple[str, ...]  # every demo user name
    project_id: int  # the flagship's
    revision_id: int | None  # the flagship's sample revision, when uploaded by this run
    projects: tuple[str, ...] = ()  # project codes, in portfolio order
    lights: dict[str, int] = dataclasses.field(default_factory=dict)  # this month's, by light
    seconds: float = 0.0

    def describe(self) -> str:
        """What ``twin demo`` prints: the log-ins, and the portfolio's lights."""
        named = [u for u in self.users if not u.startswith("pm-") and not u.endswith("-qs")]
        inspectors = [u for u in self.users if u.endswith("-qs")]
        managers = [u for u in self.users if u.startswith("pm-")]
        lines = [f"demo users (password {DEMO_PASSWORD}): {', '.join(named)}"]
        if inspectors:
            lines.append(f"  regional quality and safety inspectors: {', '.join(inspectors)}")
        if managers:
            lines.append(
                f"  a project manager per project, pm-<project code in lower case>: {', '.join(managers[:3])}"
                + (f", … ({len(managers)} in all)" if len(managers) > 3 else "")
            )
        if self.lights:
            lit = ", ".join(f"{count} {light}" for light, count in self.lights.items() if count)
            lines.append(
                f"demo portfolio: {len(self.projects)} projects ({lit}), loaded in {self.seconds:.0f} s"
            )
        return "\n".join(lines)


def seed_demo(
    runtime: Runtime,
    *,
    sample_ifc: Path | None,
    projects: int = DEFAULT_PROJECTS,
    seed: int = DEFAULT_SEED,
    today: dt.date | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Create whatever of the demo portfolio is missing (see the module's doc); upload
    ``sample_ifc`` to the flagship once. Without a sample (``None``) only the organisation
    and the users are created."""
    if not runtime.settings.development:
        raise Conflict("the demo data uses a published password: run it in development mode only")
    started = time.perf_counter()
    today = today or dt.date.today()
    now = dt.datetime.now(dt.UTC)
    plans = _portfolio(projects, seed, today)
    say = on_progress or (lambda _: None)
    with runtime.sessions() as session:
        hq = _ensure(session, NodeKind.HQ, "HQ", "集团总部", None)
        used = {plan.region for plan in plans}
        regions = {
            code: _ensure(session, NodeKind.REGION, code, name, hq)
            for code, name, *_ in _REGIONS
            if code in used
        }
        project_ids = {}
        for plan in plans:
            try:
                project_ids[plan.code] = orgs.find_node(session, plan.code).id
            except NotFound:
                region = regions[plan.region]
                project = orgs.create_project(
                    session,
                    region=NodeRef(region.id, NodeKind.REGION, region.path),
                    code=plan.code,
                    name=plan.name,
                    site_lon=plan.lon,
                    site_lat=plan.lat,
                    address=plan.address,
                    project_type=plan.kind,
                    contract_value_cny=plan.value_cny,
                    planned_start=plan.planned_start,
                    planned_finish=plan.planned_finish,
                )
                project_ids[plan.code] = project.id
        users = _ensure_users(session, plans, seed)
        session.commit()
        project_id = project_ids[FLAGSHIP]
        revision_id = None
        if sample_ifc:
            revision_id = _upload_sample(runtime, session, project_id, sample_ifc, plans[0])
            _import_sample_schedule(session, project_id, sample_ifc, today=today)
            _raise_demo_issues(runtime, session, project_id, sample_ifc, today=today, now=now)
            if revision_id is not None:
                say(f"[1/{len(plans)}] {FLAGSHIP} {plans[0].name}")
            with tempfile.TemporaryDirectory(prefix="erji-demo-") as scratch:
                sizes = _SampleSizes(Path(scratch))
                photos = _Photos(runtime)
                for plan in plans[1:]:
                    if _seed_project(
                        runtime, session, plan, project_ids[plan.code], sizes, photos, today=today, seed=seed
                    ):
                        say(f"[{plan.ordinal + 1}/{len(plans)}] {plan.code} {plan.name}")
            say("KPIs of the last six months and this one, alerts")
            lights = _evaluate(session, today=today, now=now, hq_id=hq.id, hq_path=hq.path)
        else:
            lights = {}
    return DemoResult(
        users=users,
        project_id=project_id,
        revision_id=revision_id,
        projects=tuple(plan.code for plan in plans),
        lights=lights,
        seconds=time.perf_counter() - started,
    )


def _ensure(session, kind: NodeKind, code: str, name: str, parent) -> object:
    try:
        return orgs.find_node(session, code)
    except NotFound:
        node = orgs.create_node(
            session, kind=kind, code=code, name=name, parent_id=parent.id if parent else None
        )
        session.commit()
        return node


def _ensure_users(session, plans: list[_Plan], seed: int) -> tuple[str, ...]:
    """The demo users of these projects and their regions, each created once."""
    wanted = [_USERS[0], _USERS[1]]
    used = {plan.region for plan in plans}
    for code, _, manager, title, _ in _REGIONS:
        if code in used:
            wanted.append((manager, Role.REGIONAL_MANAGER, code, title))
    wanted += _USERS[2:]
    inspected = {plan.region for plan in plans[1:]}  # the flagship has its own inspector
    for code, *_, inspector_title in _REGIONS:
        if code in inspected:
            wanted.append((_inspector(code), Role.INSPECTOR, code, inspector_title))
    for plan in plans[1:]:
        surname = random.Random(f"{seed}:{plan.code}:pm").choice(_SURNAMES)
        wanted.append((_manager(plan.code), Role.SITE_MANAGER, plan.code, f"{surname}经理（项目经理）"))
    from .services.auth import principal_named

    for username, role, node, display in wanted:
        with contextlib.suppress(NotFound):
            principal_named(session, username=username)
            continue  # there already (checked first: hashing a password takes a while)
        with contextlib.suppress(Conflict):  # created a moment ago by another run
            create_user(
                session,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                node_code=node,
                display_name=display,
            )
    return tuple(u[0] for u in wanted)


def _inspector(region: str) -> str:
    return f"{region.lower()}-qs"


def _manager(project_code: str) -> str:
    return f"pm-{project_code.lower()}"


# --------------------------------------------------------------------------- the flagship

_DEMO_SCHEDULE = "主体结构施工进度计划"


def _import_sample_schedule(session, project_id: int, sample_ifc: Path, *, today: dt.date) -> None:
    """The sample building's own IFC work schedule, with its element links, once — moved in
    time so that today falls three quarters of the way through it (a demo opened in any
    year shows a site in full swing, not a building two years late)."""
    from ifc_processing import IfcProcessingError
    from ifc_processing.schedules import read_schedule

    if any(s.name == _DEMO_SCHEDULE for s in schedules.list_schedules(session, project_id=project_id)):
        return
    try:
        record = _shifted(read_schedule(sample_ifc), today=today)
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
    _report_demo_progress(session, project_id, info.schedule_id, today=today)


def _shifted(record, *, today: dt.date):
    """``record`` with every date moved by whole weeks (weekdays and the work calendar keep
    their meaning) so that ``today`` lies 75 % of the way from its first start to its last
    finish."""
    starts = [t.planned_start for t in record.tasks if t.planned_start]
    finishes = [t.planned_finish for t in record.tasks if t.planned_finish]
    if not starts or not finishes:
        return record
    first, last = min(starts), max(finishes)
    target = first + (last - first) * 3 // 4
    shift = dt.timedelta(weeks=round((today - target).days / 7))

    def move(day: dt.date | None) -> dt.date | None:
        return day + shift if day else None

    fields = (
        "planned_start",
        "planned_finish",
        "baseline_start",
        "baseline_finish",
        "actual_start",
        "actual_finish",
    )
    return dataclasses.replace(
        record,
        data_date=move(record.data_date),
        tasks=tuple(
            dataclasses.replace(task, **{name: move(getattr(task, name)) for name in fields})
            for task in record.tasks
        ),
        calendars=tuple(
            dataclasses.replace(c, holidays=tuple(day + shift for day in c.holidays))
            for c in record.calendars
        ),
    )


def _report_demo_progress(session, project_id: int, schedule_id: int, *, today: dt.date) -> None:
    """Site progress as of ``today``, so the 4D timeline shows every status: tasks due by now
    done (one in four three days late, one in seven a day early), those under way started
    (one in five a day late), the rest not started — deterministic, by planned start order."""
    tasks = [
        t
        for t in schedules.task_table(session, project_id=project_id, schedule_id=schedule_id)
        if not t.is_summary and t.planned_start and t.planned_finish
    ]
    tasks.sort(key=lambda t: (t.planned_start, t.index))
    day = dt.timedelta(days=1)
    for i, task in enumerate(tasks):
        start = task.planned_start + (day if i % 5 == 4 else 0 * day)
        if start > today:
            continue
        finish = task.planned_finish + (3 * day if i % 4 == 3 else -day if i % 7 == 6 else 0 * day)
        finish = max(finish, start)
        if finish >= today:
            finish = None  # under way
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


def _upload_sample(runtime: Runtime, session, project_id: int, sample_ifc: Path, plan: _Plan) -> int | None:
    """The sample, surveyed in at the flagship's site, as revision P01 of its model, once,
    processed here and now."""
    models = revisions.list_models(session, project_id=project_id)
    model = next((m for m in models if m.name == "3# 楼 结构+建筑"), None)
    if model is None:
        model = revisions.create_model(
            session, project_id=project_id, name="3# 楼 结构+建筑", discipline="structure", user_id=None
        )
    existing = revisions.list_revisions(session, project_id=project_id, model_id=model.id)
    if existing:
        _process(runtime, existing[-1].id)  # a run cut short before processing it
        return None
    with tempfile.TemporaryDirectory(prefix="erji-demo-") as scratch:
        sited = _sited(sample_ifc, Path(scratch) / sample_ifc.name, lon_deg=plan.lon, lat_deg=plan.lat)
        sha256, size = runtime.blobs.put_file(sited)
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
    _process(runtime, revision.id)
    log.info("processed the sample building as revision %s of project %s", revision.id, project_id)
    return revision.id


def _sited(source: Path, target: Path, *, lon_deg: float, lat_deg: float) -> Path:
    """A copy of a sample building surveyed in at a project's site, as a surveyor would set it
    up: IfcSite RefLatitude/RefLongitude at the site, and an IfcMapConversion into the CGCS2000
    3-degree Gauss-Krüger zone nearest the site (EPSG:4534 is 75°E … EPSG:4554 is 135°E),
    true north turned by the grid convergence there. A model without a map conversion
    (IFC2X3) is copied as it is."""
    import math

    import ifcopenshell
    import ifcopenshell.api.georeference
    import pyproj
    from ifcopenshell.util.geolocation import dd2dms

    import geodata

    model = ifcopenshell.open(str(source))
    conversions = model.by_type("IfcMapConversion")
    if conversions:
        meridian = min(max(round(lon_deg / 3) * 3, 75), 135)
        epsg = 4534 + (meridian - 75) // 3
        conversion = conversions[0]
        conversion.Eastings, conversion.Northings = geodata.transformer(
            "EPSG:4490", f"EPSG:{epsg}"
        ).transform(lon_deg, lat_deg)
        crs = conversion.TargetCRS
        crs.Name = f"EPSG:{epsg}"
        crs.Description = f"CGCS2000 / 3-degree Gauss-Kruger CM {meridian}E"
        crs.MapZone = f"3-degree CM {meridian}E"
        convergence = math.radians(
            pyproj.Proj(f"EPSG:{epsg}").get_factors(lon_deg, lat_deg).meridian_convergence
        )
        ifcopenshell.api.georeference.edit_true_north(
            model, true_north=(-math.sin(convergence), math.cos(convergence))
        )
    for site in model.by_type("IfcSite"):
        site.RefLatitude = dd2dms(lat_deg, use_us=True)
        site.RefLongitude = dd2dms(lon_deg, use_us=True)
    model.write(str(target))
    return target


def _process(runtime: Runtime, revision_id: int) -> None:
    """Process a revision in this process (a no-op once it has succeeded or failed)."""
    from .services.processing import process_revision

    process_revision(runtime.processing, revision_id)


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


def _raise_demo_issues(
    runtime: Runtime, session, project_id: int, sample_ifc: Path, *, today: dt.date, now: dt.datetime
) -> None:
    """Issues on elements of the sample building (pinned by GlobalId, so they colour every
    revision), once: two open (one overdue), a major hazard with its plan, one waiting for
    re-inspection, one closed, and a notice bundling the open quality findings."""
    from ifc_processing import IfcProcessingError
    from ifc_processing.schedules import read_schedule

    from .domain.issues import Action, NoticeHandling
    from .services import issues, notices
    from .services.auth import principal_named
    from .services.photos import store_upload

    if issues.list_issues(session, project_id=project_id, today=today, limit=1).total:
        return
    try:
        linked = sorted({link.global_id for link in read_schedule(sample_ifc).element_links})
    except IfcProcessingError:
        return
    if not linked:
        return
    inspector, site, bim = (principal_named(session, username=u) for u in ("inspector", "site", "bim"))
    path = orgs.get_project(session, project_id).path
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


# --------------------------------------------------------------------------- the portfolio


class _SampleSizes:
    """Sample buildings by size, each generated once into ``folder`` (with its schedule)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[tuple[int, int, int], Path] = {}

    def file(self, size: tuple[int, int, int]) -> Path:
        if size not in self._files:
            from sample_models.generate import write_building

            storeys, bays_x, bays_y = size
            self._files[size] = write_building(
                self.folder / f"demo-{storeys}F-{bays_x}x{bays_y}.ifc",
                storeys=storeys,
                bays_x=bays_x,
                bays_y=bays_y,
            )
        return self._files[size]


class _Photos:
    """The two photos every demo finding carries (stored once, attached to many)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._uploads: dict[str, object] = {}

    def __getitem__(self, role: str):
        if role not in self._uploads:
            from .services.photos import store_upload

            rgb, name = {"before": ((150, 60, 50), "现场.jpg"), "after": ((90, 150, 90), "整改后.jpg")}[role]
            self._uploads[role] = store_upload(
                self._runtime.blobs, iter([_demo_photo(rgb)]), file_name=name, role=role
            )
        return self._uploads[role]


_MODEL_NAME = "主体结构模型"


def _seed_project(
    runtime: Runtime,
    session,
    plan: _Plan,
    project_id: int,
    sizes: _SampleSizes,
    photos: _Photos,
    *,
    today: dt.date,
    seed: int,
) -> bool:
    """Model, schedule and progress, issues and lots of one project, each once. True if
    anything was added."""
    from .services import issues, portfolio

    added = False
    revision_id, uploaded = _ensure_model(runtime, session, project_id, plan, sizes)
    added |= uploaded
    schedule = next(
        (s for s in schedules.list_schedules(session, project_id=project_id) if s.name == _DEMO_SCHEDULE),
        None,
    )
    if schedule is None:
        schedule_id = _import_stretched_schedule(session, project_id, plan, sizes.file(plan.size))
        added = True
    else:
        schedule_id = schedule.id
    tasks = schedules.task_table(session, project_id=project_id, schedule_id=schedule_id)
    manager = _principal(session, _manager(plan.code))
    if not any(t.reported for t in tasks):
        _report_progress(session, project_id, schedule_id, tasks, plan, today, seed, manager.user_id)
        added = True
    if not issues.list_issues(session, project_id=project_id, today=today, limit=1).total:
        linked = sorted(schedules.resolved_links(session, schedule_id=schedule_id, revision_id=revision_id))
        _raise_findings(session, project_id, plan, revision_id, linked, photos, today, seed)
        added = True
    if not portfolio.list_lots(session, project_id=project_id, limit=1):
        _record_lots(
            session, project_id, plan, today, seed, _principal(session, _inspector(plan.region)).user_id
        )
        added = True
    return added


def _principal(session, username: str):
    from .services.auth import principal_named

    return principal_named(session, username=username)


def _ensure_model(
    runtime: Runtime, session, project_id: int, plan: _Plan, sizes: _SampleSizes
) -> tuple[int, bool]:
    """The project's structural model with the sample as revision P01, processed: (its id,
    whether it was uploaded now)."""
    model = next(
        (m for m in revisions.list_models(session, project_id=project_id) if m.name == _MODEL_NAME), None
    )
    if model is None:
        model = revisions.create_model(
            session, project_id=project_id, name=_MODEL_NAME, discipline="structure", user_id=None
        )
    existing = revisions.list_revisions(session, project_id=project_id, model_id=model.id)
    if existing:
        _process(runtime, existing[-1].id)
        return existing[-1].id, False
    sited = _sited(
        sizes.file(plan.size), sizes.folder / f"{plan.code}.ifc", lon_deg=plan.lon, lat_deg=plan.lat
    )
    sha256, size = runtime.blobs.put_file(sited)
    revision = revisions.accept_upload(
        session,
        project_id=project_id,
        model_id=model.id,
        label="P01",
        file_name=f"{plan.code}-结构.ifc",
        file_sha256=sha256,
        file_bytes=size,
        user_id=None,
    )
    _process(runtime, revision.id)
    return revision.id, True


def _import_stretched_schedule(session, project_id: int, plan: _Plan, sample: Path) -> int:
    """The sample's IFC work schedule with its element links, its dates stretched over the
    project's superstructure period."""
    from ifc_processing.schedules import read_schedule

    record = _stretch(
        read_schedule(sample), plan.works_start, plan.works_finish, topping_out=plan.topping_out
    )
    info = schedules.import_schedule(
        session,
        project_id=project_id,
        name=_DEMO_SCHEDULE,
        record=record,
        file_name=f"{plan.code}-结构.ifc",
        file_sha256=hashlib.sha256(sample.read_bytes()).hexdigest(),
        user_id=None,
    )
    return info.schedule_id


def _stretch(record, start: dt.date, finish: dt.date, *, topping_out: dt.date | None = None):
    """``record`` with every date mapped linearly from its own span onto ``start … finish``
    — or onto ``start …`` whatever end puts its last milestone (topping out) on
    ``topping_out``. A task ending on day ``d`` ends where day ``d + 1`` begins, so
    back-to-back tasks stay back to back; milestones keep one day."""
    dates = [t.planned_start for t in record.tasks if t.planned_start] + [
        t.planned_finish for t in record.tasks if t.planned_finish
    ]
    first, last = min(dates), max(dates)
    scale = ((finish - start).days + 1) / ((last - first).days + 1)
    milestones = [t.planned_finish for t in record.tasks if t.is_milestone and t.planned_start != first]
    if topping_out is not None and milestones:
        scale = ((topping_out - start).days + 1) / ((max(milestones) - first).days + 1)

    def begin(day: dt.date | None) -> dt.date | None:
        return None if day is None else start + dt.timedelta(days=round((day - first).days * scale))

    def end(day: dt.date | None) -> dt.date | None:
        return None if day is None else start + dt.timedelta(days=round(((day - first).days + 1) * scale) - 1)

    tasks = []
    for task in record.tasks:
        if task.is_milestone:
            day = begin(task.planned_start) if task.planned_start == first else end(task.planned_finish)
            new_start = new_finish = day
        else:
            new_start, new_finish = begin(task.planned_start), end(task.planned_finish)
        tasks.append(
            dataclasses.replace(
                task,
                planned_start=new_start,
                planned_finish=new_finish,
                duration_days=None if task.duration_days is None else round(task.duration_days * scale, 1),
            )
        )
    return dataclasses.replace(record, tasks=tuple(tasks))


def _report_progress(
    session, project_id: int, schedule_id: int, tasks, plan: _Plan, today: dt.date, seed: int, user_id: int
) -> None:
    """Six months of site progress up to ``today``, task by task (see ``_actual_dates``)."""
    rng = random.Random(f"{seed}:{plan.code}:progress")
    leaves = sorted(
        (t for t in tasks if not t.is_summary and t.planned_start and t.planned_finish),
        key=lambda t: (t.planned_start, t.index),
    )
    for task in leaves:
        actual = _actual_dates(task, plan, today, rng)
        if actual is None:
            continue  # not started (or not reached)
        start, finish = actual
        span = max((task.planned_finish - start).days + 1, 1)
        schedules.set_task_progress(
            session,
            project_id=project_id,
            schedule_id=schedule_id,
            task_key=task.key,
            actual_start=start,
            actual_finish=finish,
            percent_complete=100.0
            if finish
            else float(min(95, max(5, round(100 * (today - start).days / span)))),
            user_id=user_id,
        )


def _actual_dates(
    task, plan: _Plan, today: dt.date, rng: random.Random
) -> tuple[dt.date, dt.date | None] | None:
    """A task's actual start and finish (``None``: not finished) on ``today``, or ``None`` if
    it has not started.

    On plan: started on its day or the next, finished up to two days early or late — never
    late in the last two weeks, so this month's SPI is sound — and every task due by today
    is finished. A slipping project finished the tasks due two to three months ago six to
    ten days late, and has not finished any due since (nor reached topping out). A project
    whose milestone is late has not reached topping out, due a few days ago."""
    day = dt.timedelta(days=1)
    planned_start, planned_finish = task.planned_start, task.planned_finish
    if plan.health == Health.SLIPPING and planned_finish >= today - 80 * day:
        if task.is_milestone:
            return None
        start = planned_start + rng.randint(1, 4) * day
        if planned_finish < today - 45 * day:
            return start, planned_finish + rng.randint(6, 10) * day
        start = planned_start + rng.randint(4, 10) * day
        return (start, None) if start <= today else None
    if task.is_milestone:
        if planned_finish > today or (
            plan.health == Health.MILESTONE_LATE and planned_finish == plan.topping_out
        ):
            return None
        return planned_finish, planned_finish
    start = planned_start + (day if planned_start < planned_finish and rng.random() < 0.25 else 0 * day)
    slip = rng.choice((-2, -1, 0, 0, 0, 0, 1, 2))
    if planned_finish >= today - 14 * day:
        slip = min(slip, 0)
    finish = max(planned_finish + slip * day, start)
    if start > today:
        return None
    return (start, finish) if finish <= today else (start, None)


# category, title, description, severity (quality: minor / major / critical)
_QUALITY = (
    ("钢筋工程", "柱纵筋保护层厚度不足", "抽查 KZ 柱纵筋保护层实测 15 mm，设计要求 25 mm。", "major"),
    ("钢筋工程", "梁箍筋加密区间距超差", "KL 梁加密区箍筋间距实测 130 mm，设计 100 mm。", "minor"),
    ("钢筋工程", "板面负筋踩踏下沉", "楼板支座负筋被踩踏，有效高度不足，需垫设马凳筋。", "minor"),
    ("模板工程", "梁侧模拼缝不严", "梁侧模拼缝 3~5 mm，浇筑时有漏浆风险。", "minor"),
    ("模板工程", "柱模板垂直度超差", "KZ 柱模板垂直度偏差 12 mm，允许偏差 8 mm。", "minor"),
    ("混凝土工程", "柱根部烂根", "柱根部混凝土蜂窝、露石，面积约 0.2 m²。", "major"),
    ("混凝土工程", "楼板表面收缩裂缝", "板面出现多条收缩裂缝，宽度约 0.2 mm，需封闭处理。", "minor"),
    ("混凝土工程", "梁底蜂窝麻面", "梁底局部蜂窝麻面，面积约 0.3 m²。", "major"),
    ("混凝土工程", "同条件试块强度偏低", "C35 同条件试块强度 33.1 MPa，需回弹及钻芯复核。", "critical"),
    ("砌体工程", "填充墙灰缝砂浆不饱满", "水平灰缝砂浆饱满度约 70%，规范要求不小于 80%。", "minor"),
    ("砌体工程", "构造柱马牙槎不规范", "构造柱马牙槎未先退后进，拉结筋缺失两处。", "minor"),
    ("测量放线", "柱轴线偏位", "③轴柱轴线偏位 12 mm，超出允许偏差 8 mm。", "major"),
)
# category, title, description, severity (safety: minor 一般隐患 / major 重大隐患), treatment plan
_SAFETY = (
    ("临边防护", "楼层临边防护栏杆缺失", "东侧楼层临边未设防护栏杆，坠落高度大于 2 m。", "minor", None),
    ("脚手架", "外架连墙件缺失", "外脚手架 3~5 层连墙件间距超出方案要求。", "minor", None),
    ("临时用电", "配电箱未做重复接地", "二级配电箱 PE 线未做重复接地，箱门无锁。", "minor", None),
    ("洞口防护", "电梯井口未设防护门", "电梯井口未设定型化防护门，井内未挂安全平网。", "minor", None),
    ("消防", "动火作业无看火人", "焊接作业未办理动火证，现场无看火人和灭火器。", "minor", None),
    (
        "起重机械",
        "塔吊标准节连接螺栓松动",
        "塔吊第 6 节标准节连接螺栓两颗松动，附着杆焊缝开裂。",
        "major",
        "立即停用塔吊，由产权单位紧固螺栓并补焊附着杆，第三方检测合格后恢复使用。",
    ),
    (
        "深基坑",
        "基坑东侧支护位移超预警值",
        "监测点 ZQT-07 累计水平位移 32 mm，超过预警值 30 mm。",
        "major",
        "坑边卸载、加密监测至每日两次，增设一道钢支撑，专家论证后恢复开挖。",
    ),
    (
        "高支模",
        "高支模立杆间距超方案要求",
        "报告厅高支模区立杆间距 1.2 m，专项方案要求 0.9 m，扫地杆缺失。",
        "major",
        "停止浇筑，按专项方案加密立杆、补设扫地杆和剪刀撑，验收合格后方可浇筑。",
    ),
)
_ZONES = ("A", "B", "C")
_TRADES = ("钢筋", "模板", "混凝土", "砌体")
_SUBCONTRACTORS = ("中建某劳务有限公司", "某建筑劳务分包有限公司", "某钢筋工程有限公司", "某模架工程有限公司")


@dataclass(frozen=True, slots=True)
class _Finding:
    """One issue's story: raised on ``raised``, replied, signed off, re-inspected; a
    ``None`` step has not happened."""

    raised: dt.datetime
    kind: str
    category: str
    title: str
    description: str
    severity: str
    plan: str | None
    due: dt.date
    zone: str
    replied: dt.datetime | None = None
    closed: dt.datetime | None = None
    notice: bool = False  # bundled on a rectification notice (the overdue backlog)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment of a working day, in UTC (the hours are Beijing time, UTC+8)."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC) - dt.timedelta(hours=8)


def _findings(plan: _Plan, today: dt.date, seed: int) -> list[_Finding]:
    """The project's issues over the last six months, oldest first: most rectified within
    their deadline, the recent ones still in the loop, plus what the project's health needs."""
    rng = random.Random(f"{seed}:{plan.code}:issues")
    day = dt.timedelta(days=1)
    first = max(plan.works_start, today - 183 * day)
    span = (today - first).days - 1
    out = []
    for _ in range(rng.randint(7, 10)):
        raised_on = first + rng.randint(0, span) * day
        recent = raised_on > today - 12 * day
        if rng.random() < 0.35:
            category, title, description, severity, treatment = rng.choice(_SAFETY)
            if severity == "major" and recent:  # a recent 重大隐患 would be a warning: see _YELLOW
                category, title, description, severity, treatment = rng.choice(_SAFETY[:5])
            kind = "safety"
        else:
            category, title, description, severity = rng.choice(_QUALITY)
            kind, treatment = "quality", None
        allowed = 3 if severity == "major" and kind == "safety" else rng.randint(4, 7)
        raised = _at(raised_on, rng.randint(9, 15), rng.randint(0, 59))
        finding = _Finding(
            raised,
            kind,
            category,
            title,
            description,
            severity,
            treatment,
            raised_on + allowed * day,
            rng.choice(_ZONES),
        )
        if not recent or rng.random() < 0.4:
            reply_on = raised_on + rng.randint(1, allowed - 1) * day
            close_on = min(reply_on + rng.randint(0, 1) * day, finding.due)
            if close_on >= today:
                close_on = reply_on = min(reply_on, today - day)
            replied = max(_at(reply_on, 10, rng.randint(0, 59)), raised + dt.timedelta(hours=1))
            finding = dataclasses.replace(
                finding, replied=replied, closed=max(_at(close_on, 15), replied + dt.timedelta(hours=2))
            )
        elif rng.random() < 0.5:
            reply_on = min(raised_on + day, today - day)
            finding = dataclasses.replace(
                finding, replied=max(_at(reply_on, 16), raised + dt.timedelta(hours=1))
            )
        if finding.closed is None and finding.due <= today:  # in the loop, not yet due
            finding = dataclasses.replace(finding, due=today + rng.randint(1, 4) * day)
        out.append(finding)
    out += _health_findings(plan, today, rng)
    return sorted(out, key=lambda f: f.raised)


def _health_findings(plan: _Plan, today: dt.date, rng: random.Random) -> list[_Finding]:
    day = dt.timedelta(days=1)
    majors = [s for s in _SAFETY if s[3] == "major"]
    if plan.health in (Health.HAZARD_OVERDUE, Health.HAZARD_OPEN):
        category, title, description, severity, treatment = rng.choice(majors)
        ago = rng.randint(8, 14) if plan.health == Health.HAZARD_OVERDUE else rng.randint(1, 2)
        raised_on = today - ago * day
        due = raised_on + 3 * day if plan.health == Health.HAZARD_OVERDUE else today + rng.randint(2, 4) * day
        raised = _at(raised_on, 10, rng.randint(0, 59))
        return [
            _Finding(
                raised, "safety", category, title, description, severity, treatment, due, rng.choice(_ZONES)
            )
        ]
    if plan.health in (Health.QUALITY_BACKLOG, Health.FINDINGS_OVERDUE):
        count = 5 if plan.health == Health.QUALITY_BACKLOG else 2
        raised_on = today - rng.randint(18, 26) * day
        picked = rng.sample(_QUALITY, count)
        return [
            _Finding(
                _at(raised_on, 9 + i, rng.randint(0, 59)),
                "quality",
                category,
                title,
                description,
                severity,
                None,
                raised_on + rng.randint(4, 6) * day,
                rng.choice(_ZONES),
                notice=plan.health == Health.QUALITY_BACKLOG,
            )
            for i, (category, title, description, severity) in enumerate(picked)
        ]
    return []


def _raise_findings(
    session,
    project_id: int,
    plan: _Plan,
    revision_id: int,
    linked: list[str],
    photos: _Photos,
    today: dt.date,
    seed: int,
) -> None:
    """Raise the project's findings through the issue services, each step at its own past
    moment, so the event chains are as if the loop had been worked day by day."""
    from .domain.issues import Action, NoticeHandling
    from .services import issues, notices

    inspector = _principal(session, _inspector(plan.region))
    manager = _principal(session, _manager(plan.code))
    regional = _principal(session, next(r[2] for r in _REGIONS if r[0] == plan.region))
    path = orgs.get_project(session, project_id).path
    rng = random.Random(f"{seed}:{plan.code}:pins")
    backlog = []
    for finding in _findings(plan, today, seed):
        at = finding.raised
        detail = issues.create_issue(
            session,
            project_id=project_id,
            project_path=path,
            actor=inspector,
            fields={
                "kind": finding.kind,
                "category": finding.category,
                "title": finding.title,
                "description": finding.description,
                "severity": finding.severity,
                "assignee_id": manager.user_id,
                "due_date": finding.due,
                "zone": f"{finding.zone} 区",
                "revision_id": revision_id if linked else None,
                "global_ids": [rng.choice(linked)] if linked else [],
                "treatment_plan": finding.plan,
                "required_measures": "按图纸、规范及专项方案整改，完成后上传整改照片并提交复查。",
            },
            now=at,
            today=at.date(),
        )
        issues.add_photo(
            session,
            project_id=project_id,
            issue_id=detail.id,
            actor=inspector,
            role="before",
            upload=photos["before"],
            now=at + dt.timedelta(minutes=3),
        )
        if finding.notice:
            backlog.append((detail.id, finding))
        if finding.replied is None:
            continue
        replied = finding.replied
        issues.add_photo(
            session,
            project_id=project_id,
            issue_id=detail.id,
            actor=manager,
            role="after",
            upload=photos["after"],
            now=replied - dt.timedelta(minutes=10),
        )
        issues.take_action(
            session,
            project_id=project_id,
            issue_id=detail.id,
            actor=manager,
            action=Action.REPLY,
            reason=None,
            comment="已按要求整改完成，请复查。",
            now=replied,
            today=replied.date(),
        )
        if finding.closed is None:
            continue
        if finding.kind == "safety" and finding.severity == "major":
            signed = replied + (finding.closed - replied) / 2
            issues.sign_off_issue(
                session,
                project_id=project_id,
                issue_id=detail.id,
                actor=regional,
                now=signed,
                today=signed.date(),
            )
        issues.take_action(
            session,
            project_id=project_id,
            issue_id=detail.id,
            actor=inspector,
            action=Action.REINSPECT_PASS,
            reason=None,
            comment="复查合格，同意闭合。",
            now=finding.closed,
            today=finding.closed.date(),
        )
    if backlog:
        issued = max(f.raised for _, f in backlog) + dt.timedelta(days=1)
        notices.create_notice(
            session,
            project_id=project_id,
            actor=inspector,
            issue_ids=[issue_id for issue_id, _ in backlog],
            issued_to_company=rng.choice(_SUBCONTRACTORS),
            issued_to_uscc=None,
            contact_person=f"{rng.choice(_SURNAMES)}工",
            deadline=issued.date() + dt.timedelta(days=5),
            handling=NoticeHandling.RECTIFY,
            required_measures="限期整改，整改完成后上传整改照片并提交复查；逾期未整改的按合同约定处理。",
            cc=("监理单位", _REGION_NAMES[plan.region]),
            now=issued,
            today=issued.date(),
        )


def _lot_attempts(
    plan: _Plan, today: dt.date, seed: int
) -> Iterator[tuple[str, str, str, str, dt.date, bool]]:
    """Inspection-lot attempts (code, name, zone, trade, day, accepted), oldest first: a few
    lots a week since the superstructure began, a few rejected and accepted after rework;
    for a project with rising rework, zone A's last three full weeks with 8, 7 and 6 lots
    of which 1, 2 and 3 were reworked."""
    rng = random.Random(f"{seed}:{plan.code}:lots")
    day = dt.timedelta(days=1)
    this_monday = today - today.weekday() * day
    rising_weeks = [this_monday - k * 7 * day for k in (3, 2, 1)] if plan.rework_rising else []
    reject_rate = 0.15 if plan.health == Health.QUALITY_BACKLOG else 0.04
    attempts = []
    number = 0
    monday = plan.works_start - plan.works_start.weekday() * day
    while monday <= today:
        elapsed = (monday - plan.works_start).days / max((plan.works_finish - plan.works_start).days, 1)
        trades = _TRADES if elapsed > 0.3 else _TRADES[:3]
        # Zone A's rising weeks hold only their own lots (none reworked into them from before).
        zones = [z for z in _ZONES if not (rising_weeks and z == "A" and monday >= rising_weeks[0] - 7 * day)]
        lots = [
            (rng.choice(zones), rng.choice(trades), rng.randint(0, 5), rng.random() < reject_rate)
            for _ in range(rng.randint(2, 3))
        ]
        if monday in rising_weeks:
            count, reworked = {0: (8, 1), 1: (7, 2), 2: (6, 3)}[rising_weeks.index(monday)]
            lots += [
                ("A", rng.choice(trades), 0 if i < reworked else rng.randint(1, 5), i < reworked)
                for i in range(count)
            ]
        for zone, trade, weekday, rejected in lots:
            inspected = monday + weekday * day
            if inspected > today:
                continue
            number += 1
            code = f"{zone}-{trade}-{number:03d}"
            name = f"{zone} 区{trade}分项工程检验批（第 {number} 批）"
            attempts.append((code, name, f"{zone} 区", trade, inspected, not rejected))
            if rejected:
                again = inspected + rng.randint(1, 3) * day
                if monday in rising_weeks and zone == "A":
                    again = monday + rng.randint(3, 5) * day  # reworked within the same week
                if again <= today:
                    attempts.append((code, name, f"{zone} 区", trade, again, True))
        monday += 7 * day
    attempts.sort(key=lambda a: (a[4], a[5]))  # a rejection before the acceptance of the same day
    yield from attempts


def _record_lots(session, project_id: int, plan: _Plan, today: dt.date, seed: int, user_id: int) -> None:
    from .services import portfolio

    for code, name, zone, trade, inspected, accepted in _lot_attempts(plan, today, seed):
        portfolio.add_lot(
            session,
            project_id=project_id,
            code=code,
            name=name,
            zone=zone,
            trade=trade,
            inspected_on=inspected,
            accepted=accepted,
            note=None if accepted else "实测偏差超出允许值，返工后重新报验。",
            user_id=user_id,
        )


# --------------------------------------------------------------------------- KPIs and alerts


def months_before(today: dt.date, count: int = HISTORY_MONTHS) -> list[str]:
    """``today``'s month and the ``count`` months before it, oldest first, as ``YYYY-MM``."""
    index = today.year * 12 + today.month - 1
    return [f"{(index - k) // 12:04d}-{(index - k) % 12 + 1:02d}" for k in range(count, -1, -1)]


def _evaluate(session, *, today: dt.date, now: dt.datetime, hq_id: int, hq_path: str) -> dict[str, int]:
    """KPIs of the last six months (frozen as they are written) and of this month, then the
    alert rules; the projects counted by this month's light."""
    from .services import alerts, portfolio

    portfolio.recompute_kpis(session, today=today, periods=months_before(today))
    alerts.evaluate_alerts(session, today=today, now=now)
    rollup = portfolio.node_rollup(
        session, node_id=hq_id, node_path=hq_path, period=portfolio.period_of(today)
    )
    return dict(rollup.by_light)
