"""Command line: ``python -m sample_models OUT.ifc [options]`` writes the sample building.

Exit codes: 0 written; 2 bad arguments (one line on stderr, no traceback); 1 the file
could not be written.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from sample_models.generate import element_count, layout_for_element_count, write_building

EXIT_BAD_ARGUMENTS = 2
EXIT_WRITE_FAILED = 1


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus an error; the CLI contract is one clear line, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_ARGUMENTS, f"{self.prog}: error: {message} (see --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="python -m sample_models",
        description="Write the deterministic sample RC building (Wuhan, EPSG:4547) as IFC.",
    )
    parser.add_argument("output", metavar="OUT.ifc", help="path of the IFC file to write")
    parser.add_argument("--storeys", type=int, help="structural storeys (default 3)")
    parser.add_argument("--bays-x", type=int, help="bays along X, 8.4 m each (default 3)")
    parser.add_argument("--bays-y", type=int, help="bays along Y, 7.2 m each (default 2)")
    parser.add_argument(
        "--elements",
        type=int,
        help="pick storeys and bays for about this many physical elements (±10%%); "
        "excludes --storeys/--bays-x/--bays-y",
    )
    parser.add_argument("--schema", default="IFC4", help="IFC2X3, IFC4 (default) or IFC4X3")
    parser.add_argument("--no-schedule", action="store_true", help="omit the 4D work schedule")
    parser.add_argument("--start-date", type=datetime.date.fromisoformat, help="schedule start, YYYY-MM-DD")
    parser.add_argument("--seed", type=int, default=0, help="seed of the GlobalIds (default 0)")
    return parser


def _layout(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[int, int, int]:
    explicit = (args.storeys, args.bays_x, args.bays_y)
    if args.elements is None:
        defaults = (3, 3, 2)
        return tuple(d if v is None else v for v, d in zip(explicit, defaults, strict=True))  # type: ignore[return-value]
    if any(v is not None for v in explicit):
        parser.error("--elements cannot be combined with --storeys, --bays-x or --bays-y")
    try:
        return layout_for_element_count(args.elements)
    except ValueError as error:
        parser.error(str(error))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse argv, write the model, print one summary line; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    storeys, bays_x, bays_y = _layout(parser, args)
    options = {"storeys": storeys, "bays_x": bays_x, "bays_y": bays_y, "schema": args.schema}
    options |= {"with_schedule": not args.no_schedule, "seed": args.seed}
    if args.start_date is not None:
        options["start_date"] = args.start_date
    started = time.perf_counter()
    try:
        path = write_building(args.output, **options)
    except ValueError as error:
        parser.error(str(error))
    except OSError as error:
        print(f"{parser.prog}: cannot write {args.output}: {error.strerror or error}", file=sys.stderr)
        return EXIT_WRITE_FAILED
    seconds = time.perf_counter() - started
    count = element_count(storeys, bays_x, bays_y)
    print(f"wrote {path}: {count} elements, {storeys} storeys × {bays_x}×{bays_y} bays, {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
