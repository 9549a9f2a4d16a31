"""What every command shares: the spec argument and --json output."""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

from derive.core.fitspec import FitSpec, fit_spec_from_dict, is_fit_spec, load_fit_spec
from derive.core.reading import read_toml
from derive.core.primitives import unusual_pair
from derive.core.limits import MAX_SCALAR_WEIGHTS
from derive.core.spec import load_spec, spec_from_dict, weight_count
from derive.errors import SpecError, clip
from derive.numeric.dense import DenseNetwork, is_dense
from derive.numeric.network import Network

__all__ = ["emit_json", "strict", "spec_argument", "warn_unusual_pair", "load", "load_fit", "read_spec"]


def warn_unusual_pair(spec) -> None:
    """A warning on stderr (not an error) when a loaded spec's (a Spec's or FitSpec's) output activation and
    loss make a pair users rarely mean; read from the spec the command loaded, so the file is parsed once."""
    act, loss = spec.activations[-1], spec.loss
    meant = unusual_pair(act, loss)
    if meant:
        print(clip(f"derive: warning: {spec.source or 'spec'}: a {act} output with loss {loss!r} is unusual; "
                   f"loss = {meant!r} is the usual pair", 600), file=sys.stderr)


def load(path, *, matrix: bool = False) -> Network | DenseNetwork:
    """derive.load(path) for a command: the network, and the unusual-pair warning from its spec. A net past
    the weight-by-weight limit is a DenseNetwork (matrix form) where the command takes one (`matrix`), else
    one line saying which commands do."""
    return _network(load_spec(path), matrix)


def read_spec(path, *, matrix: bool = False) -> FitSpec | Network | DenseNetwork:
    """A spec file read once, for the commands that take either kind: a data-set spec ([data]) as its FitSpec,
    any other as load() gives it."""
    data = read_toml(path)
    if is_fit_spec(data):
        spec = fit_spec_from_dict(data, source=str(path))
        warn_unusual_pair(spec)
        return spec
    return _network(spec_from_dict(data, source=str(path)), matrix)


def _network(spec, matrix: bool) -> Network | DenseNetwork:
    warn_unusual_pair(spec)
    if not is_dense(spec):
        return Network(spec)
    if matrix:
        return DenseNetwork(spec)
    raise SpecError("network.layers", f"a net of at most {MAX_SCALAR_WEIGHTS} weights for this command (it derives "
                    "weight by weight, every weight a SymPy symbol); past it derive gradients, chain, train, check "
                    "--numeric and check-code answer in matrix form, and a data-set spec trains with derive fit",
                    got=f"{weight_count(spec.layers)} weights", source=spec.source)


def load_fit(path) -> FitSpec:
    """load_fit_spec(path) for a command: the data-set spec, and the unusual-pair warning from it."""
    spec = load_fit_spec(path)
    warn_unusual_pair(spec)
    return spec


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
