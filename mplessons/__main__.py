"""Command line: ``python -m mplessons info`` (and ``bench``, see ``mplessons.bench``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .machine import info, info_text, start_methods


def _info(args: argparse.Namespace) -> int:
    details = info()
    print(json.dumps(details, indent=2) if args.json else info_text(details))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import format_report, run_benchmark, write_outputs

    def progress(message: str) -> None:
        print(f"  .. {message}", file=sys.stderr, flush=True)

    report, sweep_result = run_benchmark(quick=args.quick, start_method=args.start_method, course=not args.no_course,
                                         notebooks=args.notebooks,
                           progress=progress)
    print(format_report(report))
    write_outputs(report, sweep_result, args.json, args.plot)
    return 0


def _existing_folder(value: str) -> Path:
    """Refuse a wrong --notebooks folder at once, not after minutes of benchmarking."""
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {value!r}")
    return path


def _output_file(value: str) -> str:
    """Refuse an output path whose folder does not exist at once, not when the results are ready to write."""
    folder = Path(value).parent
    if not value or not folder.is_dir() or Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {value!r}: give a file path in an existing folder")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mplessons", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{info,bench}")
    info_cmd = commands.add_parser("info", help="this machine's cores, start methods, GIL and packages")
    info_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info_cmd.set_defaults(handler=_info)
    bench = commands.add_parser("bench", help="speedup, overhead, start-up and course runtime, as ratios")
    bench.add_argument("--quick", action="store_true", help="one repeat and smaller tasks (about 1-2 minutes)")
    bench.add_argument("--json", metavar="PATH", type=_output_file, help="also write the full results as JSON")
    bench.add_argument("--plot", metavar="PATH", type=_output_file, help="also save the speedup plot (PNG)")
    bench.add_argument("--start-method", choices=start_methods(), default=None,
                       help="start method for the workers (default: $MPLESSONS_START_METHOD or Python's)")
    bench.add_argument("--notebooks", metavar="DIR", type=_existing_folder, default=None,
                       help="folder of lesson notebooks to time (default: the repository's notebooks/)")
    bench.add_argument("--no-course", action="store_true", help="skip running the notebooks")
    bench.set_defaults(handler=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .machine import default_start_method

    try:
        default_start_method()  # a bad $MPLESSONS_START_METHOD is a usage error, not a traceback
    except ValueError as exc:
        parser.error(str(exc))
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
