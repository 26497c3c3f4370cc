"""``write_bcf``: corpus round trips through 2.1 and 3.0, a record built in code, the layout
and determinism of the zip, and what the writer does with values a version cannot hold."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from ifc_processing.bcf import (
    BcfBimSnippet,
    BcfBitmap,
    BcfCamera,
    BcfClippingPlane,
    BcfColoring,
    BcfComment,
    BcfComponent,
    BcfDocument,
    BcfDocumentReference,
    BcfExtensions,
    BcfFile,
    BcfHeaderFile,
    BcfLine,
    BcfTopic,
    BcfViewpoint,
    read_bcf,
    write_bcf,
)
from ifc_processing.bcf.read import derived_guid

from .support import CORPUS_BCF, corpus_bcf, differences, expected_after, image, linked

CST = dt.timezone(dt.timedelta(hours=8))
VERSIONS = ("2.1", "3.0")
JPEG = image("jpg", (64, 48))
PNG = image("png", (30, 20), (10, 120, 240))


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


# --------------------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def sources(corpus: Path) -> dict[str, BcfFile]:
    return {name: read_bcf(corpus_bcf(corpus, name)) for name in CORPUS_BCF}


@pytest.mark.corpus
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", CORPUS_BCF)
def test_corpus_files_survive_a_round_trip(sources: dict[str, BcfFile], name: str, version: str) -> None:
    source = sources[name]
    written = write_bcf(source, version=version)
    again = read_bcf(written, name=f"{name}.{version}.bcf")
    assert differences(linked(again), linked(expected_after(source, version))) == []
    # Written once, the records are a fixed point: writing what was read gives the same bytes.
    assert write_bcf(again, version=version) == written


@pytest.mark.corpus
def test_the_round_trip_keeps_what_issues_are_made_of(sources: dict[str, BcfFile]) -> None:
    """Spelled out for one rich file, so a lenient ``expected_after`` could not hide a loss."""
    source = sources["v2.1_MaximumInformation.bcf"]
    for version in VERSIONS:
        again = read_bcf(write_bcf(source, version=version))
        for before, after in zip(source.topics, again.topics, strict=True):
            for field in (
                "guid",
                "title",
                "labels",
                "due_date",
                "stage",
                "assigned_to",
                "priority",
                "comments",
            ):
                assert getattr(after, field) == getattr(before, field), (version, field)
            for field in ("topic_type", "topic_status"):
                assert getattr(after, field) == (
                    getattr(before, field) or ("Unknown" if version == "3.0" else None)
                )
            for vp_before, vp_after in zip(before.viewpoints, after.viewpoints, strict=True):
                assert vp_after.snapshot == vp_before.snapshot
                assert vp_after.selection == vp_before.selection
                assert vp_after.visibility_exceptions == vp_before.visibility_exceptions
                assert vp_after.coloring == vp_before.coloring
                assert vp_after.camera is not None and vp_before.camera is not None
                assert vp_after.camera.position_m == vp_before.camera.position_m
                assert vp_after.bitmaps == vp_before.bitmaps


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name", ["Schependomlaan_Controle_Multicom_01-04-2015.bcfzip", "v2.1_ComponentSelection.bcf"]
)
def test_version_3_derives_the_aspect_ratio_from_the_snapshot(sources: dict[str, BcfFile], name: str) -> None:
    (vp, *_) = read_bcf(write_bcf(sources[name], version="3.0")).topics[-1].viewpoints
    assert vp.camera is not None and vp.camera.aspect_ratio == pytest.approx(
        {"Schependomlaan_Controle_Multicom_01-04-2015.bcfzip": 4 / 3, "v2.1_ComponentSelection.bcf": 16 / 9}[
            name
        ],
        rel=0.01,
    )


# --------------------------------------------------------------------------- a record built in code


def sample() -> BcfFile:
    t1, t2 = "3f2a8c1e-5b7d-4e90-a1c2-d3e4f5a6b7c8", "9e8d7c6b-5a49-4382-b1c0-f9e8d7c6b5a4"
    vp1, vp2 = "11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-aaaaaaaaaaaa"
    doc = "c0ffee00-1234-4abc-8def-0123456789ab"
    wall, column = (
        BcfComponent("2O2Fr$t4X7Zf8NOew3FLOH", "Revit", "123456"),
        BcfComponent("1hOSvn6df7F8_7GcBWlR72"),
    )
    beam = BcfComponent("0lY6P5Ur90TAQnnnI6wtnb", None, "beam-42")
    first = BcfTopic(
        guid=t1,
        title="三层梁柱节点钢筋外露",
        topic_type="质量",
        topic_status="待整改",
        server_assigned_id="ISS-7",
        priority="高",
        index=0,
        labels=("结构", "机电"),
        creation_date=dt.datetime(2026, 5, 11, 9, 30, 15, 250000, tzinfo=CST),
        creation_author="inspector@example.cn",
        modified_date=dt.datetime(2026, 5, 12, 10, 0, tzinfo=CST),
        modified_author="bim@example.cn",
        due_date=dt.datetime(2026, 6, 30, 18, 0, tzinfo=CST),
        assigned_to="foreman@example.cn",
        stage="主体施工",
        description="节点 B-3 处钢筋保护层不足。\n请于 6 月 30 日前整改。",
        reference_links=("https://erji.example.cn/issues/7",),
        related_topics=(t2,),
        document_references=(
            BcfDocumentReference(
                guid="aaaaaaaa-0000-4000-8000-000000000001", url="https://gb.example.cn/50204"
            ),
            BcfDocumentReference(
                guid="aaaaaaaa-0000-4000-8000-000000000002", document_guid=doc, description="整改通知单"
            ),
        ),
        comments=(
            BcfComment(
                guid="bbbbbbbb-0000-4000-8000-000000000001",
                date=dt.datetime(2026, 5, 11, 9, 31, tzinfo=CST),
                author="inspector@example.cn",
                text="已拍照，见视点。",
                viewpoint_guid=vp1,
            ),
            BcfComment(
                guid="bbbbbbbb-0000-4000-8000-000000000002",
                date=dt.datetime(2026, 5, 12, 8, 0, tzinfo=dt.UTC),
                author="foreman@example.cn",
                text="收到 & 整改中 <明天完成>",
                modified_date=dt.datetime(2026, 5, 12, 9, 0, tzinfo=dt.UTC),
                modified_author="foreman@example.cn",
            ),
        ),
        viewpoints=(
            BcfViewpoint(
                guid=vp1,
                camera=BcfCamera(
                    kind="orthogonal",
                    position_m=(12.5, -3.25, 8.0),
                    direction=(0.0, 0.70710678, -0.70710678),
                    up=(0.0, 0.70710678, 0.70710678),
                    view_to_world_scale=14.5,
                    aspect_ratio=1.5,
                ),
                selection=(wall, column),
                default_visibility=False,
                visibility_exceptions=(wall, column, beam),
                spaces_visible=True,
                space_boundaries_visible=False,
                openings_visible=True,
                coloring=(BcfColoring("FF0000", (wall,)), BcfColoring("8000FF00", (column, beam))),
                lines=(
                    BcfLine((0.0, 0.0, 0.0), (1.0, 2.0, 3.0)),
                    BcfLine((1.0, 2.0, 3.0), (-1.5, 0.0, 1e-9)),
                ),
                clipping_planes=(BcfClippingPlane((0.0, 0.0, 3.2), (0.0, 0.0, -1.0)),),
                snapshot=JPEG,
                snapshot_type="jpg",
                index=0,
                bitmaps=(BcfBitmap("png", (1.0, 2.0, 3.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), 0.5, PNG),),
            ),
            BcfViewpoint(
                guid=vp2,
                camera=BcfCamera(
                    kind="perspective",
                    position_m=(100.0, 200.0, 30.0),
                    direction=(-0.5, -0.5, -0.70710678),
                    up=(0.0, 0.0, 1.0),
                    field_of_view_deg=55.0,
                    aspect_ratio=4 / 3,
                ),
                snapshot=PNG,
                snapshot_type="png",
                index=1,
            ),
        ),
        bim_snippet=BcfBimSnippet(
            "IFC4", "snippet.ifc", "https://standards.buildingsmart.org/IFC", False, b"ISO-10303-21;"
        ),
        header_files=(
            BcfHeaderFile(
                "结构.ifc", dt.datetime(2026, 5, 1, tzinfo=CST), None, "2SugUv4EX5LAhcVpDp2dUH", None, True
            ),
        ),
    )
    second = BcfTopic(
        guid=t2,
        title="安全网缺失",
        topic_type="安全",
        topic_status="已关闭",
        index=1,
        creation_date=dt.datetime(2026, 5, 13, 14, 0, tzinfo=CST),
        creation_author="safety@example.cn",
    )
    return BcfFile(
        version="3.0",
        topics=(first, second),
        project_id="5d1c0f36-9f1e-4c41-9a64-0d2e3c4b5a69",
        project_name="二级孪生示例项目",
        extensions=BcfExtensions(
            topic_types=("质量", "安全"),
            topic_statuses=("待整改", "已关闭"),
            priorities=("高", "中", "低"),
            labels=("结构", "机电"),
            stages=("主体施工",),
            users=("inspector@example.cn", "foreman@example.cn"),
            snippet_types=("IFC4",),
        ),
        documents=(BcfDocument(doc, "整改通知.pdf", b"%PDF-1.4 fake", "整改通知单"),),
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_a_record_built_in_code_survives_a_round_trip(version: str) -> None:
    source = sample()
    again = read_bcf(write_bcf(source, version=version))
    assert differences(linked(again), linked(expected_after(source, version))) == []
    vp = again.topics[0].viewpoints[0]
    assert vp.snapshot == JPEG and vp.snapshot_type == "jpg" and vp.coloring[1].color == "8000FF00"
    assert again.topics[0].comments[1].text == "收到 & 整改中 <明天完成>"
    assert again.topics[0].due_date == dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC)
    assert again.documents[0].filename == "整改通知.pdf" and again.documents[0].content == b"%PDF-1.4 fake"


def test_the_zip_is_deterministic_and_laid_out_by_guid() -> None:
    source = sample()
    t1, vp1, vp2 = source.topics[0].guid, *(vp.guid for vp in source.topics[0].viewpoints)
    for version in VERSIONS:
        data = write_bcf(source, version=version)
        assert write_bcf(source, version=version) == data
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
        assert infos[0].filename == "bcf.version"
        assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
        names = {info.filename for info in infos}
        assert {
            f"{t1}/markup.bcf",
            f"{t1}/{vp1}.bcfv",
            f"{t1}/{vp1}.jpg",
            f"{t1}/{vp2}.png",
            f"{t1}/snippet.ifc",
        } <= names
        assert not any(".." in n or n.startswith("/") or "\\" in n for n in names)
    v3 = members(write_bcf(source, version="3.0"))
    doc = source.documents[0].guid
    assert {"extensions.xml", "project.bcfp", "documents.xml", f"documents/{doc}"} <= v3.keys()
    assert b"ExtensionSchema" not in v3["project.bcfp"]
    v21 = members(write_bcf(source, version="2.1"))
    assert {"extensions.xsd", "project.bcfp", f"documents/{doc}/整改通知.pdf"} <= v21.keys()
    assert b"<ExtensionSchema>extensions.xsd</ExtensionSchema>" in v21["project.bcfp"]


@pytest.mark.corpus
def test_a_file_without_project_or_extensions_stays_minimal(sources: dict[str, BcfFile]) -> None:
    source = sources["v2.1_MinimumInformation.bcf"]
    assert sorted(members(write_bcf(source, version="2.1"))) == [
        "ae693c83-c932-400e-8570-4a2cf45abcf3/markup.bcf",
        "bcf.version",
    ]
    v3 = members(write_bcf(source, version="3.0"))
    assert sorted(v3) == ["ae693c83-c932-400e-8570-4a2cf45abcf3/markup.bcf", "bcf.version", "extensions.xml"]
    topic = ElementTree.fromstring(v3["ae693c83-c932-400e-8570-4a2cf45abcf3/markup.bcf"]).find("Topic")
    assert topic is not None and (topic.get("TopicType"), topic.get("TopicStatus")) == ("Unknown", "Unknown")
    extensions = ElementTree.fromstring(v3["extensions.xml"])
    assert [e.text for e in extensions.iter("TopicType")] == ["Unknown"]


def test_markup_follows_each_versions_layout() -> None:
    source = sample()
    t1 = source.topics[0].guid
    v21 = ElementTree.fromstring(members(write_bcf(source, version="2.1"))[f"{t1}/markup.bcf"])
    assert [c.tag for c in v21] == ["Header", "Topic", "Comment", "Comment", "Viewpoints", "Viewpoints"]
    assert [e.text for e in v21.iter("Labels")] == ["结构", "机电"]
    assert v21.find("Topic").get("ServerAssignedId") is None  # 2.1 has none
    v3 = ElementTree.fromstring(members(write_bcf(source, version="3.0"))[f"{t1}/markup.bcf"])
    assert [c.tag for c in v3] == ["Header", "Topic"]
    topic = v3.find("Topic")
    assert topic is not None and topic.get("ServerAssignedId") == "ISS-7"
    assert [c.tag for c in topic][-4:] == ["DocumentReferences", "RelatedTopics", "Comments", "Viewpoints"]
    visinfo = ElementTree.fromstring(
        members(write_bcf(source, version="3.0"))[f"{t1}/{source.topics[0].viewpoints[0].guid}.bcfv"]
    )
    assert visinfo.find("Components/Visibility/ViewSetupHints") is not None
    assert visinfo.find("Bitmaps/Bitmap/Format").text == "png"


# --------------------------------------------------------------------------- what records may hold


def test_a_guid_that_is_no_file_name_gets_a_safe_folder_and_survives() -> None:
    topic = dataclasses.replace(sample().topics[1], guid="../../etc/evil")
    data = write_bcf(BcfFile(version="3.0", topics=(topic,)), version="2.1")
    assert f"{derived_guid('topic', '../../etc/evil')}/markup.bcf" in members(data)
    assert read_bcf(data).topics[0].guid == "../../etc/evil"


def test_text_xml_cannot_hold_is_dropped_and_carriage_returns_survive() -> None:
    base = sample().topics[1]
    comment = BcfComment(
        guid="c", date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), author="a", text="行1\r\n行2\x01\x1f end\ud800"
    )
    topic = dataclasses.replace(base, comments=(comment,))
    for version in VERSIONS:
        (again,) = read_bcf(write_bcf(BcfFile(version="3.0", topics=(topic,)), version=version)).topics
        assert again.comments[0].text == "行1\r\n行2 end"


def test_values_3_0_requires_are_filled_in() -> None:
    bare = BcfTopic(guid="0d0d0d0d-0000-4000-8000-000000000000", title="")
    (again,) = read_bcf(write_bcf(BcfFile(version="3.0", topics=(bare,)), version="3.0")).topics
    assert (again.title, again.topic_type, again.topic_status, again.creation_author) == ("Unknown",) * 4
    assert again.creation_date == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    (again,) = read_bcf(write_bcf(BcfFile(version="3.0", topics=(bare,)), version="2.1")).topics
    assert (again.title, again.topic_type, again.topic_status, again.creation_author) == (
        "",
        None,
        None,
        None,
    )


def test_aspect_ratio_comes_from_a_jpeg_snapshot_when_missing() -> None:
    topic = sample().topics[0]
    vp = dataclasses.replace(
        topic.viewpoints[0], camera=dataclasses.replace(topic.viewpoints[0].camera, aspect_ratio=None)
    )
    bcf = BcfFile(version="3.0", topics=(dataclasses.replace(topic, viewpoints=(vp,)),))
    camera = read_bcf(write_bcf(bcf, version="3.0")).topics[0].viewpoints[0].camera
    assert camera is not None and camera.aspect_ratio == pytest.approx(64 / 48)


def test_records_that_contradict_themselves_are_refused() -> None:
    source = sample()
    with pytest.raises(ValueError, match=r"version must be '2\.1' or '3\.0'"):
        write_bcf(source, version="2.0")  # type: ignore[arg-type]
    twice = dataclasses.replace(source, topics=(source.topics[1], source.topics[1]))
    with pytest.raises(ValueError, match="two topics have the guid"):
        write_bcf(twice, version="3.0")
    topic = source.topics[0]
    same = dataclasses.replace(topic, viewpoints=(topic.viewpoints[0], topic.viewpoints[0]))
    with pytest.raises(ValueError, match="two viewpoints with the guid"):
        write_bcf(dataclasses.replace(source, topics=(same,)), version="2.1")
