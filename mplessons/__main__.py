"""Command line: ``python -m mplessons info`` (and ``bench``, see ``mplessons.bench``)."""

from __future__ import annotations

import argparse
import json
import sys

from .machine import info, info_text


def _info(args: argparse.Namespace) -> int:
    details = info()
    print(json.dumps(details, indent=2) if args.json else info_text(details))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mplessons", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{info,bench}")
    info_cmd = commands.add_parser("info", help="this machine's cores, start methods, GIL and packages")
    info_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info_cmd.set_defaults(handler=_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
