"""The committed three.js bundle is exactly what the pinned sources build."""

from __future__ import annotations

import hashlib
import re
import subprocess

from viewer.components.scene import BUNDLE, ModelScene


def _sources_digest(js_root) -> str:
    """The digest tools/build.mjs writes into the bundle's first line (same recipe)."""
    digest = hashlib.sha256()
    names = [*sorted(f"src/{p.name}" for p in (js_root / "src").glob("*.js")), "package-lock.json"]
    for name in names:
        digest.update(name.encode() + b"\0" + (js_root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def test_the_bundle_records_the_sources_and_lock_it_was_built_from(node_tools) -> None:
    first_line = BUNDLE.read_text(encoding="utf-8").split("\n", 1)[0]
    match = re.fullmatch(
        r"/\* erji-twin viewer bundle; three (\S+); sources sha256 ([0-9a-f]{64}) \*/", first_line
    )
    assert match, first_line
    assert match.group(1) == "0.187.0"  # the version pinned in viewer/js/package.json
    assert match.group(2) == _sources_digest(node_tools), "sources changed: run `make bundle` and commit it"


def test_rebuilding_the_bundle_gives_the_committed_bytes(node_tools) -> None:
    completed = subprocess.run(
        ["node", "tools/build.mjs", "--check"], cwd=node_tools, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr


def test_the_bundle_imports_nothing_and_names_no_other_host() -> None:
    code = BUNDLE.read_text(encoding="utf-8")
    assert not re.search(r"(^|[;\n])\s*import\s*[\w{*'\"]", code)  # one self-contained ES module
    assert "esm.sh" not in code and "unpkg" not in code and "jsdelivr" not in code
    hosts = set(re.findall(r"https?://([\w.-]+)", code))
    assert hosts <= {"www.w3.org"}, hosts  # XML namespace strings only, never fetched


def test_the_component_serves_the_prebuilt_bundle_even_in_dev_mode() -> None:
    """Panel's autoreload ignores `_bundle`; with `_esm` the same pre-built file, dev mode
    still loads our bundle instead of resolving three.js from a CDN import map."""
    assert ModelScene._esm == BUNDLE and ModelScene._bundle == BUNDLE
    assert not ModelScene._importmap
