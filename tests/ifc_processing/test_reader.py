"""Opening files: good ones open, bad ones fail with a one-line reason naming the file."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from ifc_processing import EncodingError, IfcOpenError, UnsupportedSchemaError
from ifc_processing.reader import open_model
from tests.factories import add_wall, tiny_model


def _reason(path: Path, error: type[Exception]) -> str:
    with pytest.raises(error) as caught, open_model(path):
        pass
    message = str(caught.value)
    assert message.startswith(f"{path.name}: ")
    assert "\n" not in message
    return message


@pytest.fixture()
def good_ifc(tmp_path: Path) -> Path:
    model = tiny_model()
    add_wall(model, "W1")
    return model.write(tmp_path / "good.ifc")


def test_opens_a_good_file_and_reports_its_schema(good_ifc: Path) -> None:
    with open_model(good_ifc) as loaded:
        assert loaded.schema == "IFC4"
        assert [w.Name for w in loaded.file.by_type("IfcWall")] == ["W1"]
        assert loaded.warnings == []


def test_opens_ifczip_and_removes_its_temporary_copy(good_ifc: Path, tmp_path: Path) -> None:
    archive = tmp_path / "good.ifczip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(good_ifc, "inside/model.ifc")
    work = tmp_path / "work"
    work.mkdir()
    with open_model(archive, work_dir=work) as loaded:
        assert len(loaded.file.by_type("IfcWall")) == 1
        assert any(work.iterdir())
    assert not any(work.iterdir())


def test_missing_and_empty_files(tmp_path: Path) -> None:
    assert "file not found" in _reason(tmp_path / "nope.ifc", IfcOpenError)
    (tmp_path / "empty.ifc").write_bytes(b"")
    assert "file is empty" in _reason(tmp_path / "empty.ifc", IfcOpenError)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "this is a PNG image"),
        (b"%PDF-1.7\n...", "this is a PDF document"),
        (b'<?xml version="1.0"?><ifcXML/>', "ifcXML is not supported"),
        (b"just some text\n", "does not start with ISO-10303-21"),
    ],
)
def test_wrong_file_types_are_named(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "upload.ifc"
    path.write_bytes(content)
    assert expected in _reason(path, IfcOpenError)


def test_zip_without_ifc_lists_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "notes.ifczip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    assert "holds no .ifc file (it holds readme.txt)" in _reason(path, IfcOpenError)


def test_corrupt_zip(tmp_path: Path, good_ifc: Path) -> None:
    path = tmp_path / "broken.ifczip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(good_ifc, "model.ifc")
    data = bytearray(path.read_bytes())
    data[40:80] = b"\xff" * 40  # damage the compressed stream
    path.write_bytes(bytes(data))
    assert "zip" in _reason(path, IfcOpenError)


def test_zip_bomb_is_stopped_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.ifczip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("model.ifc", b"ISO-10303-21;\n" + b" " * 5_000_000)
    with (
        pytest.raises(IfcOpenError, match="inflates beyond 1,000,000 bytes"),
        open_model(path, max_unzipped_bytes=1_000_000),
    ):
        pass


def test_truncated_copy_of_a_good_file(tmp_path: Path, good_ifc: Path) -> None:
    data = good_ifc.read_bytes()
    path = tmp_path / "cut.ifc"
    path.write_bytes(data[: len(data) * 2 // 3])
    assert "truncated" in _reason(path, IfcOpenError)


@pytest.mark.corpus
def test_truncated_corpus_file(tmp_path: Path, corpus: Path) -> None:
    path = tmp_path / "Duplex-cut.ifc"
    with (corpus / "ifc" / "Duplex_A_20110907.ifc").open("rb") as src:
        path.write_bytes(src.read(1_200_000))
    assert "truncated" in _reason(path, IfcOpenError)


def test_raw_utf8_text_is_reencoded_not_lost(tmp_path: Path) -> None:
    # Some exporters write UTF-8 bytes straight into STEP strings; ifcopenshell would
    # read them as '' (silent data loss), so the reader re-encodes them.
    model = tiny_model(project_name="PLACEHOLDER")
    path = model.write(tmp_path / "utf8.ifc")
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", "钢筋混凝土 🏗".encode()))
    with open_model(path) as loaded:
        assert loaded.file.by_type("IfcProject")[0].Name == "钢筋混凝土 🏗"
        assert any("re-encoded" in w for w in loaded.warnings)


def test_non_utf8_raw_bytes_are_refused(tmp_path: Path) -> None:
    model = tiny_model(project_name="PLACEHOLDER")
    path = model.write(tmp_path / "gbk.ifc")
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", "钢筋混凝土".encode("gbk")))
    message = _reason(path, EncodingError)
    assert "neither ISO 10303-21 nor UTF-8" in message
    assert "line " in message


def test_legacy_code_page_smuggled_through_escapes_is_refused(tmp_path: Path) -> None:
    model = tiny_model(project_name="PLACEHOLDER")
    path = model.write(tmp_path / "sjis.ifc")
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", b'\\X\\96\\S\\"\\X\\92'))
    assert "legacy code page" in _reason(path, EncodingError)


def test_latin1_escapes_are_fine(tmp_path: Path) -> None:
    model = tiny_model(project_name="PLACEHOLDER")
    path = model.write(tmp_path / "latin1.ifc")
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", b"Geb\\S\\dude"))  # \S\d = ä
    with open_model(path) as loaded:
        assert loaded.file.by_type("IfcProject")[0].Name == "Gebäude"


@pytest.mark.corpus
def test_unsupported_schema(corpus: Path) -> None:
    message = _reason(corpus / "ifc" / "KIT-Simple-Road-Test_IFC4X3_RC2.ifc", UnsupportedSchemaError)
    assert "IFC4X3_RC2" in message
    assert "IFC4X3_ADD2" in message


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "error", "expected"),
    [
        ("bimserver_ac16_sjis.ifc", EncodingError, "legacy code page"),
        ("bimserver_errorfile.ifc", IfcOpenError, "only 7 of 6,184 entity instances could be parsed"),
        ("fail-invalid-entity.ifc", IfcOpenError, "IFCBUILTELEMENT"),
    ],
)
def test_corpus_files_refused_at_open(corpus: Path, name: str, error: type[Exception], expected: str) -> None:
    assert expected in _reason(corpus / "malformed" / name, error)


@pytest.mark.corpus
def test_reading_does_not_modify_the_file(corpus: Path, tmp_path: Path) -> None:
    source = corpus / "ifc" / "Schependomlaan_LINDEN-Kozijnen.ifczip"
    copy = tmp_path / source.name
    shutil.copyfile(source, copy)
    before = copy.read_bytes()
    with open_model(copy) as loaded:
        assert loaded.schema == "IFC2X3"
    assert copy.read_bytes() == before


def test_wrapped_reference_lists_are_not_counted_as_lost_instances(tmp_path: Path, good_ifc: Path) -> None:
    # ISO 10303-21 allows a line break between any two tokens; lines of a wrapped list
    # start with '#' without being instances.
    data = good_ifc.read_bytes().replace(b",#", b",\n#")
    path = tmp_path / "wrapped.ifc"
    path.write_bytes(data)
    with open_model(path) as loaded:
        assert len(loaded.file.by_type("IfcWall")) == 1


def test_utf8_byte_order_mark_is_dropped(tmp_path: Path, good_ifc: Path) -> None:
    path = tmp_path / "bom.ifc"
    path.write_bytes(b"\xef\xbb\xbf" + good_ifc.read_bytes())
    with open_model(path) as loaded:
        assert len(loaded.file.by_type("IfcWall")) == 1


def test_surrogate_pairs_in_x2_escapes_are_kept(tmp_path: Path) -> None:
    # U+20000 (CJK Extension B) written, as UTF-16 requires, as the pair D840 DC00.
    model = tiny_model(project_name="PLACEHOLDER")
    path = model.write(tmp_path / "ext-b.ifc")
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", b"\\X2\\4E2DD840DC00\\X0\\"))
    with open_model(path) as loaded:
        assert loaded.file.by_type("IfcProject")[0].Name == "中\U00020000"


def test_unpaired_surrogate_is_refused(tmp_path: Path) -> None:
    model = tiny_model(project_name="PLACEHOLDER")
    path = model.write(tmp_path / "bad-x2.ifc")
    path.write_bytes(path.read_bytes().replace(b"PLACEHOLDER", b"\\X2\\D840\\X0\\"))
    assert "unpaired UTF-16 surrogate" in _reason(path, EncodingError)


def test_password_protected_zip(tmp_path: Path, good_ifc: Path) -> None:
    path = tmp_path / "locked.ifczip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(good_ifc, "model.ifc")
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag in the local and the central directory header.
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + flag_offset] |= 0x01
    path.write_bytes(bytes(data))
    assert "password-protected" in _reason(path, IfcOpenError)


def test_macos_resource_forks_in_a_zip_are_ignored(tmp_path: Path, good_ifc: Path) -> None:
    path = tmp_path / "finder.ifczip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(good_ifc, "model.ifc")
        z.writestr("__MACOSX/._model.ifc", b"\x00\x05\x16\x07 resource fork")
    with open_model(path) as loaded:
        assert len(loaded.file.by_type("IfcWall")) == 1
