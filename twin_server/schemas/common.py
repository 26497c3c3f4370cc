from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, field_validator

from ifc_processing.schedules.validate import EARLIEST, LATEST


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


#: A timestamp, always with its UTC offset in responses.
UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]


class Public(BaseModel):
    """Base of response models: built from domain dataclasses by attribute."""

    model_config = ConfigDict(from_attributes=True)


class ErrorPublic(BaseModel):
    """Every error response: ``{"error": code, "detail": ...}``."""

    error: str
    detail: object


def no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text, and no name or code needs one.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


#: A trimmed, non-blank single value (codes, names).
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Input(BaseModel):
    """Base of request bodies: unknown fields are refused, strings never hold NUL."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        _check_nested(value)
        return value


def _check_nested(value: object) -> None:
    # Strings inside lists and dicts (rule filters, id lists) reach the database too.
    if isinstance(value, str):
        no_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_nested(key)
            _check_nested(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_nested(item)


#: An IFC GlobalId: 22 characters of IFC's base-64 alphabet.
GlobalIdText = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_$]{22}$")]
#: A date a schedule can hold (typing errors like 0001-01-01 or 9999-12-31 are refused).
PlanDate = Annotated[dt.date, AfterValidator(lambda d: _in_window(d))]


def _in_window(day: dt.date) -> dt.date:
    # The same window every schedule file is checked against.
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return day
