"""Errors raised by ``geodata``.

Every error derives from one root; its message is one English sentence naming the value
and the reason, ready to show to a BIM coordinator::

    GeodataError                      root: catch this to handle any georeferencing failure
     ├── UnknownCRSError              PROJ cannot identify the CRS, or it is not a projected one
     ├── InvalidGeoreferenceError     numbers that cannot place a model (zero axis, scale <= 0,
     │                                NaN, an angle out of range, a point off the earth)
     └── InvalidFootprintError        an outline that is empty once degenerate parts are dropped

Bad argument *types* (a string where an array is due) raise the usual ``TypeError`` /
``ValueError``; these classes are for bad *data* a model file can contain.
"""

from __future__ import annotations

__all__ = ["GeodataError", "InvalidFootprintError", "InvalidGeoreferenceError", "UnknownCRSError"]


class GeodataError(Exception):
    """Root of all errors of this package."""


class UnknownCRSError(GeodataError):
    """The coordinate reference system is unknown to PROJ or is not a projected CRS."""


class InvalidGeoreferenceError(GeodataError):
    """Georeferencing values that cannot place a model on the earth."""


class InvalidFootprintError(GeodataError):
    """A footprint that is empty or cannot be made into a valid polygon."""
