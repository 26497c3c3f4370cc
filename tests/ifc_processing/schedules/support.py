"""Shared helpers of the schedule tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ifc_processing.schedules import ScheduleError


def reason(call: Callable[..., object], path: Path, **kwargs: object) -> str:
    """Call ``call(path, **kwargs)``, expect a ``ScheduleError`` with a one-line message that
    starts with the file name, and return its reason."""
    with pytest.raises(ScheduleError) as caught:
        call(path, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"{path.name}: "), message
    assert "\n" not in message and "Traceback" not in message, message
    return caught.value.reason


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path
