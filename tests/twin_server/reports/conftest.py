"""The host's Chinese font for the printable reports: required under CI (the Makefile
installs fonts-wqy-zenhei), skipped locally when there is none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import _missing
from twin_server.reports import find_cjk_font


@pytest.fixture(scope="session")
def cjk_font() -> Path:
    """An installed Chinese TrueType font (wqy-zenhei here and in CI)."""
    path = find_cjk_font()
    if path is None:
        _missing("no Chinese TrueType font is installed (apt-get install fonts-wqy-zenhei)")
    return path
