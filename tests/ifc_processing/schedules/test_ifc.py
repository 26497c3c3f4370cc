"""IFC work schedules: the corpus example, the sample generator's schedule (IFC4 and IFC2X3),
and a model built here for what neither has (inputs, baselines, lags, calendars)."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import zipfile
from pathlib import Path

import ifcopenshell
import ifcopenshell.api.control
import ifcopenshell.api.root
import ifcopenshell.guid
import pytest

from ifc_processing.schedules import read_schedule
from sample_models.generate import write_building
from tests.factories import add_wall, tiny_model

from .support import reason, write

with contextlib.redirect_stdout(io.StringIO()):  # a note about the optional networkx package
    import ifcopenshell.api.sequence as sequence

CORPUS_FILE = "ifc/construction-scheduling-task_IFC4X3_ADD2.ifc"


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _direct_element_links(model: ifcopenshell.file) -> set[tuple[str, str, str]]:
    """What the file says, read with ifcopenshell alone."""
    outputs = {
        (rel.RelatingProduct.GlobalId, task.GlobalId, "OUTPUT")
        for rel in model.by_type("IfcRelAssignsToProduct")
        for task in rel.RelatedObjects
        if task.is_a("IfcTask")
    }
    inputs = {
        (product.GlobalId, rel.RelatingProcess.GlobalId, "INPUT")
        for rel in model.by_type("IfcRelAssignsToProcess")
        for product in rel.RelatedObjects
        if product.is_a("IfcProduct")
    }
    return outputs | inputs


def _parents(model: ifcopenshell.file) -> dict[str, str]:
    return {
        child.GlobalId: rel.RelatingObject.GlobalId
        for rel in model.by_type("IfcRelNests")
        if rel.RelatingObject.is_a("IfcTask")
        for child in rel.RelatedObjects
    }


# --------------------------------------------------------------------------- corpus


@pytest.mark.corpus
def test_corpus_construction_schedule_matches_the_file(corpus: Path) -> None:
    path = corpus / CORPUS_FILE
    model = ifcopenshell.open(str(path))
    record = read_schedule(path)
    tasks = {t.key: t for t in record.tasks}
    assert set(tasks) == {t.GlobalId for t in model.by_type("IfcTask")}
    assert len(tasks) == 8
    parents = _parents(model)
    for task in model.by_type("IfcTask"):
        got = tasks[task.GlobalId]
        time = task.TaskTime
        assert got.name == task.Name
        assert got.parent_key == parents.get(task.GlobalId)
        assert got.is_summary == any(p == task.GlobalId for p in parents.values())
        # ScheduleFinish is often empty here; the exporter wrote the dates as Early*.
        assert got.planned_start == _day(time.ScheduleStart or time.EarlyStart)
        assert got.planned_finish == _day(time.ScheduleFinish or time.EarlyFinish)
        assert got.is_critical == bool(time.IsCritical)
    assert {(lk.predecessor_key, lk.successor_key, lk.kind, lk.lag_days) for lk in record.links} == {
        (rel.RelatingProcess.GlobalId, rel.RelatedProcess.GlobalId, "FS", 0.0)
        for rel in model.by_type("IfcRelSequence")
    }
    assert {(e.global_id, e.task_key, e.role) for e in record.element_links} == _direct_element_links(model)
    assert len(record.element_links) == 6
    (calendar,) = record.calendars
    assert calendar.key == model.by_type("IfcWorkCalendar")[0].GlobalId
    assert calendar.working_weekdays == (1, 2, 3, 4, 5)
    assert {t.calendar_key for t in record.tasks} == {calendar.key}  # assigned to the root, inherited
    assert record.tasks[0].parent_key is None
    assert record.warnings == ()


@pytest.mark.corpus
def test_corpus_clock_time_durations_are_eight_hour_days(corpus: Path) -> None:
    tasks = {t.name: t for t in read_schedule(corpus / CORPUS_FILE).tasks}
    # 'P0Y0M1DT16H0M0S' is 40 clock hours: the five days 20-24 Sep 2010 at 8 h.
    assert tasks["Ground Level"].duration_days == 5.0
    assert tasks["Wall (Standard)"].duration_days == 4.0  # P0Y0M1DT8H0M0S, 21-24 Sep
    assert tasks["Slab #1"].total_float_days == 0.125  # one hour


@pytest.mark.corpus
def test_unsupported_schema_is_a_schedule_error(corpus: Path) -> None:
    assert "IFC4X3_RC2" in reason(read_schedule, corpus / "ifc/KIT-Simple-Road-Test_IFC4X3_RC2.ifc")


# --------------------------------------------------------------------------- sample generator


@pytest.fixture(scope="module")
def sample_buildings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("buildings")
    paths = {}
    for schema in ("IFC4", "IFC2X3"):
        paths[schema] = folder / f"b-{schema}.ifc"
        write_building(paths[schema], storeys=2, bays_x=2, bays_y=1, schema=schema)
    return paths


def test_sample_building_schedule_matches_ifcopenshell(sample_buildings) -> None:
    path = sample_buildings["IFC4"]
    model = ifcopenshell.open(str(path))
    record = read_schedule(path)
    assert record.name == model.by_type("IfcWorkSchedule")[0].Name
    assert {(e.global_id, e.task_key, e.role) for e in record.element_links} == _direct_element_links(model)
    assert len(record.element_links) == len(model.by_type("IfcRelAssignsToProduct"))
    tasks = {t.key: t for t in record.tasks}
    parents = _parents(model)
    for task in model.by_type("IfcTask"):
        got = tasks[task.GlobalId]
        assert (got.wbs_code, got.name, got.is_milestone) == (
            task.Identification,
            task.Name,
            task.IsMilestone,
        )
        assert got.parent_key == parents.get(task.GlobalId)
        assert (got.planned_start, got.planned_finish) == (
            _day(task.TaskTime.ScheduleStart),
            _day(task.TaskTime.ScheduleFinish),
        )
        assert got.duration_days == float(
            task.TaskTime.ScheduleDuration.strip("PD")
        )  # 'P9D' = 9 working days
    expected_links = {
        (
            rel.RelatingProcess.GlobalId,
            rel.RelatedProcess.GlobalId,
            float(rel.TimeLag.LagValue.wrappedValue.strip("PD")) if rel.TimeLag else 0.0,
        )
        for rel in model.by_type("IfcRelSequence")
    }
    assert {(lk.predecessor_key, lk.successor_key, lk.lag_days) for lk in record.links} == expected_links
    assert {lk.lag_days for lk in record.links} == {0.0, 1.0, 2.0}
    assert [c.working_weekdays for c in record.calendars] == [(1, 2, 3, 4, 5, 6)]
    assert [t.wbs_code for t in record.tasks][:4] == ["1", "1.1", "1.2", "1.2.1"]  # WBS order, parents first


def test_sample_building_in_ifc2x3_gives_the_same_schedule(sample_buildings) -> None:
    ifc4 = read_schedule(sample_buildings["IFC4"])
    ifc2x3 = read_schedule(sample_buildings["IFC2X3"])

    def by_wbs(record):
        code = {t.key: t.wbs_code for t in record.tasks}
        tasks = [
            (t.wbs_code, code.get(t.parent_key), t.name, t.planned_start, t.planned_finish, t.duration_days)
            for t in record.tasks
        ]
        links = {
            (code[lk.predecessor_key], code[lk.successor_key], lk.kind, lk.lag_days) for lk in record.links
        }
        elements = {(e.global_id, code[e.task_key]) for e in record.element_links}
        return tasks, links, elements

    assert by_wbs(ifc2x3) == by_wbs(ifc4)
    assert ifc2x3.calendars == ()  # IFC2X3 has no IfcWorkCalendar


# --------------------------------------------------------------------------- a model built here


def _time(task, **attributes) -> None:
    task_time = sequence.add_task_time(task.file, task=task)
    for name, value in attributes.items():
        setattr(task_time, name, value)


@pytest.fixture()
def built(tmp_path: Path) -> dict:
    m = tiny_model()
    f = m.file
    wall, crane = add_wall(m, "W1"), add_wall(m, "Crane base")
    sequence.add_work_schedule(f, name="Empty", predefined_type="PLANNED")
    main = sequence.add_work_schedule(f, name="Main works", predefined_type="PLANNED")
    base = sequence.add_work_schedule(f, name="Baseline 1", predefined_type="BASELINE")
    shell = sequence.add_task(f, work_schedule=main, name="Shell", identification="1")
    walls = sequence.add_task(f, parent_task=shell, name="Walls", identification="1.1")
    roof = sequence.add_task(f, parent_task=shell, name="Roof", identification="1.2")
    handover = sequence.add_task(f, work_schedule=main, name="Handover", identification="2")
    handover.IsMilestone = True
    orphan = sequence.add_task(f, name="Elsewhere", identification="9")
    _time(
        walls,
        ScheduleStart="2024-05-06T08:00:00",
        ScheduleFinish="2024-05-10T17:00:00",
        ScheduleDuration="P5D",
        ActualStart="2024-05-06T08:00:00",
        Completion=0.4,
        IsCritical=True,
        TotalFloat="P1D",
        StatusTime="2024-05-08T17:00:00",
    )
    _time(
        roof,
        ScheduleStart="2024-05-13T08:00:00",
        ScheduleFinish="2024-05-15T17:00:00",
        ScheduleDuration="P3D",
    )
    _time(handover, ScheduleStart="2024-05-20T08:00:00", ScheduleFinish="2024-05-20T08:00:00")
    ss = sequence.assign_sequence(
        f, relating_process=walls, related_process=roof, sequence_type="START_START"
    )
    ss.TimeLag = f.create_entity(
        "IfcLagTime", LagValue=f.create_entity("IfcRatioMeasure", 0.5), DurationType="WORKTIME"
    )
    ff = sequence.assign_sequence(
        f, relating_process=roof, related_process=handover, sequence_type="FINISH_FINISH"
    )
    sequence.assign_lag_time(f, rel_sequence=ff, lag_value="P2D")
    sequence.assign_sequence(
        f, relating_process=walls, related_process=handover, sequence_type="START_FINISH"
    )
    sequence.assign_sequence(f, relating_process=handover, related_process=orphan)
    sequence.assign_product(f, relating_product=wall, related_object=walls)
    sequence.assign_process(f, relating_process=roof, related_object=crane)
    wall_type = ifcopenshell.api.root.create_entity(f, ifc_class="IfcWallType", name="WT-200")
    f.create_entity(
        "IfcRelAssignsToProduct", ifcopenshell.guid.new(), RelatedObjects=[roof], RelatingProduct=wall_type
    )
    calendar = sequence.add_work_calendar(f, name="Site calendar")
    working = sequence.add_work_time(f, work_calendar=calendar, time_type="WorkingTimes")
    pattern = sequence.assign_recurrence_pattern(f, parent=working, recurrence_type="WEEKLY")
    pattern.WeekdayComponent = [1, 2, 3, 4, 5]
    holiday = sequence.add_work_time(f, work_calendar=calendar, time_type="ExceptionTimes")
    holiday.Start, holiday.Finish = "2024-05-09", "2024-05-11"  # Ascension Thursday to Saturday
    ifcopenshell.api.control.assign_control(f, relating_control=calendar, related_objects=[shell])
    for code, start, finish in (("1.1", "2024-04-29", "2024-05-03"), ("1.2", "2024-05-06", "2024-05-08")):
        task = sequence.add_task(f, work_schedule=base, name=f"old {code}", identification=code)
        _time(task, ScheduleStart=f"{start}T08:00:00", ScheduleFinish=f"{finish}T17:00:00")
    path = tmp_path / "built.ifc"
    f.write(str(path))
    ids = {"shell": shell, "walls": walls, "roof": roof, "handover": handover, "wall": wall, "crane": crane}
    return {"path": path, **{k: v.GlobalId for k, v in ids.items()}, "calendar": calendar.GlobalId}


def test_default_schedule_is_the_first_planned_one_with_tasks(built) -> None:
    record = read_schedule(built["path"])
    assert record.name == "Main works"
    assert [(t.name, t.parent_key) for t in record.tasks] == [
        ("Shell", None),
        ("Walls", built["shell"]),
        ("Roof", built["shell"]),
        ("Handover", None),
    ]


def test_task_times_progress_and_baseline(built) -> None:
    record = read_schedule(built["path"])
    walls = next(t for t in record.tasks if t.key == built["walls"])
    assert (walls.planned_start, walls.planned_finish) == (dt.date(2024, 5, 6), dt.date(2024, 5, 10))
    assert (walls.baseline_start, walls.baseline_finish) == (dt.date(2024, 4, 29), dt.date(2024, 5, 3))
    assert (walls.actual_start, walls.actual_finish) == (dt.date(2024, 5, 6), None)
    assert (walls.duration_days, walls.total_float_days) == (5.0, 1.0)
    assert walls.percent_complete == pytest.approx(40.0)
    assert walls.is_critical and walls.calendar_key == built["calendar"]
    shell = next(t for t in record.tasks if t.key == built["shell"])
    assert shell.is_summary and shell.baseline_start is None  # its Identification is not in the baseline
    assert next(t for t in record.tasks if t.key == built["handover"]).is_milestone
    assert record.data_date == dt.date(2024, 5, 8)  # the latest StatusTime
    assert "baseline dates from work schedule 'Baseline 1', matched by task Identification" in record.warnings


def test_sequences_lags_and_element_roles(built) -> None:
    record = read_schedule(built["path"])
    assert [(lk.predecessor_key, lk.successor_key, lk.kind, lk.lag_days) for lk in record.links] == [
        (built["walls"], built["roof"], "SS", 2.5),  # half of the walls' 5 days
        (built["walls"], built["handover"], "SF", 0.0),
        (built["roof"], built["handover"], "FF", 2.0),
    ]
    assert "1 links to tasks outside the work schedule skipped" in record.warnings
    assert "1 task outputs that are element types, not elements, skipped" in record.warnings
    assert [(e.global_id, e.task_key, e.task_name, e.role) for e in record.element_links] == [
        (built["wall"], built["walls"], "Walls", "OUTPUT"),
        (built["crane"], built["roof"], "Roof", "INPUT"),
    ]


def test_calendar_exception_times_are_holidays(built) -> None:
    (calendar,) = read_schedule(built["path"]).calendars
    assert (calendar.name, calendar.working_weekdays) == ("Site calendar", (1, 2, 3, 4, 5))
    assert calendar.holidays == (dt.date(2024, 5, 9), dt.date(2024, 5, 10))  # Saturday is off anyway


def test_schedule_by_name(built) -> None:
    baseline = read_schedule(built["path"], schedule="Baseline 1")
    assert [t.name for t in baseline.tasks] == ["old 1.1", "old 1.2"]
    message = reason(read_schedule, built["path"], schedule="Nope")
    assert message == "no work schedule named 'Nope' (found: 'Empty', 'Main works', 'Baseline 1')"


def test_ifczip_is_read_like_ifc(built, tmp_path: Path) -> None:
    archive = tmp_path / "built.ifczip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(built["path"], "model.ifc")
    assert read_schedule(archive) == read_schedule(built["path"])


def test_nesting_cycle_is_a_parent_cycle_error(tmp_path: Path) -> None:
    f = tiny_model().file
    schedule = sequence.add_work_schedule(f, name="Loop")
    a = sequence.add_task(f, work_schedule=schedule, name="A")
    b = sequence.add_task(f, parent_task=a, name="B")
    f.create_entity("IfcRelNests", ifcopenshell.guid.new(), RelatingObject=b, RelatedObjects=[a])
    path = tmp_path / "loop.ifc"
    f.write(str(path))
    assert reason(read_schedule, path).startswith("parent cycle: tasks nested in each other:")


def test_model_without_work_schedule(tmp_path: Path) -> None:
    path = tmp_path / "plain.ifc"
    tiny_model().file.write(str(path))
    assert reason(read_schedule, path) == "no work schedule (IfcWorkSchedule) in the model"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("garbage.ifc", "\x00\x01binary\xff" * 50, "not an IFC file"),
        ("empty.ifc", "", "file is empty"),
        ("cut.ifc", "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION((''),'2;1');\n", "file is truncated"),
        ("fake.ifczip", "PK\x03\x04 not really a zip", "zip"),
    ],
)
def test_bad_ifc_files(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1"))
    assert expected in reason(read_schedule, path)


def test_xml_with_ifc_suffix_is_not_read_as_mspdi(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.ifc", '<?xml version="1.0"?><Project/>')
    assert "ifcXML is not supported" in reason(read_schedule, path)
