"""The browser pages: the project model page (Panel) and the log-in page (plain HTML)."""

from .login import login_page
from .model import ModelPage

__all__ = ["ModelPage", "login_page"]
