"""``read_bcf``: what each corpus file holds, and the tolerance rules on files built in code."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from ifc_processing.bcf import BcfComponent, BcfError, read_bcf
from ifc_processing.bcf.read import derived_guid, parse_datetime

from .support import (
    CORPUS_BCF,
    TOPIC_GUID,
    VERSION_21,
    corpus_bcf,
    image,
    make_zip,
    markup,
    one_topic,
    reason,
)

UTC = dt.UTC
PNG = image("png")


# --------------------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def read(corpus: Path):
    cache: dict[str, object] = {}

    def get(name: str):
        if name not in cache:
            cache[name] = read_bcf(corpus_bcf(corpus, name))
        return cache[name]

    return get


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "version", "topics", "comments", "viewpoints"),
    [
        ("Schependomlaan_Controle_Multicom_01-04-2015.bcfzip", "1.0", 2, 2, 2),
        ("Schependomlaan_ROOT-Compleet_interne_modelkwaliteit.bcfzip", "2.0", 6, 6, 6),
        ("v2.1_ComponentSelection.bcf", "2.1", 1, 0, 1),
        ("v2.1_MaximumInformation.bcf", "2.1", 2, 4, 3),
        ("v2.1_MinimumInformation.bcf", "2.1", 1, 0, 0),
        ("v2.1_PerspectiveCamera.bcf", "2.1", 1, 0, 1),
        ("v3.0_Document_reference_internal.bcf", "3.0", 1, 1, 1),
        ("v3.0_DueDate.bcf", "3.0", 1, 0, 0),
        ("v3.0_Labels.bcf", "3.0", 1, 1, 1),
        ("v3.0_Milestone.bcf", "3.0", 1, 1, 1),
        ("v3.0_component_selection.bcf", "3.0", 1, 0, 1),
    ],
)
def test_each_corpus_file_gives_its_topics_comments_and_viewpoints(
    read, name: str, version: str, topics: int, comments: int, viewpoints: int
) -> None:
    bcf = read(name)
    assert bcf.version == version
    assert len(bcf.topics) == topics
    assert sum(len(t.comments) for t in bcf.topics) == comments
    assert sum(len(t.viewpoints) for t in bcf.topics) == viewpoints


@pytest.mark.corpus
@pytest.mark.parametrize("name", CORPUS_BCF)
def test_every_corpus_file_is_internally_consistent(read, name: str) -> None:
    bcf = read(name)
    assert len({t.guid for t in bcf.topics}) == len(bcf.topics)
    for topic in bcf.topics:
        assert topic.guid and topic.title
        assert topic.creation_date is not None and topic.creation_date.tzinfo is not None
        viewpoints = {vp.guid for vp in topic.viewpoints}
        assert len(viewpoints) == len(topic.viewpoints)
        for comment in topic.comments:
            assert comment.date.tzinfo is not None
            assert comment.viewpoint_guid is None or comment.viewpoint_guid in viewpoints
        for vp in topic.viewpoints:
            assert vp.snapshot is None or vp.snapshot.startswith(b"\x89PNG")
            assert vp.snapshot_type in (None, "png")
            for component in (*vp.selection, *vp.visibility_exceptions):
                assert component.ifc_guid is None or len(component.ifc_guid) == 22
        for ref in topic.document_references:
            assert ref.guid  # a 2.1 reference without Guid gets a derived one


@pytest.mark.corpus
def test_maximum_information_has_every_markup_field(read) -> None:
    bcf = read("v2.1_MaximumInformation.bcf")
    assert (bcf.project_id, bcf.project_name) == (
        "F338B6F0-A93E-40FF-A4D6-6117CD21EC2A",
        "BCF API Implementation",
    )
    first, second = bcf.topics  # Index 0 first, the topic without Index after it
    assert (first.guid, first.index, second.index) == ("7ddc3ef0-0ab7-43f1-918a-45e38b42369c", 0, None)
    assert first.title == "Maximum Content"
    assert (first.topic_type, first.topic_status, first.priority) == ("Structural", "Open", "High")
    assert first.labels == ("Structural", "IT Development")
    assert first.creation_date == dt.datetime(2015, 6, 21, 12, 0, tzinfo=UTC)
    assert first.due_date == dt.datetime(2016, 10, 2, 14, 22, 47, tzinfo=UTC)
    assert (first.assigned_to, first.stage) == ("linhard@iabi.eu", "Construction Start")
    assert first.reference_links == ("https://bim--it.net",)
    assert first.related_topics == (second.guid,)
    assert first.bim_snippet is not None
    assert (first.bim_snippet.snippet_type, first.bim_snippet.reference) == ("JSON", "JsonElement.json")
    assert first.bim_snippet.content is not None and b'"Material":"Concrete"' in first.bim_snippet.content
    (header,) = first.header_files
    assert (header.filename, header.ifc_project, header.is_external) == (
        "IfcPile_01.ifc",
        "0M6o7Znnv7hxsbWgeu7oQq",
        False,
    )
    external, internal = first.document_references
    assert external.url == "https://github.com/BuildingSMART/BCF-XML" and external.document_guid is None
    assert internal.referenced_document == "../markup.xsd" and internal.url is None
    (document,) = bcf.documents
    assert internal.document_guid == document.guid and document.filename == "markup.xsd"
    assert document.content is not None and document.content.lstrip().startswith(b"<?xml")

    assert [c.guid[:8] for c in first.comments] == ["07ccdba0", "a12766c2", "c2bb5bb0", "0b843a5c"]
    assert first.comments[0].text.startswith("This is an unmodified topic")
    assert "\n" in first.comments[0].text
    assert first.comments[2].viewpoint_guid == "4ab7514b-b216-4d56-98d2-45cf8500ff5a"
    assert first.comments[3].modified_date == dt.datetime(2015, 8, 31, 16, 7, 11, tzinfo=UTC)

    # The markup's Viewpoints guid wins over the .bcfv's own Guid attribute (8dc86298…).
    assert [(vp.guid[:8], vp.index) for vp in first.viewpoints] == [
        ("4ab7514b", 2),
        ("fc4019d7", 0),
        ("9a4a1878", 1),
    ]
    full = first.viewpoints[0]
    assert [c.ifc_guid for c in full.selection][:2] == ["0cSRUx$EX1NRjqiKcYQ$a0", "1jQQiGIAnFzxOUzrdmJYDS"]
    assert len(full.selection) == 5 and len(full.visibility_exceptions) == 5 and full.default_visibility
    (colour,) = full.coloring
    assert colour.color == "3498DB" and len(colour.components) == 4
    assert (full.spaces_visible, full.space_boundaries_visible, full.openings_visible) == (True, True, True)
    assert len(full.lines) == 3 and full.lines[2].end_m == (1.0, 1.0, 1.0)
    assert [p.direction for p in full.clipping_planes] == [(0.0, 0.0, 1.0), (0.0, 1.0, 0.0)]
    assert [(b.format, b.height_m, b.location_m) for b in full.bitmaps] == [
        ("png", 5.0, (10.0, -10.0, 7.0)),
        ("png", 5.0, (20.0, -10.0, 7.0)),
    ]
    assert all(b.image and b.image.startswith(b"\x89PNG") for b in full.bitmaps)
    assert (
        full.camera is not None and full.camera.kind == "perspective" and full.camera.field_of_view_deg == 60
    )
    assert full.camera.position_m == (0.43079984188079834, 69.52057647705078, 10.666350364685059)
    assert first.viewpoints[1].default_visibility is False

    assert bcf.extensions.topic_types == ("Architecture", "Hidden Type", "Structural")
    assert bcf.extensions.users == ("dangl@iabi.eu", "linhard@iabi.eu")
    assert bcf.extensions.snippet_types == ("IFC2X3", "PDF", "XLSX")
    assert second.creation_date == dt.datetime(2017, 5, 22, 7, 51, 0, 42987, tzinfo=UTC)  # 7 digits


@pytest.mark.corpus
def test_minimum_information_is_a_bare_topic(read) -> None:
    (topic,) = read("v2.1_MinimumInformation.bcf").topics
    assert topic.title == "Minimum information BCFZip topic."
    assert topic.creation_author == "Developer@example.com"
    assert (topic.topic_type, topic.topic_status, topic.comments, topic.viewpoints) == (None, None, (), ())


@pytest.mark.corpus
def test_component_selection_selects_three_components_by_ifc_guid(read) -> None:
    (topic,) = read("v2.1_ComponentSelection.bcf").topics
    (vp,) = topic.viewpoints
    assert vp.selection == (
        BcfComponent("1GU8BMEqHBQxVAbwRD$4Jj"),
        BcfComponent("0AQJSsoeDDvwVqSNcwjy55"),
        BcfComponent("3DOu_tSXP6evQgY8Ml4CtC"),
    )
    assert vp.default_visibility and vp.visibility_exceptions == () and vp.coloring == ()
    assert (vp.spaces_visible, vp.space_boundaries_visible, vp.openings_visible) == (False, False, True)
    assert vp.snapshot_type == "png" and vp.snapshot is not None and len(vp.snapshot) == 88626
    # Its header names a model embedded in the BCF file; the model itself is not read.
    assert topic.header_files[0].reference == "../Estructura.ifc"


@pytest.mark.corpus
def test_perspective_camera(read) -> None:
    (vp,) = read("v2.1_PerspectiveCamera.bcf").topics[0].viewpoints
    assert vp.camera is not None
    assert (vp.camera.kind, vp.camera.field_of_view_deg, vp.camera.view_to_world_scale) == (
        "perspective",
        60.0,
        None,
    )
    assert vp.camera.position_m[2] > 0 and vp.selection == ()


@pytest.mark.corpus
def test_v3_orthogonal_camera_and_selection(read) -> None:
    bcf = read("v3.0_component_selection.bcf")
    (topic,) = bcf.topics
    assert (topic.topic_type, topic.topic_status, topic.server_assigned_id) == ("WARNING", "OPEN", "2")
    (vp,) = topic.viewpoints
    assert vp.camera is not None and vp.camera.kind == "orthogonal"
    assert (vp.camera.view_to_world_scale, vp.camera.aspect_ratio) == (18.97427487373352, 1.7777777777777777)
    assert [c.ifc_guid for c in vp.selection] == [
        "0KkZ20so9BsO1d1hFcfLOl",
        "1XbKhGD91DvhOpYZbhzGTI",
        "3D9pjHJ0HCnggyepvsht8s",
    ]
    assert [c.ifc_guid for c in vp.visibility_exceptions] == [
        "1bbI761TbBCOoIa5Kt6PXt",
        "1m5wAJelDFdhn6qBdOGjos",
    ]
    assert vp.spaces_visible is True  # ViewSetupHints inside Visibility (3.0)
    assert bcf.extensions.priorities == ("LOW", "MEDIUM", "HIGH", "CRITICAL")
    assert [f.ifc_project for f in topic.header_files] == ["2SugUv4EX5LAhcVpDp2dUH", "2TaLqCNHvEn9_7cUVrypdX"]


@pytest.mark.corpus
def test_v3_internal_document_reference(read) -> None:
    bcf = read("v3.0_Document_reference_internal.bcf")
    (topic,) = bcf.topics
    (ref,) = topic.document_references
    assert ref.guid == "048e898f-555f-47c3-a273-6c664fb2ef69"
    assert ref.document_guid == "b1d1b7f0-60b9-457d-ad12-16e0fb997bc5"
    assert (ref.url, ref.referenced_document, ref.description) == (None, None, "ThisIsADocument.txt")
    (document,) = bcf.documents
    assert (document.guid, document.filename, document.content) == (
        ref.document_guid,
        "ThisIsADocument.txt",
        b"",
    )
    assert topic.assigned_to == "OtherUser@doe.com"
    (comment,) = topic.comments
    assert comment.viewpoint_guid == topic.viewpoints[0].guid
    assert topic.viewpoints[0].visibility_exceptions[0].originating_system == "https://bimsync.com"


@pytest.mark.corpus
def test_v3_due_date_labels_and_milestone(read) -> None:
    (due,) = read("v3.0_DueDate.bcf").topics
    assert due.due_date == dt.datetime(2021, 3, 15, 11, 0, tzinfo=UTC)
    assert due.viewpoints == () and due.comments == ()  # <Viewpoints/> and <Comments/> are empty
    assert due.server_assigned_id == "8"
    labels = read("v3.0_Labels.bcf")
    assert labels.topics[0].labels == ("Architects",)
    assert labels.extensions.labels == ("Architects", "Engineers")
    (milestone,) = read("v3.0_Milestone.bcf").topics
    assert milestone.stage == "February"
    assert milestone.comments[0].text == ""  # 3.0 comments may have no text
    assert read("v3.0_Milestone.bcf").project_name == "BCF"


@pytest.mark.corpus
def test_solibri_bcf_2_0_export(read) -> None:
    bcf = read("Schependomlaan_ROOT-Compleet_interne_modelkwaliteit.bcfzip")
    assert [t.index for t in bcf.topics] == [0, 1, 2, 3, 4, 5]
    first = bcf.topics[0]
    assert first.title == "Intersections Between Door and Slab"
    assert first.description == "tegelveld te ver door gemodelleerd"
    assert all((t.topic_type, t.topic_status) == ("Error", "Open") for t in bcf.topics)
    assert all(t.assigned_to is None for t in bcf.topics)  # <AssignedTo></AssignedTo>
    assert first.creation_date == dt.datetime(
        2016, 4, 21, 15, 7, 26, tzinfo=dt.timezone(dt.timedelta(hours=2))
    )
    (comment,) = first.comments
    assert (comment.author, comment.text) == ("SvS", "")
    (vp,) = first.viewpoints
    assert vp.guid == "b18573a7-cb21-4be9-a492-38b319160c2c"
    # 2.0: one flat component list, Selected="true" Visible="true" on each.
    assert len(vp.selection) == 11 and vp.visibility_exceptions == () and vp.default_visibility
    assert vp.selection[0] == BcfComponent(
        "2OE9tlHI938fd8O3mI3mRz", "ArchiCAD-64", "98389DEF-4522-4322-99C8-603C120F06FD"
    )
    assert first.header_files[0].ifc_project == "344O7vICcwH8qAEnwJDjSU"


@pytest.mark.corpus
def test_tekla_bcf_1_0_export(read) -> None:
    bcf = read("Schependomlaan_Controle_Multicom_01-04-2015.bcfzip")
    assert bcf.version == "1.0" and bcf.project_id is None
    texts = [t.comments[0].text for t in bcf.topics]
    assert texts[0].startswith("#01 Bordessen van 1e en 2e verdieping")
    assert texts[1].startswith("#02 Bandjes graag doortrekken")
    for topic in bcf.topics:
        assert topic.title == "Opmerking"
        # 1.0 keeps the status on the comment: <Status> is the type, <VerbalStatus> the status.
        assert (topic.topic_type, topic.topic_status) == ("Unknown", "MULTICOM")
        # 1.0 topics have no CreationDate/Author: the first comment's stand in.
        assert topic.creation_date == topic.comments[0].date and topic.creation_author == "Ligtvoet Joep"
        (vp,) = topic.viewpoints  # viewpoint.bcfv + snapshot.png, not listed in the markup
        assert vp.guid == derived_guid(topic.guid, "viewpoint", "viewpoint.bcfv")
        assert vp.camera is not None and vp.camera.field_of_view_deg == 45.0
        assert vp.snapshot_type == "png" and vp.lines
        assert len(topic.header_files) == 8
        assert topic.header_files[3].ifc_project is None  # IfcProject=""
        assert topic.header_files[0].date == dt.datetime(2015, 4, 1, 6, 28, 17, 614057, tzinfo=UTC)
    assert bcf.topics[0].comments[0].date == dt.datetime(2015, 4, 1, 18, 52, 42, 391244, tzinfo=UTC)
    components = bcf.topics[1].viewpoints[0].selection
    assert [c.ifc_guid for c in components] == [
        "2SOFxehfn3JPJ42eH$gc$u",
        "1L4Hkk001Hgp4qCZSoCZWs",
        "1L4Hkk001GM34qCZSoCZWn",
    ]
    assert {c.originating_system for c in components} == {"Tekla BIMsight"}


@pytest.mark.corpus
def test_a_path_source_is_named_after_its_file_and_bytes_read_the_same(corpus: Path) -> None:
    path = corpus_bcf(corpus, "v3.0_Labels.bcf")
    assert read_bcf(path) == read_bcf(path.read_bytes()) == read_bcf(io.BytesIO(path.read_bytes()))
    assert read_bcf(str(path)) == read_bcf(path)


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-04-01T06:28:17.6140576Z", dt.datetime(2015, 4, 1, 6, 28, 17, 614057, tzinfo=UTC)),
        ("2014-02-25T11:50:32", dt.datetime(2014, 2, 25, 11, 50, 32, tzinfo=UTC)),
        ("2021-03-15", dt.datetime(2021, 3, 15, tzinfo=UTC)),
        ("2016-04-21T15:05:38+02:00", dt.datetime(2016, 4, 21, 13, 5, 38, tzinfo=UTC)),
        ("2016-04-21T15:05:38+0200", dt.datetime(2016, 4, 21, 13, 5, 38, tzinfo=UTC)),
        ("2016-04-21T15:05:38-05", dt.datetime(2016, 4, 21, 20, 5, 38, tzinfo=UTC)),
        ("2016-04-21 15:05z", dt.datetime(2016, 4, 21, 15, 5, tzinfo=UTC)),
        ("2016-04-21T24:00:00Z", dt.datetime(2016, 4, 22, tzinfo=UTC)),
        (" 2021-02-17T09:16:04.160Z ", dt.datetime(2021, 2, 17, 9, 16, 4, 160000, tzinfo=UTC)),
    ],
)
def test_dates_as_tools_write_them(text: str, expected: dt.datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected and parsed.tzinfo is not None


@pytest.mark.parametrize("text", ["yesterday", "2016-13-01T00:00:00Z", "2016-04-21T15", "04/21/2016"])
def test_a_date_that_is_none_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)


# --------------------------------------------------------------------------- tolerance


def test_bom_namespaces_unknown_elements_and_blank_values_are_tolerated() -> None:
    text = (
        '\ufeff  <?xml version="1.0" encoding="utf-8"?>'
        '<Markup xmlns="urn:some-tool" xmlns:x="urn:x"><x:ToolData><Anything/></x:ToolData>'
        f'<Topic Guid="{TOPIC_GUID}" TopicType="Clash" TopicStatus=""><Title> 标题 </Title>'
        "<CreationDate>2024-05-01T08:00:00.1234567</CreationDate><CreationAuthor>张三</CreationAuthor>"
        "<AssignedTo></AssignedTo><Description>  </Description><DueDate>2024-06-01</DueDate>"
        "<UnknownField>x</UnknownField></Topic></Markup>"
    )
    (topic,) = read_bcf(one_topic(text.encode("utf-8"))).topics
    assert (topic.title, topic.creation_author, topic.topic_type, topic.topic_status) == (
        "标题",
        "张三",
        "Clash",
        None,
    )
    assert (topic.assigned_to, topic.description) == (None, None)
    assert topic.creation_date == dt.datetime(2024, 5, 1, 8, 0, 0, 123456, tzinfo=UTC)
    assert topic.due_date == dt.datetime(2024, 6, 1, tzinfo=UTC)


def test_utf16_markup_and_a_wrong_encoding_declaration_are_read() -> None:
    utf16 = markup(title="三").encode("utf-16")
    assert read_bcf(one_topic(utf16)).topics[0].title == "三"
    lying = markup(title="é").replace('encoding="UTF-8"', 'encoding="utf-16"').encode("utf-8")
    assert read_bcf(one_topic(lying)).topics[0].title == "é"


def test_bcf_2_0_flat_components_select_hide_and_colour() -> None:
    visinfo = (
        '<VisualizationInfo Guid="a0000000-0000-0000-0000-000000000001"><Components>'
        '<Component IfcGuid="1111111111111111111111" Selected="true"/>'
        '<Component IfcGuid="2222222222222222222222" Visible="false"/>'
        '<Component IfcGuid="3333333333333333333333" Color="#ff00ff"/>'
        '<Component IfcGuid="4444444444444444444444"/>'
        '<Component IfcGuid="5555555555555555555555" Selected="false"/>'
        "</Components></VisualizationInfo>"
    )
    rest = (
        '<Viewpoints Guid="a0000000-0000-0000-0000-000000000001"><Viewpoint>v.bcfv</Viewpoint></Viewpoints>'
    )
    (vp,) = read_bcf(one_topic(markup(rest=rest), **{"v.bcfv": visinfo})).topics[0].viewpoints
    assert [c.ifc_guid[0] for c in vp.selection] == ["1", "4"]  # listed with no attribute: selected
    assert [c.ifc_guid[0] for c in vp.visibility_exceptions] == ["2"] and vp.default_visibility
    assert [(c.color, [m.ifc_guid[0] for m in c.components]) for c in vp.coloring] == [("FF00FF", ["3"])]
    assert vp.camera is None and vp.snapshot is None


def test_viewpoint_files_no_entry_names_are_still_viewpoints() -> None:
    visinfo = (
        '<VisualizationInfo Guid="b0000000-0000-0000-0000-000000000002"><Components/></VisualizationInfo>'
    )
    data = one_topic(
        markup(), **{"Viewpoint_x.bcfv": visinfo, "Snapshot_x.png": PNG, "snapshot.jpg": image("jpg")}
    )
    viewpoints = read_bcf(data).topics[0].viewpoints
    assert (
        [(vp.guid[:8], vp.snapshot_type) for vp in viewpoints]
        == [
            ("b0000000", "png"),  # Viewpoint_x.bcfv pairs with Snapshot_x.png
            (derived_guid(TOPIC_GUID, "viewpoint", "snapshot.jpg")[:8], "jpg"),  # a lone snapshot
        ]
    )


def test_a_listed_viewpoint_whose_files_are_missing_is_kept_without_camera() -> None:
    rest = (
        '<Viewpoints Guid="c0000000-0000-0000-0000-000000000003">'
        "<Viewpoint>gone.bcfv</Viewpoint><Snapshot>gone.png</Snapshot></Viewpoints>"
    )
    (vp,) = read_bcf(one_topic(markup(rest=rest))).topics[0].viewpoints
    assert (vp.guid, vp.camera, vp.snapshot) == ("c0000000-0000-0000-0000-000000000003", None, None)


def test_a_topic_without_type_takes_its_latest_comment_status() -> None:
    rest = (
        '<Comment Guid="c1"><Status>Error</Status><VerbalStatus>Open</VerbalStatus>'
        "<Date>2024-05-02T00:00:00Z</Date><Author>a</Author><Comment>first</Comment></Comment>"
        '<Comment Guid="c2"><Status>Info</Status><VerbalStatus>Closed</VerbalStatus>'
        "<Date>2024-05-03T00:00:00Z</Date><Author>b</Author><Comment>second</Comment></Comment>"
    )
    (topic,) = read_bcf(one_topic(markup(rest=rest))).topics
    assert (topic.topic_type, topic.topic_status) == ("Info", "Closed")
    assert [c.text for c in topic.comments] == ["first", "second"]


def test_a_comment_without_date_takes_the_topic_creation_date() -> None:
    rest = "<Comment><Author>a</Author><Comment>undated</Comment></Comment>"
    (comment,) = read_bcf(one_topic(markup(rest=rest))).topics[0].comments
    assert comment.date == dt.datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert comment.guid == derived_guid(TOPIC_GUID, "comment", "0")


def test_a_bcf_inside_a_top_level_folder_and_backslash_names_are_read() -> None:
    data = make_zip(
        {"export/bcf.version": VERSION_21, f"export\\{TOPIC_GUID}\\markup.bcf": markup(title="deep")}
    )
    assert [t.title for t in read_bcf(data).topics] == ["deep"]


def test_topics_come_in_index_order_then_creation_date() -> None:
    guids = [f"{i}0000000-0000-0000-0000-000000000000" for i in range(4)]
    members = {"bcf.version": VERSION_21}
    for guid, extra in zip(guids, ["", "<Index>1</Index>", "<Index>0</Index>", ""], strict=True):
        members[f"{guid}/markup.bcf"] = markup(extra, guid=guid, title=guid[0])
    assert [t.title for t in read_bcf(make_zip(members)).topics] == ["2", "1", "0", "3"]


# --------------------------------------------------------------------------- faults that matter


def test_a_topic_without_guid_names_the_member() -> None:
    text = markup().replace(f' Guid="{TOPIC_GUID}"', "")
    assert reason(read_bcf, one_topic(text)) == f"{TOPIC_GUID}/markup.bcf: the Topic has no Guid"


def test_markup_that_is_not_xml_names_the_member() -> None:
    why = reason(read_bcf, one_topic(b"this is not <xml"), name="issues.bcfzip")
    assert why.startswith(f"{TOPIC_GUID}/markup.bcf is not well-formed XML")


def test_a_viewpoint_that_is_not_xml_names_the_member() -> None:
    rest = (
        '<Viewpoints Guid="d0000000-0000-0000-0000-000000000004"><Viewpoint>v.bcfv</Viewpoint></Viewpoints>'
    )
    why = reason(read_bcf, one_topic(markup(rest=rest), **{"v.bcfv": b"\x89PNG garbage"}))
    assert why.startswith(f"{TOPIC_GUID}/v.bcfv is not well-formed XML")


def test_markup_without_topic_is_refused() -> None:
    assert reason(read_bcf, one_topic("<Markup/>")) == f"{TOPIC_GUID}/markup.bcf has no Topic"


def test_a_date_that_is_no_date_names_topic_and_field() -> None:
    text = markup().replace("2024-05-01T08:00:00Z", "gestern")
    why = reason(read_bcf, one_topic(text))
    where = f"{TOPIC_GUID}/markup.bcf (topic {TOPIC_GUID})"
    assert why == f"{where}: the topic has CreationDate 'gestern', which is not a date-time"


def test_two_topic_folders_with_one_guid_are_refused() -> None:
    data = make_zip({"bcf.version": VERSION_21, "a/markup.bcf": markup(), "b/markup.bcf": markup()})
    assert reason(read_bcf, data) == f"topic {TOPIC_GUID} appears twice (a/markup.bcf and b/markup.bcf)"


def test_a_zip_without_any_bcf_part_is_not_a_bcf_file() -> None:
    why = reason(read_bcf, make_zip({"readme.txt": "hello", "model.ifc": "ISO-10303-21;"}))
    assert why.startswith("not a BCF file: it has neither a bcf.version nor a topic folder")


def test_a_bcf_version_without_topics_is_an_empty_file() -> None:
    bcf = read_bcf(make_zip({"bcf.version": '<Version VersionId="3.0"/>'}))
    assert (bcf.version, bcf.topics) == ("3.0", ())


def test_a_missing_path_is_a_bcf_error(tmp_path: Path) -> None:
    with pytest.raises(BcfError, match=r"^gone\.bcf: file not found$"):
        read_bcf(tmp_path / "gone.bcf")
