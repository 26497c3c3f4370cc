"""``read_schedule``: choosing the reader, and failing cleanly on files that are no schedule."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path

import pytest

import ifc_processing.schedules as schedules
from ifc_processing import IfcProcessingError
from ifc_processing.schedules import ScheduleError, read_schedule

from .support import reason, write
from .xer_fixture import SIX_DAY, STANDARD, harbour_office, xer_text

MSPDI = (
    '<?xml version="1.0" encoding="UTF-8"?><Project xmlns="http://schemas.microsoft.com/project">'
    "<Name>P</Name><Tasks><Task><UID>1</UID><Name>Dig</Name><OutlineLevel>1</OutlineLevel></Task></Tasks>"
    "</Project>"
)
CSV = "id,name\n1,Dig\n"


def _ifc(tmp_path: Path) -> bytes:
    from sample_models.generate import write_building

    path = tmp_path / "source.ifc"
    write_building(path, storeys=1, bays_x=1, bays_y=1)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("suffix", "content", "expected_format"),
    [(".xml", MSPDI, "mspdi"), (".XER", "xer", "xer"), (".csv", CSV, "csv"), (".ifc", "ifc", "ifc")],
)
def test_the_suffix_chooses_the_reader(
    tmp_path: Path, suffix: str, content: str, expected_format: str
) -> None:
    path = tmp_path / f"plan{suffix}"
    if content == "xer":
        write(path, xer_text([harbour_office()], [STANDARD, SIX_DAY]))
    elif content == "ifc":
        path.write_bytes(_ifc(tmp_path))
    else:
        write(path, content)
    assert read_schedule(path).source_format == expected_format


@pytest.mark.parametrize("kind", ["mspdi", "xer", "csv", "ifc"])
def test_content_decides_without_a_known_suffix(tmp_path: Path, kind: str) -> None:
    data = {
        "mspdi": MSPDI.encode(),
        "xer": xer_text([harbour_office()], [STANDARD, SIX_DAY]).encode("cp1252"),
        "csv": ("\ufeff" + CSV).encode(),
        "ifc": b"",
    }[kind] or _ifc(tmp_path)
    path = tmp_path / "export.txt"
    path.write_bytes(data)
    assert read_schedule(path).source_format == kind


def test_source_format_overrides_the_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "plan.xml", CSV)
    assert read_schedule(path, source_format="csv").tasks[0].name == "Dig"
    assert reason(read_schedule, path).startswith("not well-formed XML")


def test_unknown_source_format_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="source_format 'mpp' is not one of mspdi, xer, ifc, csv"):
        read_schedule(write(tmp_path / "plan.csv", CSV), source_format="mpp")


def test_schedule_name_for_a_single_schedule_format_is_noted(tmp_path: Path) -> None:
    record = read_schedule(write(tmp_path / "plan.csv", CSV), schedule="Main")
    assert record.warnings == ("schedule 'Main' ignored: a CSV file holds one schedule",)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.xml", b"", "file is empty"),
        ("blank.csv", b"  \n\n ", "file is empty"),
        ("empty.xer", b"", "file is empty"),
        ("garbage.xml", bytes(range(256)) * 4, "not well-formed XML"),
        ("garbage.xer", bytes(range(256)) * 4, "binary data, not a Primavera XER file"),
        ("garbage.csv", bytes(range(256)) * 4, "binary data, not a CSV file"),
        ("garbage.bin", bytes(range(256)) * 4, "binary data, not a schedule file"),
        ("notes.txt", b"Meeting notes\nnothing here\n", "not a schedule file"),
        ("page.txt", b"<html><body/></html>", "an XML file, but not MS Project XML"),
        ("cut.xml", MSPDI[:150].encode(), "not well-formed XML: unclosed token: line 1, column 147"),
        ("photo.xer", b"\x89PNG\r\n\x1a\n" + bytes(100), "binary data, not a Primavera XER file"),
    ],
)
def test_bad_files_fail_with_one_line(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert reason(read_schedule, path).startswith(expected)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    assert reason(read_schedule, tmp_path / "nope.xml") == "file not found"
    assert reason(read_schedule, tmp_path / "nope.ifc") == "file not found"
    (tmp_path / "dir.xer").mkdir()
    assert reason(read_schedule, tmp_path / "dir.xer") == "not a regular file"


def test_schedule_error_is_an_ifc_processing_error(tmp_path: Path) -> None:
    with pytest.raises(IfcProcessingError):
        read_schedule(tmp_path / "nope.csv")
    assert issubclass(ScheduleError, IfcProcessingError)


def test_public_api_is_plain_values() -> None:
    expected = {
        "CalendarRecord",
        "ElementTaskRecord",
        "ScheduleError",
        "ScheduleRecord",
        "TaskLinkRecord",
        "TaskRecord",
        "read_element_task_table",
        "read_schedule",
    }
    assert expected <= set(schedules.__all__)
    for name in schedules.__all__:
        obj = getattr(schedules, name)
        if inspect.isfunction(obj):
            hints = typing.get_type_hints(obj)
            assert not any("ifcopenshell" in repr(h) or "xml.etree" in repr(h) for h in hints.values()), name
        if dataclasses.is_dataclass(obj):
            assert obj.__dataclass_params__.frozen, name
            assert hasattr(obj, "__slots__"), name
            hints = typing.get_type_hints(obj)
            assert not any("ifcopenshell" in repr(h) for h in hints.values()), name


def test_records_are_immutable(tmp_path: Path) -> None:
    record = read_schedule(write(tmp_path / "plan.csv", CSV))
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.tasks[0].name = "changed"  # type: ignore[misc]
