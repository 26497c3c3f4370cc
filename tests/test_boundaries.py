"""Package boundaries from DESIGN.md, enforced.

import-linter checks the static imports (contracts in pyproject.toml); the subprocess
checks catch what a static check cannot: modules pulled in at import time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("ifc_processing", ["twin_server", "viewer", "geodata", "sample_models", "fastapi", "sqlalchemy"]),
        ("sample_models", ["twin_server", "viewer", "geodata", "ifc_processing"]),
    ],
)
def test_importing_a_library_loads_none_of_its_forbidden_neighbours(
    package: str, forbidden: list[str]
) -> None:
    code = (
        f"import sys, {package}; "
        f"bad = [m for m in {forbidden!r} if m in sys.modules]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{package} imported {result.stdout.strip()} {result.stderr[-500:]}"


def test_ifc_processing_public_api_exposes_no_ifcopenshell_types() -> None:
    import inspect
    import typing

    import ifc_processing

    for name in ifc_processing.__all__:
        obj = getattr(ifc_processing, name)
        if inspect.isfunction(obj):
            hints = typing.get_type_hints(obj)
            assert not any("ifcopenshell" in repr(h) for h in hints.values()), (name, hints)
        if inspect.isclass(obj) and hasattr(obj, "__dataclass_fields__"):
            hints = typing.get_type_hints(obj)
            assert not any("ifcopenshell" in repr(h) for h in hints.values()), (name, hints)
