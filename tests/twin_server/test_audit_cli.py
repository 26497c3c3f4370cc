"""``twin audit verify`` as an auditor runs it, against a real database: exit 0 while every
issue's chain is intact, 1 naming the project, issue and event once a row was changed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.twin_server.conftest import BACKENDS, SECRET, running_api


def audit(database_url: str, data_dir, *args: str) -> subprocess.CompletedProcess[str]:
    """``twin audit verify ARGS`` against that database."""
    return twin(database_url, data_dir, "audit", "verify", *args)


@pytest.mark.parametrize("backend", BACKENDS)
def test_audit_verify_detects_an_edited_event(backend, tmp_path) -> None:
    with running_api(backend, tmp_path) as api:
        base = f"/api/projects/{api.node('P-EAST')}"
        for title in ("柱脚露筋", "楼板裂缝"):
            created = api.as_user(
                "inspector", "POST", f"{base}/issues", json={"kind": "quality", "title": title}
            )
            assert created.status_code == 201, created.text
        url = api.runtime.settings.sqlalchemy_url
        data_dir = api.runtime.settings.data_dir

        clean = audit(url, data_dir)
        assert clean.returncode == 0, clean.stderr
        assert "intact" in clean.stdout and "2 issues" in clean.stdout

        number = created.json()["number"]
        with api.runtime.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "UPDATE issue_events SET content = replace(content, '楼板裂缝', '楼板无裂缝') "
                    "WHERE issue_id = :issue AND sequence = 1"
                ),
                {"issue": created.json()["id"]},
            )
        broken = audit(url, data_dir)
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert f"TAMPERED project P-EAST issue #{number} event 1" in broken.stdout
        assert "chain broken" in broken.stdout
        one = audit(url, data_dir, "--project", "P-WEST")  # a project without issues: intact
        assert one.returncode == 0 and "0 issues" in one.stdout
        unknown = audit(url, data_dir, "--project", "NOPE")
        assert unknown.returncode == 2 and unknown.stderr.startswith("error: ")
        assert "Traceback" not in unknown.stderr


def twin(database_url: str, data_dir, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``twin`` command line on that database, as an operator runs it."""
    env = os.environ | {
        "TWIN_DATABASE_URL": database_url,
        "TWIN_DATA_DIR": str(data_dir),
        "TWIN_SECRET_KEY": SECRET,
        "TWIN_DEVELOPMENT": "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "twin_server.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


def test_an_anchor_kept_outside_finds_an_issue_deleted_whole(tmp_path) -> None:
    with running_api("sqlite", tmp_path) as api:
        base = f"/api/projects/{api.node('P-EAST')}"
        for title in ("甲", "乙"):
            api.as_user("inspector", "POST", f"{base}/issues", json={"kind": "quality", "title": title})
        url, data_dir = api.runtime.settings.sqlalchemy_url, api.runtime.settings.data_dir
        anchor = tmp_path / "anchor.json"
        written = twin(url, data_dir, "audit", "anchor", "--out", str(anchor))
        assert written.returncode == 0 and "P-EAST" in written.stdout, written.stderr
        assert twin(url, data_dir, "audit", "verify", "--anchor", str(anchor)).returncode == 0

        victim = api.as_user("hq", "GET", f"{base}/issues").json()["items"][0]
        with api.runtime.engine.begin() as connection:
            for table in (
                "issue_events",
                "issue_elements",
                "issue_viewpoints",
                "issue_comments",
                "issue_photos",
            ):
                connection.execute(sa.text(f"DELETE FROM {table} WHERE issue_id = :i"), {"i": victim["id"]})
            connection.execute(sa.text("DELETE FROM issues WHERE id = :i"), {"i": victim["id"]})
        assert audit(url, data_dir).returncode == 0  # without the anchor, nothing is left to see
        found = twin(url, data_dir, "audit", "verify", "--anchor", str(anchor))
        assert found.returncode == 1 and victim["guid"] in found.stdout and "deleted" in found.stdout

        anchor.write_text("not json")
        bad = twin(url, data_dir, "audit", "verify", "--anchor", str(anchor))
        assert bad.returncode == 2 and "not an anchor file" in bad.stderr and "Traceback" not in bad.stderr
