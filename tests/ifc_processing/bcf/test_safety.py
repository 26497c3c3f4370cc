"""The upload is untrusted: crafted archives and XML give a clear ``BcfError``, fast, and
never a crash, a hang, a file read from disk or a flood of memory."""

from __future__ import annotations

import io
import os
import stat
import struct
import time
import warnings
import zipfile

import pytest

from ifc_processing import IfcProcessingError
from ifc_processing.bcf import BcfError, BcfLimits, UnsafeBcfError, read_bcf
from ifc_processing.bcf.safety import resolve_reference

from .support import TOPIC_GUID, VERSION_21, image, make_zip, markup, one_topic, reason

MiB = 1 << 20


def unsafe(data: bytes, **kwargs: object) -> str:
    """The reason of the ``UnsafeBcfError`` reading ``data`` raises."""
    with pytest.raises(UnsafeBcfError):
        read_bcf(data, **kwargs)
    return reason(read_bcf, data, **kwargs)


# --------------------------------------------------------------------------- member names


@pytest.mark.parametrize(
    ("member", "why"),
    [
        ("../evil", "has a '..' component (zip slip)"),
        ("a/../../b", "has a '..' component (zip slip)"),
        (f"{TOPIC_GUID}/../../../etc/cron.d/x", "has a '..' component (zip slip)"),
        ("..\\..\\evil.bcf", "has a '..' component (zip slip)"),
        ("/abs/markup.bcf", "is an absolute path"),
        ("\\\\server\\share\\x", "is an absolute path"),
        ("C:\\x", "starts with a drive letter"),
        ("c:/windows/x", "starts with a drive letter"),
        ("ok/C:evil", "has a drive letter inside the path"),
        ("topic/./..\\../x", "has a '..' component (zip slip)"),
    ],
)
def test_member_names_that_escape_the_archive_are_refused(member: str, why: str) -> None:
    data = make_zip({"bcf.version": VERSION_21, f"{TOPIC_GUID}/markup.bcf": markup(), member: "x"})
    assert unsafe(data).endswith(why)
    assert "member " in unsafe(data)


def test_a_symlink_member_is_refused() -> None:
    link = zipfile.ZipInfo(f"{TOPIC_GUID}/snapshot.png")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = make_zip(
        [("bcf.version", VERSION_21), (f"{TOPIC_GUID}/markup.bcf", markup()), (link, "/etc/passwd")]
    )
    assert unsafe(data) == f"member '{TOPIC_GUID}/snapshot.png' is a symbolic link"


def test_an_encrypted_member_is_refused() -> None:
    data = bytearray(one_topic(markup()))
    # Set the "encrypted" bit in every local and central header (zipfile cannot write one).
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            (flags,) = struct.unpack_from("<H", data, at + offset)
            struct.pack_into("<H", data, at + offset, flags | 0x1)
            at = data.find(signature, at + 4)
    assert unsafe(bytes(data)) == "member 'bcf.version' is encrypted"


def test_duplicate_member_names_are_refused() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate it writes
        data = make_zip([("bcf.version", VERSION_21), (f"{TOPIC_GUID}/markup.bcf", markup())] * 2)
    assert unsafe(data) == "member 'bcf.version' appears twice in the archive"


def test_resolve_reference_never_leaves_the_archive() -> None:
    assert resolve_reference("topic", "../model.ifc") == "model.ifc"
    assert resolve_reference("topic", "sub\\doc.pdf") == "topic/sub/doc.pdf"
    for escaping in ("../../etc/passwd", "/etc/passwd", "C:\\boot.ini", "file:///etc/passwd", "https://x/y"):
        assert resolve_reference("topic", escaping) is None


# --------------------------------------------------------------------------- XML


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + f']><Markup><Topic Guid="{TOPIC_GUID}"><Title>&lol9;</Title></Topic></Markup>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    f'<Markup><Topic Guid="{TOPIC_GUID}"><Title>&x;</Title></Topic></Markup>'
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?><!DOCTYPE Markup SYSTEM "http://127.0.0.1:9/evil.dtd">'
    f'<Markup><Topic Guid="{TOPIC_GUID}"/></Markup>'
)


@pytest.mark.parametrize(
    "text", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["billion-laughs", "xxe", "external-dtd"]
)
def test_xml_with_a_dtd_or_entities_is_refused_without_expanding_anything(text: str) -> None:
    started = time.perf_counter()
    why = unsafe(one_topic(text))
    assert why.startswith(f"{TOPIC_GUID}/markup.bcf declares a DTD or entities")
    assert "root:" not in why and "lol" not in why
    assert time.perf_counter() - started < 2


def test_a_dtd_in_a_viewpoint_or_bcf_version_is_refused_too() -> None:
    rest = (
        '<Viewpoints Guid="d0000000-0000-0000-0000-000000000004"><Viewpoint>v.bcfv</Viewpoint></Viewpoints>'
    )
    viewpoint = XXE.replace("Markup", "VisualizationInfo")
    assert unsafe(one_topic(markup(rest=rest), **{"v.bcfv": viewpoint})).startswith(
        f"{TOPIC_GUID}/v.bcfv declares"
    )
    data = make_zip({"bcf.version": XXE.replace("Markup", "Version"), f"{TOPIC_GUID}/markup.bcf": markup()})
    assert unsafe(data).startswith("bcf.version declares a DTD")


# --------------------------------------------------------------------------- sizes


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """200 MB of zeros in a ~200 kB snapshot member, written in 1 MB chunks (streaming)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bcf.version", VERSION_21)
        archive.writestr(f"{TOPIC_GUID}/markup.bcf", markup())
        with archive.open(f"{TOPIC_GUID}/snapshot.png", "w", force_zip64=True) as member:
            chunk = bytes(MiB)
            for _ in range(200):
                member.write(chunk)
    data = buffer.getvalue()
    assert len(data) < 300_000
    return data


def test_a_zip_bomb_is_refused_before_anything_is_inflated(zip_bomb: bytes) -> None:
    started = time.perf_counter()
    why = unsafe(zip_bomb)
    assert why.startswith(f"member '{TOPIC_GUID}/snapshot.png' expands 1,0")
    assert why.endswith("to 209,715,200 bytes (more than 200:1: a zip bomb?)")
    assert time.perf_counter() - started < 1


def declare_size(archive: bytes, suffix: bytes, size: int) -> bytes:
    """``archive`` with the uncompressed size of members ending in ``suffix`` set to ``size`` in
    their local and central headers."""
    data = bytearray(archive)
    for signature, size_at, name_length_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        at = data.find(signature)
        while at >= 0:
            (length,) = struct.unpack_from("<H", data, at + name_length_at)
            if bytes(data[at + name_at : at + name_at + length]).endswith(suffix):
                struct.pack_into("<I", data, at + size_at, size)
            at = data.find(signature, at + 4)
    return bytes(data)


def test_a_member_whose_header_lies_about_its_size_is_stopped() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bcf.version", VERSION_21)
        archive.writestr(f"{TOPIC_GUID}/markup.bcf", markup())
        archive.writestr(f"{TOPIC_GUID}/snapshot.png", bytes(20 * MiB))
    data = declare_size(buffer.getvalue(), b"snapshot.png", 10_000)  # 10 kB said, 20 MB inside
    started = time.perf_counter()
    why = reason(read_bcf, data)
    assert why.startswith(f"member '{TOPIC_GUID}/snapshot.png' ")
    assert "corrupt" in why or "zip bomb" in why
    assert time.perf_counter() - started < 1


def test_reads_stop_at_the_member_limit() -> None:
    noise = os.urandom(3 * MiB)  # incompressible: passes the ratio test, fails the size limit
    data = one_topic(markup(), **{"snapshot.png": noise})
    why = unsafe(data, limits=BcfLimits(max_member_bytes=MiB))
    assert why == f"member '{TOPIC_GUID}/snapshot.png' is larger than 1,048,576 bytes"


def test_xml_members_have_their_own_smaller_limit() -> None:
    big = markup(f"<Description>{os.urandom(4000).hex()}</Description>")
    why = unsafe(one_topic(big), limits=BcfLimits(max_xml_bytes=4096))
    assert why == f"member '{TOPIC_GUID}/markup.bcf' is larger than 4,096 bytes"


def test_the_total_uncompressed_size_is_limited() -> None:
    members = {"bcf.version": VERSION_21, f"{TOPIC_GUID}/markup.bcf": markup()}
    members.update({f"{TOPIC_GUID}/part{i}.bin": os.urandom(600 * 1024) for i in range(3)})
    why = unsafe(make_zip(members), limits=BcfLimits(max_total_bytes=MiB))
    assert why == "the members expand to more than 1,048,576 bytes in total"


def test_too_many_members_are_refused() -> None:
    members = {"bcf.version": VERSION_21, **{f"{TOPIC_GUID}/{i}.txt": "" for i in range(30)}}
    assert (
        unsafe(make_zip(members), limits=BcfLimits(max_members=10))
        == "the archive has 31 members, more than 10"
    )


def test_the_member_count_is_checked_before_the_zip_is_listed() -> None:
    data = bytearray(one_topic(markup()))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 60_000, 60_000)  # an end record claiming 60,000 members
    assert unsafe(bytes(data)) == "the archive has 60000 members, more than 20000"


def test_nested_archives_are_ignored() -> None:
    inner = make_zip({"../../evil": "x", "bcf.version": VERSION_21})
    data = one_topic(markup(), **{"attachment.zip": inner, "model.bcfzip": inner})
    assert [t.guid for t in read_bcf(data).topics] == [TOPIC_GUID]


# --------------------------------------------------------------------------- not a BCF file at all


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "the file is empty"),
        (b"hello, world", "not a BCF file: not a zip archive"),
        (image("png"), "not a BCF file: a PNG image"),
        (markup().encode(), "not a BCF file: an XML document (a BCF file is a zip archive of XML files)"),
        (b"ISO-10303-21;\nHEADER;", "not a BCF file: an IFC model"),
        (make_zip({}), "not a BCF file: the archive is empty"),
    ],
    ids=["empty", "text", "png", "xml", "ifc", "empty-zip"],
)
def test_files_that_are_no_bcf_file(data: bytes, why: str) -> None:
    assert reason(read_bcf, data, name="issues.bcf") == why


def test_a_truncated_zip_is_a_bcf_error() -> None:
    data = one_topic(markup(), **{"snapshot.png": image("png")})
    broken = data[:200] + data[-200:]
    why = reason(read_bcf, broken)
    assert why.startswith(("not a BCF file", "member "))


def test_every_refusal_is_an_ifc_processing_error() -> None:
    assert issubclass(UnsafeBcfError, BcfError) and issubclass(BcfError, IfcProcessingError)
