"""BCF exchange through the API, on SQLite and PostgreSQL: every corpus BCF file imports,
exports (2.1 and 3.0) and re-imports equal; re-imports add only what is new; our fields
survive a round trip; bad and malicious files are refused with a 4xx and store nothing."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import io
import itertools
import zipfile
from pathlib import Path

import pytest

from ifc_processing.bcf import BcfComment, read_bcf, write_bcf

_projects = itertools.count(1)


def new_project(api) -> tuple[int, str]:
    """A fresh project in the EAST region (seen by admin, hq and east, not by the users
    bound to P-EAST): its id and its URL prefix."""
    code = f"P-BCF-{next(_projects)}"
    response = api.as_user(
        "admin", "POST", f"/api/org/nodes/{api.node('EAST')}/projects", json={"code": code, "name": code}
    )
    assert response.status_code == 201, response.text
    project_id = response.json()["id"]
    return project_id, f"/api/projects/{project_id}"


def upload(api, base: str, data: bytes, name: str = "issues.bcf", user: str = "admin"):
    return api.as_user(
        user, "POST", f"{base}/bcf/import", files={"file": (name, data, "application/octet-stream")}
    )


def export(api, base: str, version: str, **params) -> bytes:
    response = api.as_user("admin", "GET", f"{base}/bcf/export", params={"version": version, **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    return response.content


def snapshot_of(api, base: str) -> list[dict]:
    """Everything the project holds of its issues that a BCF file can carry, comparable
    across projects (ids, numbers and import-time events left out)."""
    issues = api.as_user("admin", "GET", f"{base}/issues", params={"limit": 1000}).json()["items"]
    out = []
    for summary in sorted(issues, key=lambda i: i["guid"]):
        issue = api.as_user("admin", "GET", f"{base}/issues/{summary['id']}").json()
        out.append(
            {
                "guid": issue["guid"],
                "title": issue["title"],
                "description": issue["description"],
                "kind": issue["kind"],
                "severity": issue["severity"],
                "status": issue["status"],
                "priority": issue["priority"],
                "labels": issue["labels"],
                "due_date": issue["due_date"],
                "assignee": issue["assignee"],
                "creator": issue["creator"],
                "created_at": issue["created_at"],
                "topic_type": issue["topic_type"],
                "stage": issue["stage"],
                "fourd_date": issue["fourd_date"],
                "global_ids": issue["global_ids"],
                "comments": [
                    (c["guid"], c["author"], c["text"], c["created_at"], c["viewpoint_guid"])
                    for c in issue["comments"]
                ],
                "viewpoints": [{k: v for k, v in vp.items()} for vp in issue["viewpoints"]],
            }
        )
    return out


def without_aspect_ratio(snapshot: list[dict], like: list[dict] | None = None) -> list[dict]:
    """The snapshot without camera aspect ratios (all, or those ``like`` lacks): the one
    field BCF versions disagree on — 2.1 has no AspectRatio, 3.0 requires one (the writer
    takes it from the snapshot image when the source had none)."""
    out = copy.deepcopy(snapshot)
    for n, issue in enumerate(out):
        for k, viewpoint in enumerate(issue["viewpoints"]):
            source = like[n]["viewpoints"][k] if like is not None else None
            if viewpoint.get("camera") and (source is None or source["camera"]["aspect_ratio"] is None):
                viewpoint["camera"]["aspect_ratio"] = None
    return out


def assert_same(got: list[dict], expected: list[dict], what: str) -> None:
    """Equal snapshots, or the issue and the field that differ named."""
    assert len(got) == len(expected), what
    for mine, theirs in zip(got, expected, strict=True):
        for key in theirs:
            if key == "viewpoints":
                for a, b in zip(mine[key], theirs[key], strict=True):
                    assert a == b, (what, theirs["guid"], {k for k in a if a[k] != b.get(k)})
            assert mine[key] == theirs[key], (what, theirs["guid"], key)


@pytest.fixture(scope="module")
def corpus_files(corpus) -> list[Path]:
    files = sorted((corpus / "bcf").glob("*.bcf*"))
    assert len(files) >= 11, files
    return files


@pytest.mark.corpus
@pytest.mark.parametrize("version", ["2.1", "3.0"])
def test_every_corpus_file_imports_exports_and_reimports_equal(api, corpus_files, version) -> None:
    for path in corpus_files:
        data = path.read_bytes()
        _, first = new_project(api)
        report = upload(api, first, data, path.name)
        assert report.status_code == 200, (path.name, report.text)
        expected = len(read_bcf(path).topics)
        assert report.json()["topics"] == report.json()["created"] == expected, path.name
        imported = snapshot_of(api, first)
        assert len(imported) == expected

        exported = export(api, first, version)
        assert read_bcf(exported, name="export.bcf").version == version
        _, second = new_project(api)
        again = upload(api, second, exported, "export.bcf")
        assert again.status_code == 200, (path.name, again.text)
        copied = snapshot_of(api, second)
        if version == "2.1":
            assert_same(without_aspect_ratio(copied), without_aspect_ratio(imported), path.name)
        else:
            assert_same(without_aspect_ratio(copied, like=imported), imported, path.name)

        # The same file into the project it came from: nothing new, nothing duplicated.
        for source in (data, exported):
            repeat = upload(api, first, source, path.name).json()
            assert repeat["created"] == repeat["updated"] == repeat["comments_added"] == 0, (
                path.name,
                repeat,
            )
            assert repeat["viewpoints_added"] == repeat["status_changes"] == 0, (path.name, repeat)
        assert_same(snapshot_of(api, first), imported, path.name)


@pytest.mark.corpus
def test_real_exports_keep_their_content(api, corpus) -> None:
    """Solibri's and Tekla BIMsight's files, read as a coordinator would see them."""
    _, base = new_project(api)
    upload(api, base, (corpus / "bcf" / "Schependomlaan_Controle_Multicom_01-04-2015.bcfzip").read_bytes())
    issues = snapshot_of(api, base)
    assert len(issues) == 2 and all(i["kind"] == "coordination" and i["status"] == "open" for i in issues)
    texts = [c[2] for i in issues for c in i["comments"]]
    assert any("Bordessen" in t for t in texts)
    assert all(i["viewpoints"] and i["viewpoints"][0]["snapshot_sha256"] for i in issues)

    _, base = new_project(api)
    upload(api, base, (corpus / "bcf" / "v2.1_ComponentSelection.bcf").read_bytes())
    (issue,) = snapshot_of(api, base)
    assert issue["global_ids"] and all(len(g) == 22 for g in issue["global_ids"])
    # Pinned by IfcGuid: the element list filter finds the issue by one of them.
    found = api.as_user("hq", "GET", f"{base}/issues", params={"element": issue["global_ids"][0]}).json()
    assert found["total"] == 1


def test_our_fields_survive_a_round_trip(api) -> None:
    _, base = new_project(api)
    users = {u["username"]: u["id"] for u in api.as_user("admin", "GET", f"{base}/users").json()}
    created = api.as_user(
        "admin",
        "POST",
        f"{base}/issues",
        json={
            "kind": "safety",
            "title": "临边防护缺失",
            "description": "三层楼板东侧临边无防护栏杆",
            "severity": "major",
            "treatment_plan": "设置防护栏杆",
            "labels": ["A区", "临边"],
            "assignee_id": users["east"],
            "due_date": "2026-12-20",
            "global_ids": ["2O2Fr$t4X7Zf8NOew3FLOH"],
            "point_m": [12.5, 3.25, 9.0],
            "fourd_date": "2025-06-01",
            "viewpoint": {
                "camera": {
                    "position_m": [30, -20, 25],
                    "direction": [-0.6, 0.5, -0.6],
                    "field_of_view_deg": 60,
                }
            },
        },
    )
    assert created.status_code == 201, created.text
    issue = created.json()
    api.as_user("admin", "POST", f"{base}/issues/{issue['id']}/comments", json={"text": "请尽快整改"})
    for version in ("2.1", "3.0"):
        data = export(api, base, version)
        topic = read_bcf(data, name="x.bcf").topics[0]
        assert topic.topic_status == "Open"
        if version == "3.0":  # 2.1 has no ServerAssignedId
            assert topic.server_assigned_id == str(issue["number"])
        assert {"erji:kind=safety", "erji:severity=major", "erji:status=open", "erji:4d=2025-06-01"} <= set(
            topic.labels
        )
        assert topic.viewpoints[0].camera.position_m == (30.0, -20.0, 25.0)
        _, other = new_project(api)
        upload(api, other, data)
        (copy,) = snapshot_of(api, other)
        assert (copy["kind"], copy["severity"], copy["status"], copy["fourd_date"]) == (
            "safety",
            "major",
            "open",
            "2025-06-01",
        )
        assert copy["labels"] == ["A区", "临边"] and copy["assignee"] == "east"  # matched to the user again
        assert copy["comments"][0][2] == "请尽快整改"
        assert copy["global_ids"] == ["2O2Fr$t4X7Zf8NOew3FLOH"]
    only_closed = read_bcf(export(api, base, "3.0", status="closed"), name="x.bcf")
    assert only_closed.topics == ()


def test_a_reimport_adds_new_comments_and_status_changes_as_events(api) -> None:
    _, base = new_project(api)
    created = api.as_user(
        "admin", "POST", f"{base}/issues", json={"kind": "coordination", "title": "风管与梁碰撞"}
    )
    quality = api.as_user(
        "admin", "POST", f"{base}/issues", json={"kind": "quality", "title": "预留洞口偏位"}
    )
    exported = export(api, base, "3.0")
    bcf = read_bcf(exported, name="x.bcf")
    # The designer answers in their tool and closes both topics (their tool stamps the change).
    when = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    topics = tuple(
        dataclasses.replace(
            t,
            topic_status="Closed",
            modified_date=when,
            comments=(
                *t.comments,
                BcfComment(
                    guid=f"c{n}0000000-0000-4000-8000-000000000000",
                    date=when,
                    author="designer",
                    text="已调整风管标高",
                ),
            ),
        )
        for n, t in enumerate(bcf.topics)
    )
    answered = write_bcf(dataclasses.replace(bcf, topics=topics), version="2.1")
    report = upload(api, base, answered, "answer.bcf").json()
    assert report["created"] == 0 and report["updated"] == 2
    assert report["comments_added"] == 2 and report["status_changes"] == 1
    assert len(report["status_kept"]) == 1 and "Closed" in report["status_kept"][0]
    coordination = api.as_user("admin", "GET", f"{base}/issues/{created.json()['id']}").json()
    assert coordination["status"] == "closed"
    assert coordination["comments"][-1]["author"] == "designer"
    events = api.as_user("admin", "GET", f"{base}/issues/{created.json()['id']}/events").json()
    assert {"status_updated", "comment_added"} <= {e["type"] for e in events}
    closing = next(e for e in events if e["type"] == "status_updated" and e["value"].get("source") == "bcf")
    assert closing["value"]["to"] == "closed" and closing["value"]["topic_status"] == "Closed"
    kept = api.as_user("admin", "GET", f"{base}/issues/{quality.json()['id']}").json()
    assert kept["status"] == "draft"  # the 整改 → 复查 loop decides, not the file
    # Again: nothing new (the reported status is recorded once).
    again = upload(api, base, answered, "answer.bcf").json()
    assert again["updated"] == again["comments_added"] == again["status_changes"] == 0
    # The older export, imported after: its "Open" is not news, nothing is reopened.
    old = upload(api, base, exported, "old.bcf").json()
    assert old["status_changes"] == 0 and old["updated"] == 0
    assert api.as_user("admin", "GET", f"{base}/issues/{created.json()['id']}").json()["status"] == "closed"
    audit = api.as_user("hq", "GET", f"{base}/issues/audit").json()
    assert audit["intact"] is True


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


TOPIC = "a1b2c3d4-0000-4000-8000-000000000001"
MARKUP = (
    b'<?xml version="1.0"?><Markup><Topic Guid="a1b2c3d4-0000-4000-8000-000000000001">'
    b"<Title>x</Title></Topic></Markup>"
)
ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<Markup><Topic Guid="x"><Title>&b;</Title></Topic></Markup>'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<Markup><Topic Guid="x"><Title>&x;</Title></Topic></Markup>'
)
BAD_FILES = {
    "not a zip": (b"this is not a zip archive", "issues.bcf"),
    "zip slip": (
        _zip({"bcf.version": b"<Version VersionId='2.1'/>", "../../evil/markup.bcf": MARKUP}),
        "x.bcf",
    ),
    "entity bomb": (_zip({f"{TOPIC}/markup.bcf": ENTITY_BOMB}), "x.bcfzip"),
    "external entity": (_zip({f"{TOPIC}/markup.bcf": EXTERNAL_ENTITY}), "x.bcf"),
    "markup not xml": (_zip({f"{TOPIC}/markup.bcf": b"<Markup><Topic"}), "x.bcf"),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=str)
def test_bad_and_malicious_files_are_refused_and_store_nothing(api, case) -> None:
    _, base = new_project(api)
    data, name = BAD_FILES[case]
    response = upload(api, base, data, name)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_bcf" and name in response.json()["detail"]
    assert api.as_user("admin", "GET", f"{base}/issues").json()["total"] == 0


def test_a_zip_bomb_is_refused(api) -> None:
    _, base = new_project(api)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bcf.version", b'<Version VersionId="2.1"/>')
        with archive.open(f"{TOPIC}/snapshot.png", "w") as member:
            block = b"\0" * (1024 * 1024)
            for _ in range(300):  # 300 MB of zeros in ~300 kB: a ratio no real snapshot has
                member.write(block)
        archive.writestr(f"{TOPIC}/markup.bcf", MARKUP)
    response = upload(api, base, out.getvalue())
    assert response.status_code == 422, response.text
    assert api.as_user("admin", "GET", f"{base}/issues").json()["total"] == 0


def test_only_bcf_files_and_only_coordinators_import(api) -> None:
    base = f"/api/projects/{api.node('P-EAST')}"
    wrong = upload(api, base, _zip({"a.txt": b"x"}), "issues.zip", user="bim")
    assert (wrong.status_code, wrong.json()["error"]) == (415, "unsupported_file_type")
    assert upload(api, base, MARKUP, "x.bcf", user="inspector").status_code == 403
    assert upload(api, base, MARKUP, "x.bcf", user="hq").status_code == 403
    west = f"/api/projects/{api.node('P-WEST')}"
    assert upload(api, west, MARKUP, "x.bcf", user="bim").status_code == 404
    bad_version = api.as_user("bim", "GET", f"{base}/bcf/export", params={"version": "1.0"})
    assert bad_version.status_code == 422


def test_a_file_edits_live_coordination_topics_only_when_newer_and_never_the_inspectors_issues(api) -> None:
    _, base = new_project(api)
    users = {u["username"]: u["id"] for u in api.as_user("admin", "GET", f"{base}/users").json()}
    topic = api.as_user(
        "admin", "POST", f"{base}/issues", json={"kind": "coordination", "title": "风管碰撞"}
    ).json()
    hazard = api.as_user(
        "admin",
        "POST",
        f"{base}/issues",
        json={
            "kind": "safety",
            "title": "临边防护缺失",
            "assignee_id": users["east"],
            "due_date": "2026-12-20",
        },
    ).json()
    bcf = read_bcf(export(api, base, "3.0"), name="x.bcf")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    edited = tuple(
        dataclasses.replace(
            t,
            title=t.title + "（已改）",
            assigned_to="east",
            due_date=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
            modified_date=later,
        )
        for t in bcf.topics
    )
    report = upload(api, base, write_bcf(dataclasses.replace(bcf, topics=edited), version="3.0")).json()
    assert report["updated"] == 1
    coordination = api.as_user("admin", "GET", f"{base}/issues/{topic['id']}").json()
    assert coordination["title"] == "风管碰撞（已改）" and coordination["assignee"] == "east"
    kept = api.as_user("admin", "GET", f"{base}/issues/{hazard['id']}").json()
    assert (kept["title"], kept["assignee"], kept["due_date"]) == ("临边防护缺失", "east", "2026-12-20")
    # The same edits without a newer ModifiedDate change nothing (an old file never undoes work).
    api.as_user("admin", "PATCH", f"{base}/issues/{topic['id']}", json={"title": "风管碰撞 v2"})
    stale = tuple(dataclasses.replace(t, modified_date=None) for t in edited)
    upload(api, base, write_bcf(dataclasses.replace(bcf, topics=stale), version="3.0"))
    assert api.as_user("admin", "GET", f"{base}/issues/{topic['id']}").json()["title"] == "风管碰撞 v2"
    assert api.as_user("hq", "GET", f"{base}/issues/audit").json()["intact"] is True


def test_our_own_export_reimports_without_any_change(api) -> None:
    _, base = new_project(api)
    created = api.as_user(
        "admin",
        "POST",
        f"{base}/issues",
        json={
            "kind": "quality",
            "title": "墙面空鼓",
            "description": "面积约 0.5 m²，敲击有空响。  \n",
            "labels": ["抹灰"],
            "point_m": [1.5, -2.25, 3.0],
            "fourd_date": "2025-05-01",
        },
    ).json()
    for version in ("2.1", "3.0"):
        report = upload(api, base, export(api, base, version)).json()
        assert report["updated"] == report["comments_added"] == report["viewpoints_added"] == 0, report
    events = api.as_user("admin", "GET", f"{base}/issues/{created['id']}/events").json()
    assert [e["type"] for e in events] == ["created"]
    _, other = new_project(api)
    upload(api, other, export(api, base, "3.0"))
    (copy,) = api.as_user("admin", "GET", f"{other}/issues").json()["items"]
    assert copy["point_m"] == [1.5, -2.25, 3.0]  # the pin travels as erji:point


def test_odd_identifiers_dates_and_duplicates_are_made_safe(api) -> None:
    """What PostgreSQL would refuse (long guids, year 1, odd snapshot names) and what would
    make re-imports restless (duplicate comment guids) is normalised on import."""
    from ifc_processing.bcf import BcfCamera, BcfComment, BcfFile, BcfTopic, BcfViewpoint

    _, base = new_project(api)
    long_guid = "x" * 80
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    topic = BcfTopic(
        guid=long_guid,
        title="旧系统问题",
        topic_status="Open",
        creation_date=dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        modified_date=dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        comments=(
            BcfComment(guid="DUP", date=dt.datetime(2020, 1, 1, tzinfo=dt.UTC), author="a", text="first"),
            BcfComment(guid="dup", date=dt.datetime(2020, 1, 2, tzinfo=dt.UTC), author="b", text="second"),
            BcfComment(guid="y" * 80, date=dt.datetime(1, 1, 1, tzinfo=dt.UTC), author="c", text="ancient"),
        ),
        viewpoints=(
            BcfViewpoint(
                guid="v" * 80,
                camera=BcfCamera("perspective", (0.0, 0.0, 10.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), 60.0),
                snapshot=png,
                snapshot_type="verylongext",
            ),
        ),
    )
    data = write_bcf(BcfFile(version="3.0", topics=(topic,)), version="3.0")
    first = upload(api, base, data)
    assert first.status_code == 200, first.text
    (issue,) = api.as_user("admin", "GET", f"{base}/issues").json()["items"]
    detail = api.as_user("admin", "GET", f"{base}/issues/{issue['id']}").json()
    assert len(detail["guid"]) == 36 and {len(c["guid"]) for c in detail["comments"]} == {36}
    assert sorted(c["text"] for c in detail["comments"]) == ["ancient", "first"]  # "DUP" and "dup": one
    assert all(1900 <= int(c["created_at"][:4]) < 2200 for c in detail["comments"])
    assert api.as_user("admin", "GET", f"{base}/bcf/export").status_code == 200  # the project stays readable
    for _ in range(2):
        again = upload(api, base, data).json()
        assert again["updated"] == again["comments_added"] == again["viewpoints_added"] == 0, again


@pytest.mark.corpus
def test_times_with_an_offset_are_stored_in_utc(api, corpus) -> None:
    """Solibri wrote 2016-04-21T15:07:26+02:00: that is 13:07:26 UTC on both databases."""
    _, base = new_project(api)
    path = corpus / "bcf" / "Schependomlaan_ROOT-Compleet_interne_modelkwaliteit.bcfzip"
    upload(api, base, path.read_bytes(), path.name)
    topics = {t.guid: t for t in read_bcf(path).topics}
    for issue in api.as_user("admin", "GET", f"{base}/issues").json()["items"]:
        source = topics[issue["guid"]].creation_date
        assert dt.datetime.fromisoformat(issue["created_at"]) == source
