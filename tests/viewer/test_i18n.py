"""One catalogue, two languages, and no page asks for a word it lacks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from viewer.i18n import CATALOGUE, LANGUAGES, labels, text

VIEWER = Path(__file__).resolve().parents[2] / "viewer"


def test_every_string_exists_in_every_language() -> None:
    for key, entry in CATALOGUE.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(value.strip() for value in entry.values()), key
    # Chinese is really Chinese where the English has letters (no forgotten copy-paste).
    untranslated = [k for k, v in CATALOGUE.items() if v["zh"] == v["en"] and re.search(r"[a-z]{3}", v["en"])]
    assert untranslated == ["global_id"], untranslated


def test_a_missing_key_is_an_error_and_an_unknown_language_falls_back_to_chinese() -> None:
    with pytest.raises(KeyError):
        text("no_such_key", "zh")
    assert text("play", "fr") == text("play", "zh") == "播放"
    assert labels("en")["play"] == "Play"


def test_every_key_the_pages_and_the_3d_overlays_use_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for path in (VIEWER / "pages").glob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
        used |= set(re.findall(r"""_t\(\s*["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
    for path in [*(VIEWER / "js" / "src").glob("*.js"), *(VIEWER / "components").glob("sitemap.js")]:
        used |= set(re.findall(r"labels(?:\(\))?\.([a-z_]+)", path.read_text(encoding="utf-8")))
    assert used, "the scan found nothing: the patterns are out of date"
    assert used - set(CATALOGUE) == set()
    # Keys built from a prefix: every status, mode, section axis and legend.
    for prefix, names in {
        "status_": ["no_task", "not_started", "in_progress", "done", "late", "ahead"],
        "mode_": ["status", "class", "storey", "original"],
        "section_": ["off", "x", "y", "z"],
        "legend_": ["status", "class", "storey", "custom"],
        # the portfolio dashboard
        "light_": ["green", "yellow", "red", "none"],
        "dim_": ["schedule", "quality", "safety", "other"],
        "sort_": ["rank", "score", "alerts"],
        "alert_status_": ["open", "acknowledged", "resolved"],
        "improvement_status_": ["planned", "done", "checked"],
        # the site map: where a location comes from, how a model was placed
        "map_location_": ["project", "model", "none"],
        "map_georef_": ["map_conversion", "site_reference", "project_site"],
    }.items():
        assert {prefix + n for n in names} <= set(CATALOGUE)


def test_the_map_canvas_is_sent_every_word_it_shows() -> None:
    """The canvas gets only ``MAP_LABELS`` (not the whole catalogue): each key its script
    reads must be among them."""
    from viewer.pages.sitemap import MAP_LABELS

    script = (VIEWER / "components" / "sitemap.js").read_text(encoding="utf-8")
    used = set(re.findall(r"labels\(\)\.([a-z_]+)", script))
    assert used and used <= set(MAP_LABELS) <= set(CATALOGUE)
