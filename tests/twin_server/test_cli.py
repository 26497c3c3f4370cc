"""``twin ingest`` as a user runs it: exit codes, output, no tracebacks on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.factories import add_wall, tiny_model

MALFORMED = sorted((CORPUS / "malformed").glob("*.ifc")) if (CORPUS / "malformed").is_dir() else []


def twin(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twin_server.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture()
def model_file(tmp_path: Path) -> Path:
    model = tiny_model()
    add_wall(model, "W1")
    return model.write(tmp_path / "m.ifc")


def test_ingest_json_prints_only_the_summary(model_file: Path, tmp_path: Path) -> None:
    result = twin("ingest", model_file, "--out", tmp_path / "out", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["element_count"] == 1
    assert summary["outputs"]["model.glb"] == (tmp_path / "out" / "model.glb").stat().st_size
    assert result.stderr == ""


def test_ingest_shows_progress_and_a_summary_table(model_file: Path, tmp_path: Path) -> None:
    result = twin("ingest", model_file, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    for stage in ("opening", "elements & properties", "geometry", "writing GLB", "writing records"):
        assert stage in result.stderr
    assert "with geometry" in result.stdout and "m.ifc" in result.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\0\0", "PNG image"),
        (b"ISO-10303-21;\nHEADER;", "truncated"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    bad = tmp_path / "bad.ifc"
    bad.write_bytes(content)
    result = twin("ingest", bad, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        line for line in result.stderr.splitlines() if expected in line
    ]
    assert not (tmp_path / "out").exists()


@pytest.mark.corpus
@pytest.mark.parametrize(
    "path", [*MALFORMED, CORPUS / "ifc" / "KIT-Simple-Road-Test_IFC4X3_RC2.ifc"], ids=lambda p: p.name
)
def test_every_malformed_corpus_file_exits_2(path: Path, tmp_path: Path) -> None:
    result = twin("ingest", path, "--out", tmp_path / "out", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {path.name}: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert twin().returncode == 2
    assert twin("ingest", tmp_path / "x.ifc").returncode == 2  # --out missing
    assert twin("nonsense").returncode == 2


def test_negative_workers_is_a_usage_error(model_file: Path, tmp_path: Path) -> None:
    result = twin("ingest", model_file, "--out", tmp_path / "out", "--workers", "-1")
    assert result.returncode == 2
    assert "negative" in result.stderr


def test_ctrl_c_exits_130_without_a_traceback_and_writes_nothing(tmp_path: Path) -> None:
    import signal
    import time

    from sample_models import write_building

    source = write_building(tmp_path / "big.ifc", storeys=8, bays_x=8, bays_y=6)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twin_server.cli",
            "ingest",
            str(source),
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)  # well inside the run: opening and extraction take longer
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.ifc"]
