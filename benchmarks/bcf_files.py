"""BCF benchmark: reading and writing BCF files, and importing/exporting them on the server.

A generated BCF 2.1 file of ``--topics`` topics (default 1,000), each with three comments and
one viewpoint (perspective camera, 20 selected components by IfcGuid, a 40 kB PNG snapshot),
like a model checker's export. Measured in this process:

- ``read_bcf`` (ours: every version, safety checks, all records) against the baseline
  **bcf-client** (IfcOpenShell's BCF library), which loads the same 2.1 file and reads every
  topic's markup, comments and viewpoints — the work a BCF tool does to show the issues;
- ``write_bcf`` 2.1 and 3.0 (bcf-client's xsdata models underneath);
- the server's ``import_bcf`` of the whole file into an empty project (SQLite, one transaction,
  snapshots to the blob store), the same file again (keyed by topic guid: nothing new), and
  ``export_bcf`` of the project (3.0).

    python benchmarks/bcf_files.py
    python benchmarks/bcf_files.py --topics 3000 --markdown

Prints one JSON object; ``--markdown`` also prints a table row for docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ifc_processing.bcf import (  # noqa: E402
    BcfCamera,
    BcfComment,
    BcfComponent,
    BcfFile,
    BcfTopic,
    BcfViewpoint,
    read_bcf,
    write_bcf,
)

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$"


def _global_id(n: int) -> str:
    digits = []
    for _ in range(22):
        n, r = divmod(n, 64)
        digits.append(_ALPHABET[r])
    return "".join(reversed(digits))


def _snapshot(seed: int) -> bytes:
    # Noise does not compress: ~40 kB at 160×120, a typical BCF snapshot size.
    import random

    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", (160, 120))
    image.putdata([(rng.randrange(256), rng.randrange(256), 128) for _ in range(160 * 120)])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def generated_file(topics: int) -> BcfFile:
    snapshots = [_snapshot(i) for i in range(8)]  # reused: distinct enough, quick to make
    start = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    made = []
    for t in range(topics):
        guid = str(uuid.UUID(int=t + 1))
        viewpoint = BcfViewpoint(
            guid=str(uuid.UUID(int=10**9 + t)),
            camera=BcfCamera(
                "perspective", (10.0 + t % 7, -20.0, 15.0), (-0.5, 0.7, -0.5), (0.0, 0.0, 1.0), 60.0
            ),
            selection=tuple(BcfComponent(_global_id(t * 20 + c)) for c in range(20)),
            snapshot=snapshots[t % len(snapshots)],
            snapshot_type="png",
        )
        comments = tuple(
            BcfComment(
                guid=str(uuid.UUID(int=2 * 10**9 + 3 * t + c)),
                date=start + dt.timedelta(hours=t, minutes=c),
                author=f"checker{c}@example.com",
                text=f"第 {t} 号问题的第 {c} 条意见：构件碰撞，请复核。",
                viewpoint_guid=viewpoint.guid if c == 0 else None,
            )
            for c in range(3)
        )
        made.append(
            BcfTopic(
                guid=guid,
                title=f"碰撞 {t}: 风管与梁",
                topic_type="Clash",
                topic_status="Open",
                priority="Normal",
                labels=("MEP", "结构"),
                creation_date=start + dt.timedelta(hours=t),
                creation_author="checker@example.com",
                description="二层风管标高与框架梁冲突。",
                comments=comments,
                viewpoints=(viewpoint,),
            )
        )
    return BcfFile(version="2.1", topics=tuple(made), project_name="Benchmark")


def _median_ms(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _bcf_client_read(path: Path) -> int:
    """The baseline: bcf-client loads the file and reads every topic's parts."""
    import bcf.v2.bcfxml

    count = 0
    with bcf.v2.bcfxml.BcfXml.load(path) as handle:
        for topic in handle.topics.values():
            count += len(topic.comments) + len(topic.viewpoints)
            topic.markup.topic.title  # noqa: B018 (touch the markup as a viewer would)
            for viewpoint in topic.viewpoints.values():
                viewpoint.visualization_info  # noqa: B018
    return count


def _server_round(path: Path, folder: Path) -> dict:
    from twin_server.config import Settings
    from twin_server.domain.access import NodeKind, Role
    from twin_server.runtime import build_runtime
    from twin_server.services import bcf_exchange, orgs
    from twin_server.services.access import NodeRef
    from twin_server.services.auth import create_user, principal_named

    settings = Settings(data_dir=folder / "data", queue="immediate", secret_key="benchmark-secret-0123456789")
    runtime = build_runtime(settings)
    try:
        with runtime.sessions() as session:
            hq = orgs.create_node(session, kind=NodeKind.HQ, code="HQ", name="HQ", parent_id=None)
            region = orgs.create_node(session, kind=NodeKind.REGION, code="R", name="R", parent_id=hq.id)
            session.commit()
            project = orgs.create_project(
                session, region=NodeRef(region.id, NodeKind.REGION, region.path), code="P", name="P"
            )
            create_user(
                session, username="bim", password="benchmark-pw", role=Role.BIM_COORDINATOR, node_code="P"
            )
            actor = principal_named(session, username="bim")
            common = {"project_id": project.id, "project_path": project.path, "actor": actor}

            def upload():
                with path.open("rb") as handle:
                    return bcf_exchange.import_bcf_upload(
                        session,
                        **common,
                        handle=handle,
                        file_name=path.name,
                        blobs=runtime.blobs,
                        work_dir=settings.work_dir,
                        now=dt.datetime.now(dt.UTC),
                    )

            start = time.perf_counter()
            first = upload()
            import_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            again = upload()
            reimport_ms = (time.perf_counter() - start) * 1000
            start = time.perf_counter()
            data, _ = bcf_exchange.export_bcf(
                session, project_id=project.id, blobs=runtime.blobs, version="3.0", today=dt.date.today()
            )
            export_ms = (time.perf_counter() - start) * 1000
    finally:
        runtime.close()
    assert first.created == again.topics and again.created == again.comments_added == 0
    return {
        "import_ms": round(import_ms, 1),
        "reimport_unchanged_ms": round(reimport_ms, 1),
        "export_3_0_ms": round(export_ms, 1),
        "export_bytes": len(data),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    bcf_file = generated_file(args.topics)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.bcf"
        path.write_bytes(write_bcf(bcf_file, version="2.1"))
        ours = _median_ms(lambda: read_bcf(path), args.runs)
        baseline = _median_ms(lambda: _bcf_client_read(path), args.runs)
        write_21 = _median_ms(lambda: write_bcf(bcf_file, version="2.1"), args.runs)
        write_30 = _median_ms(lambda: write_bcf(bcf_file, version="3.0"), args.runs)
        server = _server_round(path, Path(folder))
        result = {
            "topics": args.topics,
            "file_bytes": path.stat().st_size,
            "read_ms": round(ours, 1),
            "bcf_client_read_ms": round(baseline, 1),
            "read_vs_bcf_client": round(ours / baseline, 2),
            "write_2_1_ms": round(write_21, 1),
            "write_3_0_ms": round(write_30, 1),
            **server,
        }
    print(json.dumps(result))
    if args.markdown:
        r = result
        print(
            f"| {r['topics']:,} topics, {r['file_bytes'] / 1e6:.1f} MB | {r['read_ms']:,.0f} | "
            f"{r['bcf_client_read_ms']:,.0f} ({r['read_vs_bcf_client']}×) | {r['write_2_1_ms']:,.0f} / "
            f"{r['write_3_0_ms']:,.0f} | {r['import_ms']:,.0f} | {r['reimport_unchanged_ms']:,.0f} | "
            f"{r['export_3_0_ms']:,.0f} |"
        )


if __name__ == "__main__":
    main()
