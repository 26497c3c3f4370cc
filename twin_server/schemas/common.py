from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


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
