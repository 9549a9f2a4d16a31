"""What every command shares: the spec argument and --json output."""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from pathlib import Path

import numpy as np

from derive.core.limits import MAX_FILE_BYTES
from derive.core.primitives import unusual_pair
from derive.errors import clip

__all__ = ["emit_json", "strict", "spec_argument", "warn_unusual_pair"]


def warn_unusual_pair(path) -> None:
    """A warning on stderr (not an error) when the spec's output activation and loss make a pair users
    rarely mean; the spec itself is read and reported by the command."""
    try:
        if Path(path).stat().st_size > MAX_FILE_BYTES:   # too big to read here: the loader says so
            return
        network = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("network", {})
        act, loss = network["activations"][-1], network.get("loss", "half_sse")
    except (OSError, ValueError, RecursionError, KeyError, IndexError, TypeError, AttributeError):
        return           # ValueError: bad UTF-8, bad TOML, an integer past Python's digit limit: the loader says so
    meant = unusual_pair(act, loss) if isinstance(act, str) and isinstance(loss, str) else None
    if meant:
        print(clip(f"derive: warning: {path}: a {act} output with loss {loss!r} is unusual; "
                   f"loss = {meant!r} is the usual pair", 600), file=sys.stderr)


def emit_json(obj) -> None:
    """One strict JSON object on stdout (the --json contract, docs/json.md): NumPy scalars and arrays become
    numbers and lists, and a number that is not finite (nan, ±inf) becomes null, listed in "non_finite"."""
    missing: list[str] = []
    clean = strict(obj, "", missing)
    if missing and isinstance(clean, dict):
        clean["non_finite"] = missing
    json.dump(clean, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def strict(obj, path: str, missing: list[str]):
    """`obj` with only JSON types: non-finite numbers as None (their paths appended to `missing`)."""
    if isinstance(obj, dict):
        return {str(k): strict(v, f"{path}.{k}" if path else str(k), missing) for k, v in obj.items()}
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        obj = obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [strict(v, f"{path}[{i}]", missing) for i, v in enumerate(obj)]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating, np.ndarray)):
        value = float(obj)
        if math.isfinite(value):
            return value
        missing.append(path)
        return None
    return obj


def spec_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="a spec file (TOML)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
