"""Shared fixtures: the real-world corpus, Node.js tools, and cached pipeline runs.

The corpus lives outside the repository (``../shared/corpus``, or ``ERJI_CORPUS``) and is
never copied into it. Under CI (``CI=true``) a missing corpus or Node.js fails the run
instead of skipping, so corpus tests can never pass by not running.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ERJI_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()
NODE_TOOLS = ROOT / "viewer" / "js"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI=true: required, not skipped)", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared real-world test corpus folder."""
    if not (CORPUS / "MANIFEST.md").is_file():
        _missing(f"test corpus not found at {CORPUS}")
    return CORPUS


def corpus_ifc_files() -> list[Path]:
    """Every IFC in the corpus' ifc/ folder (empty list if the corpus is absent)."""
    folder = CORPUS / "ifc"
    return (
        sorted(p for p in folder.glob("*") if p.suffix.lower() in (".ifc", ".ifczip"))
        if folder.is_dir()
        else []
    )


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """``viewer/js`` with its npm dependencies installed (three.js, glTF validator)."""
    if shutil.which("node") is None:
        _missing("node is not installed")
    if not (NODE_TOOLS / "node_modules" / "three").is_dir():
        _missing("viewer/js/node_modules is missing: run `make test` (it runs npm ci)")
    return NODE_TOOLS


def run_node_tool(node_tools: Path, tool: str, *args: str | Path) -> dict:
    """Run ``viewer/js/tools/<tool>.mjs`` and parse its JSON output."""
    completed = subprocess.run(
        ["node", str(node_tools / "tools" / f"{tool}.mjs"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout)


class ProcessedModels:
    """Runs ``process_model`` once per (file, options) per test session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._done: dict[tuple, tuple[Path, object]] = {}

    def get(self, path: Path, **options):
        from ifc_processing import process_model

        key = (str(path), tuple(sorted(options.items())))
        if key not in self._done:
            out = self.root / f"{len(self._done):03d}-{path.stem}"
            summary = process_model(path, out, **options)
            self._done[key] = (out, summary)
        return self._done[key]


@pytest.fixture(scope="session")
def processed(tmp_path_factory: pytest.TempPathFactory) -> ProcessedModels:
    """Cached pipeline outputs: ``processed.get(path, **options) -> (out_dir, summary)``."""
    return ProcessedModels(tmp_path_factory.mktemp("processed"))
