"""The ``twin`` command line.

    twin ingest FILE --out DIR [--json] [--compression meshopt|quantized|none] [--workers N]
    twin serve [--host H] [--port P] [--workers N]      the API server (TWIN_* settings)
    twin worker [--threads N]                            process uploads from the job queue
    twin user create NAME --role ROLE --node CODE        add a user (password prompted)
    twin org add hq|region|project CODE NAME [--parent CODE]
    twin audit verify [--project CODE] [--anchor FILE]   issue histories intact? (1: tampered)
    twin audit anchor [--project CODE] [--out FILE]      chain heads to keep outside the database
    twin demo [--sample FILE.ifc] [--projects N]         demo portfolio (development mode)
    twin mqtt-bridge [--url mqtt://HOST:PORT]            MQTT sensor readings into the database
    twin simulate-sensors [--via direct|http|mqtt]       demo sensor readings, with a few breaches

Exit codes: 0 success; 1 the audit found a broken chain; 2 bad input or usage (one line
on stderr naming the file and the reason, no traceback); 130 interrupted (Ctrl-C).
Anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["main"]

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # the shell's convention for SIGINT


def _count(text: str) -> int:
    """argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``twin`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    from .commands import run_command

    try:
        return run_command(args.run, args)
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twin", description="Erji Twin (二级孪生) command line")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="process an IFC file into element records and a GLB",
        description="Process an .ifc or .ifczip file into element records, spatial tree, georeference, GLB.",
    )
    ingest.add_argument("file", type=Path, help="the .ifc or .ifczip file")
    ingest.add_argument(
        "--out", type=Path, required=True, help="output folder (created; an earlier result is replaced)"
    )
    ingest.add_argument("--json", action="store_true", help="print only the summary, as JSON")
    ingest.add_argument(
        "--compression",
        choices=("meshopt", "quantized", "none"),
        default="meshopt",
        help="GLB encoding: meshopt (smallest, default), quantized, or none (core glTF, largest)",
    )
    ingest.add_argument(
        "--workers",
        type=_count,
        default=None,
        help="geometry worker processes (default: one per core; 0: in-process)",
    )
    ingest.set_defaults(run=_ingest)

    from .commands import add_server_commands

    add_server_commands(commands)
    return parser


def _ingest(args: argparse.Namespace) -> int:
    import orjson

    from ifc_processing import IfcProcessingError, process_model

    try:
        with _interrupt_between_steps() as check:
            if args.json:
                summary = process_model(
                    args.file,
                    args.out,
                    on_progress=lambda *_: check(),
                    compression=args.compression,
                    workers=args.workers,
                )
            else:
                summary = _with_progress(args, check)
    except IfcProcessingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_summary(summary, args.out)
    return 0


@contextmanager
def _interrupt_between_steps() -> Iterator[Callable[[], None]]:
    """Hold a Ctrl-C until the pipeline's next progress report, where ``check()`` raises it.

    Python raises KeyboardInterrupt wherever the signal lands, and landing inside one of
    ifcopenshell's C++ calls it came out as a SystemError with a traceback (or, now and then,
    a crash); between two steps nothing is half done, and the pipeline reports progress
    every few hundred elements and before it publishes anything. A second Ctrl-C stops at
    once.
    """
    pending = threading.Event()

    def note(signum, frame) -> None:
        if pending.is_set():
            signal.default_int_handler(signum, frame)
        pending.set()

    def check() -> None:
        if pending.is_set():
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield check
    finally:
        signal.signal(signal.SIGINT, previous)


def _with_progress(args: argparse.Namespace, check: Callable[[], None]):
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ifc_processing import process_model

    labels = {
        "open": "opening",
        "elements": "elements & properties",
        "geometry": "geometry",
        "glb": "writing GLB",
        "write": "writing records",
    }
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        tasks: dict[str, int] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            check()
            if stage not in tasks:
                tasks[stage] = progress.add_task(labels.get(stage, stage), total=max(total, 1))
            progress.update(tasks[stage], completed=done, total=max(total, 1))

        return process_model(
            args.file, args.out, on_progress=on_progress, compression=args.compression, workers=args.workers
        )


def _print_summary(summary, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary.source_file} → {out}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("schema", summary.schema),
        (
            "elements",
            f"{summary.element_count:,} ({summary.space_count:,} spaces) in {summary.storey_count} storeys",
        ),
        ("with geometry", f"{summary.elements_with_geometry:,}"),
        (
            "geometry failures",
            f"{summary.geometry_failures:,} (see failures.json)" if summary.geometry_failures else "0",
        ),
        ("triangles", f"{summary.triangles:,} drawn, {summary.stored_triangles:,} stored"),
        (
            "GLB",
            f"{summary.outputs['model.glb'] / 1e6:.2f} MB "
            f"({summary.glb_meshes} meshes, {summary.compression})",
        ),
        ("IFC / GLB", f"{summary.source_bytes / max(summary.outputs['model.glb'], 1):.1f}×"),
        ("origin (m)", ", ".join(f"{v:.3f}" for v in summary.origin_m)),
        ("georeference", summary.georef_source),
        ("seconds", ", ".join(f"{k} {v:.2f}" for k, v in summary.seconds.items())),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console = Console()
    console.print(table)
    for warning in summary.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


if __name__ == "__main__":
    raise SystemExit(main())
