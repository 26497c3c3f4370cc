"""Panel components of the viewer (state as params; their JS only renders)."""

from .scene import ModelScene

__all__ = ["ModelScene"]
