from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, field_validator


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
        return no_nul(value) if isinstance(value, str) else value
