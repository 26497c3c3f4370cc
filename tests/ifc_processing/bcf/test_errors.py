"""The error hierarchy and the package surface the server is written against."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
import typing
from pathlib import Path

import ifc_processing.bcf as bcf_package
from ifc_processing import IfcProcessingError
from ifc_processing.bcf import BcfError, BcfLimits, UnsafeBcfError, read_bcf, write_bcf

ROOT = Path(__file__).resolve().parents[3]


def test_errors_are_one_line_and_name_the_file() -> None:
    error = UnsafeBcfError(
        Path("/uploads/x/issues.bcfzip"), "member '../evil' has a '..' component (zip slip)"
    )
    assert isinstance(error, BcfError) and isinstance(error, IfcProcessingError)
    assert str(error) == "issues.bcfzip: member '../evil' has a '..' component (zip slip)"
    assert error.reason == "member '../evil' has a '..' component (zip slip)"


def test_the_public_api_is_plain_records_and_two_functions() -> None:
    assert list(inspect.signature(read_bcf).parameters) == ["source", "name", "limits"]
    assert list(inspect.signature(write_bcf).parameters) == ["bcf", "version"]
    for name in bcf_package.__all__:
        obj = getattr(bcf_package, name)
        if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
            hints = typing.get_type_hints(obj)
            assert not any(m in repr(h) for h in hints.values() for m in ("bcf.v", "xsdata", "Element")), name
            assert obj.__dataclass_params__.frozen, name  # type: ignore[attr-defined]
    limits = BcfLimits()
    assert limits.max_ratio > 100 and limits.max_members >= 10_000


def test_importing_the_package_loads_no_server_code() -> None:
    code = (
        "import sys, ifc_processing.bcf; "
        "bad = [m for m in ('twin_server', 'fastapi', 'sqlalchemy', 'viewer') if m in sys.modules]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr[-500:]
