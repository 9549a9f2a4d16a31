"""What every command shares: the spec argument and --json output."""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

from derive.core.primitives import unusual_pair

__all__ = ["emit_json", "spec_argument", "warn_unusual_pair"]


def warn_unusual_pair(path) -> None:
    """A warning on stderr (not an error) when the spec's output activation and loss make a pair users
    rarely mean; the spec itself is read and reported by the command."""
    try:
        network = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("network", {})
        act, loss = network["activations"][-1], network.get("loss", "half_sse")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, IndexError, TypeError, AttributeError):
        return
    meant = unusual_pair(act, loss) if isinstance(act, str) and isinstance(loss, str) else None
    if meant:
        print(f"derive: warning: {path}: a {act} output with loss {loss!r} is unusual; "
              f"loss = {meant!r} is the usual pair", file=sys.stderr)


def emit_json(obj) -> None:
    """One JSON object on stdout (the --json contract)."""
    json.dump(obj, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def spec_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="a spec file (TOML)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
