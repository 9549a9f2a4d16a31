"""What every command shares: the spec argument and --json output."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["emit_json", "spec_argument"]


def emit_json(obj) -> None:
    """One JSON object on stdout (the --json contract)."""
    json.dump(obj, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def spec_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="a spec file (TOML)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
