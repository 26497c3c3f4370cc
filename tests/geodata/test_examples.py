"""The ``Example::`` blocks in geodata's docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

import geodata
import geodata.errors

MODULES = ["geodata.crs", "geodata.georeference", "geodata.offsets", "geodata.footprints", "geodata.io"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


def test_every_public_name_is_exported_and_documented() -> None:
    for name in geodata.__all__:
        value = getattr(geodata, name)
        if callable(value):
            assert value.__doc__, f"geodata.{name} has no docstring"


@pytest.mark.parametrize(
    "error", [geodata.UnknownCRSError, geodata.InvalidGeoreferenceError, geodata.InvalidFootprintError]
)
def test_every_error_derives_from_the_one_root(error: type[Exception]) -> None:
    assert issubclass(error, geodata.GeodataError)
    assert error.__module__ == geodata.errors.__name__
