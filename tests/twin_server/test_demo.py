"""The demo portfolio (``twin demo``), small: eight projects in six regions, loaded twice with
the same seed into two fresh SQLite databases and once more into the first. What ``make run``
promises a newcomer: projects across China with real places, processed models, six months
of frozen KPIs, red and green projects, alerts, intact issue histories — the same every
time, and nothing added by a second run."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

import geodata
from sample_models.generate import write_building
from tests.twin_server.conftest import make_settings
from twin_server.db.orm import Base
from twin_server.demo import DEMO_PASSWORD, FLAGSHIP, MAX_PROJECTS, _portfolio, months_before, seed_demo
from twin_server.domain.access import Role
from twin_server.domain.errors import Conflict, InvalidInput
from twin_server.runtime import build_runtime
from twin_server.services import alerts, issues, orgs, portfolio, revisions, schedules
from twin_server.services.auth import principal_named

PROJECTS = 8  # the original three and one more in each of the other regions and EAST
SEED = 7
REGIONS = {"EAST", "SOUTH", "NORTH", "SOUTHWEST", "CENTRAL", "NORTHWEST"}
# China's bounding box (WGS-84): Xinjiang's west to Heilongjiang's east, Hainan to Mohe.
LON, LAT = (73.5, 135.1), (18.1, 53.6)


@pytest.fixture(scope="module")
def today() -> dt.date:
    return dt.date.today()


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_building(tmp_path_factory.mktemp("sample") / "sample.ifc", storeys=1, bays_x=2, bays_y=1)


def _runtime(folder: Path):
    return build_runtime(make_settings(folder, f"sqlite:///{folder / 'twin.db'}", development=True))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, sample, today):
    """Two databases loaded with the same seed; the first loaded a second time too."""
    runtimes, results = [], []
    for name in ("first", "second"):
        runtime = _runtime(tmp_path_factory.mktemp(name))
        runtimes.append(runtime)
        results.append(seed_demo(runtime, sample_ifc=sample, projects=PROJECTS, seed=SEED, today=today))
    before = _row_counts(runtimes[0])
    again = seed_demo(runtimes[0], sample_ifc=sample, projects=PROJECTS, seed=SEED, today=today)
    yield {"runtime": runtimes[0], "other": runtimes[1], "results": results, "before": before, "again": again}
    for runtime in runtimes:
        runtime.close()


def _row_counts(runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def _summary(runtime, today: dt.date) -> dict[str, tuple]:
    """Per project code: name, place, details, this month's light and the six months' trend."""
    with runtime.sessions() as session:
        admin = principal_named(session, username="admin")
        summary = portfolio.portfolio_summary(session, principal=admin, period=portfolio.period_of(today))
        projects = {p.code: orgs.get_project(session, p.id) for p in summary.projects}
        return {
            line.code: (
                line.name,
                line.region,
                line.site_lon,
                line.site_lat,
                projects[line.code].address,
                projects[line.code].project_type,
                line.contract_value_cny,
                line.light,
                line.score,
                tuple((point.period, point.light) for point in line.trend),
            )
            for line in summary.projects
        }


def test_projects_across_china_in_six_regions_with_a_manager_each(loaded, today) -> None:
    runtime = loaded["runtime"]
    with runtime.sessions() as session:
        admin = principal_named(session, username="admin")
        projects = orgs.list_projects(session, admin)
        assert len(projects) == PROJECTS
        codes = [p.code for p in projects]
        assert {FLAGSHIP, "HZ-XS-02", "SZ-NS-01"} <= set(codes)
        regions = {orgs.get_node(session, project.region_id).code for project in projects}
        assert regions == REGIONS
        for project in projects:
            assert LON[0] < project.site_lon < LON[1] and LAT[0] < project.site_lat < LAT[1], project
            assert project.address and project.project_type and project.contract_value_cny > 1e8
            assert project.planned_start < today < project.planned_finish
        for username, role in [
            ("admin", Role.ADMIN),
            ("hq", Role.HQ_VIEWER),
            ("bim", Role.BIM_COORDINATOR),
        ] + [(region.lower(), Role.REGIONAL_MANAGER) for region in REGIONS]:
            assert principal_named(session, username=username).role is role
        for user in ("inspector", "site", "east-qs", "pm-hz-xs-02"):
            assert principal_named(session, username=user)  # the loop's people
    result = loaded["results"][0]
    assert {"east", "south", "north", "southwest", "central", "northwest", "bim"} <= set(result.users)
    assert result.projects[0] == FLAGSHIP and len(result.projects) == PROJECTS
    assert DEMO_PASSWORD in result.describe()


def test_the_same_seed_gives_the_same_portfolio(loaded, today) -> None:
    first, second = _summary(loaded["runtime"], today), _summary(loaded["other"], today)
    assert list(first) == list(second)
    assert first == second
    # A different seed moves the sites and reshuffles whose health is poor; names stay.
    other = {p.code: p for p in _portfolio(PROJECTS, SEED + 1, today)}
    mine = {p.code: p for p in _portfolio(PROJECTS, SEED, today)}
    assert [p.name for p in mine.values()] == [p.name for p in other.values()]
    assert any((mine[c].lon, mine[c].lat) != (other[c].lon, other[c].lat) for c in mine if c != FLAGSHIP)


def test_a_second_run_adds_nothing(loaded) -> None:
    after = _row_counts(loaded["runtime"])
    assert after == loaded["before"]
    assert loaded["before"]["inspection_lots"] > 0 and loaded["before"]["issue_events"] > 0
    assert loaded["again"].revision_id is None  # the sample was not uploaded twice


def test_every_model_is_processed_with_its_schedule_linked(loaded) -> None:
    with loaded["runtime"].sessions() as session:
        admin = principal_named(session, username="admin")
        for project in orgs.list_projects(session, admin):
            [model] = revisions.list_models(session, project_id=project.id)
            [revision] = revisions.list_revisions(session, project_id=project.id, model_id=model.id)
            assert revision.processing == "succeeded", (project.code, revision)
            [schedule] = schedules.list_schedules(session, project_id=project.id)
            coverage = schedules.coverage_report(
                session, project_id=project.id, schedule_id=schedule.id, revision_id=revision.id
            )
            assert coverage.linked_elements > 0, project.code
            tasks = schedules.task_table(session, project_id=project.id, schedule_id=schedule.id)
            assert any(t.actual_finish for t in tasks) and any(t.reported for t in tasks)


def test_every_model_is_surveyed_in_at_its_projects_site(loaded) -> None:
    """Each demo model carries its own IfcMapConversion (the site's Gauss-Krüger zone), so
    the HQ map draws its footprint on the project's site point, with nothing to warn about."""
    with loaded["runtime"].sessions() as session:
        admin = principal_named(session, username="admin")
        for project in orgs.list_projects(session, admin):
            [model] = revisions.list_models(session, project_id=project.id)
            [revision] = revisions.list_revisions(session, project_id=project.id, model_id=model.id)
            placement = revision.placement
            assert placement.kind == "map_conversion" and placement.warnings == [], (project.code, placement)
            meridian = round(project.site_lon / 3) * 3
            assert placement.crs == f"EPSG:{4534 + (meridian - 75) // 3}", project.code
            here = (placement.center_lon, placement.center_lat)
            # The plan centre of a building at most 3 × 8.4 m by 2 × 7.2 m from its origin.
            assert geodata.distance_m(here, (project.site_lon, project.site_lat)) < 20, project.code


def test_kpis_of_six_frozen_months_and_this_open_one(loaded, today) -> None:
    periods = months_before(today)
    assert len(periods) == 7 and periods[-1] == portfolio.period_of(today)
    with loaded["runtime"].sessions() as session:
        admin = principal_named(session, username="admin")
        for project in orgs.list_projects(session, admin):
            stored = [portfolio.project_kpis(session, project_id=project.id, period=p) for p in periods]
            assert [k.frozen for k in stored] == [True] * 6 + [False], project.code
            if project.code != FLAGSHIP:
                assert stored[-1].values["spi"] is not None  # the model's elements weigh it


def test_some_projects_are_red_most_are_green_and_alerts_say_why(loaded, today) -> None:
    lights = Counter(line[7] for line in _summary(loaded["runtime"], today).values())
    assert lights["red"] >= 1 and lights["green"] >= 1 and lights["green"] >= lights["red"]
    assert sum(lights.values()) == PROJECTS
    assert loaded["results"][0].lights == {
        "green": lights["green"],
        "yellow": lights["yellow"],
        "red": lights["red"],
    }
    with loaded["runtime"].sessions() as session:
        feed = alerts.list_alerts(session, scope_path="/")
    kinds = Counter(alert.kind for alert in feed)
    assert kinds["task_delay"] >= 1  # the slipping project: tasks more than five days late
    assert kinds["rework_rising"] >= 1  # one zone's rework rate up three weeks running
    rising = next(a for a in feed if a.kind == "rework_rising")
    assert rising.facts["zone"] == "A 区" and len(rising.facts["weeks"]) == 3
    assert all(lots >= 5 for lots in rising.facts["lots"])


def test_issue_histories_reach_back_months_and_their_chains_verify(loaded, today) -> None:
    with loaded["runtime"].sessions() as session:
        reports = issues.verify_chains(session)
        assert reports and all(not report.problems for report in reports)
        admin = principal_named(session, username="admin")
        statuses, oldest = Counter(), today
        for project in orgs.list_projects(session, admin):
            page = issues.list_issues(session, project_id=project.id, today=today, limit=200)
            statuses.update(item.status for item in page.items)
            oldest = min([oldest, *(item.created_at.date() for item in page.items)])
        assert oldest < today - dt.timedelta(days=120)
        assert statuses["closed"] > statuses["open"] > 0 and statuses["ready_for_review"] > 0


def test_the_size_is_checked(today) -> None:
    with pytest.raises(InvalidInput):
        _portfolio(0, SEED, today)
    with pytest.raises(InvalidInput):
        _portfolio(MAX_PROJECTS + 1, SEED, today)
    assert len(_portfolio(MAX_PROJECTS, SEED, today)) == MAX_PROJECTS >= 50


def test_the_demo_refuses_production_mode(tmp_path) -> None:
    runtime = build_runtime(make_settings(tmp_path, f"sqlite:///{tmp_path / 'twin.db'}"))
    try:
        with pytest.raises(Conflict):
            seed_demo(runtime, sample_ifc=None)
    finally:
        runtime.close()


def test_twin_demo_small(tmp_path, sample) -> None:
    """``twin demo --projects 3``: the small demo of the three original projects."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWIN_")}
    env |= {"TWIN_DEVELOPMENT": "1", "TWIN_DATA_DIR": str(tmp_path / "data")}
    twin = Path(sys.executable).with_name("twin")
    run = subprocess.run(
        [str(twin), "demo", "--sample", str(sample), "--projects", "3", "--seed", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "admin, hq, east, south, bim, inspector, site" in run.stdout
    assert "demo portfolio: 3 projects" in run.stdout and "pm-hz-xs-02" in run.stdout
    bad = subprocess.run(
        [str(twin), "demo", "--projects", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: the demo has 1 to")
