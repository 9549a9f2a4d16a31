"""Every size derive accepts, in one place (docs/spec-format.md, "Limits", lists them).

Each limit is checked while a spec is read, before anything is built from it, and a value past it is
one SpecError naming the key, the limit and what to do instead. Hand values are read by a grammar for
decimal numerals (`numeral`) before any Decimal or Fraction is made of them, so no string can make the
exact arithmetic expand a huge exponent or a megabyte of digits.
"""

from __future__ import annotations

import re

from derive.errors import SpecError

__all__ = ["MAX_FILE_BYTES", "MAX_TITLE_CHARS", "MAX_HAND_CHARS", "MAX_HAND_EXPONENT", "MAX_LAYERS",
           "MAX_LAYER_SIZE", "MAX_WEIGHTS", "MAX_SCALAR_WEIGHTS", "check_scalar_size", "MAX_SAMPLES", "MAX_PATHS",
           "MAX_EPOCHS", "MAX_COPIES", "MAX_POINTS", "MAX_POINT_VALUES", "MAX_SEED", "MAX_SCALE", "numeral",
           "seed_number", "check_layers", "check_count", "MAX_TRAIN_WORK", "MAX_SWEEP_WORK", "check_work",
           "MAX_JSON_NUMBERS", "MAX_SWEEP_CELLS", "check_sweep_memory"]

MAX_FILE_BYTES = 2_000_000      # a spec file
MAX_TITLE_CHARS = 1_000         # title, data-set names and other free text
MAX_HAND_CHARS = 64             # one [hand] value, sign and exponent included
MAX_HAND_EXPONENT = 400         # |e| in "1.5e-3" (doubles end near 1e308 and 1e-324)
MAX_LAYERS = 64                 # entries of network.layers (the input layer counts)
MAX_LAYER_SIZE = 100_000        # neurons in one layer
MAX_WEIGHTS = 100_000           # weights of a net, values spec or data-set spec (data-set specs: matrix form)
MAX_SCALAR_WEIGHTS = 2_000      # weights of a net derived weight by weight (derive.load/network: SymPy, scalar)
MAX_SAMPLES = 1_000             # rows of a batch spec's values.inputs (a data set goes in a data-set spec)
MAX_PATHS = 256                 # chain-rule paths chain/latex/notes write out; past it: the δ form
MAX_EPOCHS = 10_000_000         # train/fit epochs
MAX_COPIES = 100_000            # sweep --copies
MAX_TRAIN_WORK = 200_000_000    # train, one net: epochs × parameters × samples (about 30 s of the Python loop)
MAX_SWEEP_WORK = 10_000_000_000  # sweep: epochs × parameters × samples × copies (about 30 s of NumPy)
MAX_SWEEP_CELLS = 160_000_000   # sweep: copies × samples × (neurons + parameters), the arrays a step holds (~1.5 GB)
MAX_JSON_NUMBERS = 1_000_000    # sweep --json: copies × (parameters + outputs × samples + 4), ~40 MB, ~15 s
MAX_POINTS = 10_000             # check-code --points
MAX_POINT_VALUES = 20_000_000   # check-code: (points + 1) × parameters, the gradients compared in all
MAX_SCALE = 1e300               # sweep --scale (uniform weights in ±scale; 2·scale must be a double)
MAX_SEED = 2**32 - 1            # random seeds (NumPy's and scikit-learn's range)

_NUMERAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE](?P<exp>[+-]?[0-9]+))?")


def numeral(text: object, key: str) -> str:
    """A [hand] value checked as a decimal numeral ("-0.519", "1.5e-3") of bounded length and exponent."""
    if not isinstance(text, str):
        raise SpecError(key, 'a string such as "0.593" (quoted, so its printed digits are kept)', got=text)
    body = text.strip()
    if len(body) > MAX_HAND_CHARS:
        raise SpecError(key, f"a decimal number of at most {MAX_HAND_CHARS} characters (print fewer digits)",
                        got=text)
    match = _NUMERAL.fullmatch(body)
    if match is None:
        raise SpecError(key, 'a finite decimal number as a string ("0.519", "-1.5e-3")', got=text)
    if match["exp"] is not None and abs(int(match["exp"])) > MAX_HAND_EXPONENT:
        raise SpecError(key, f"an exponent of at most {MAX_HAND_EXPONENT} in size (a double ends near 1e308)",
                        got=text)
    return text


def check_layers(layers, key: str) -> None:
    """Depth, widths and weight count of `layers` within the limits (checked before anything is built)."""
    if len(layers) > MAX_LAYERS:
        raise SpecError(key, f"at most {MAX_LAYERS} layers (a deeper net is not something derive can write out)",
                        got=f"{len(layers)} layers")
    for i, size in enumerate(layers):
        if size > MAX_LAYER_SIZE:
            raise SpecError(f"{key}[{i}]", f"at most {MAX_LAYER_SIZE} neurons in a layer", got=size)
    weights = sum(a * b for a, b in zip(layers, layers[1:]))
    if weights > MAX_WEIGHTS:
        raise SpecError(key, f"a net of at most {MAX_WEIGHTS} weights (use smaller layers)",
                        got=f"{weights} weights")


def check_scalar_size(layers, source: str | None = None) -> None:
    """A net small enough to derive weight by weight (every weight a SymPy symbol, straight-line code):
    past MAX_SCALAR_WEIGHTS the matrix form is the way (a data-set spec: derive fit, derive notes)."""
    weights = sum(a * b for a, b in zip(layers, layers[1:]))
    if weights > MAX_SCALAR_WEIGHTS:
        raise SpecError("network.layers", f"a net of at most {MAX_SCALAR_WEIGHTS} weights for the weight-by-weight "
                        "derivation (a bigger net trains in matrix form: a data-set spec, derive fit)",
                        got=f"{weights} weights", source=source)


def seed_number(value, key: str) -> int:
    """A random seed: a whole number 0 … 2**32 − 1 (what NumPy and scikit-learn accept)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise SpecError(key, f"a whole number from 0 to {MAX_SEED}", got=value)
    return value


def check_count(value: int, key: str, limit: int, instead: str) -> int:
    """A count option (epochs, copies, points) within its limit; SpecError saying what to do instead."""
    if value > limit:
        raise SpecError(key, f"at most {limit} ({instead})", got=value)
    return value


def check_work(epochs: int, per_epoch: int, key: str, limit: int, instead: str, source: str | None = None) -> int:
    """A run's epochs within its work limit (epochs × the parameter updates of one epoch): a long run is
    refused before it starts, in one line giving the most epochs this net may take."""
    if epochs * per_epoch > limit:
        raise SpecError(key, f"at most {max(1, limit // per_epoch):,} epochs here ({per_epoch:,} parameter updates an "
                             f"epoch, at most {limit:.0e} in all; {instead})", got=epochs, source=source)
    return epochs


def check_sweep_memory(copies: int, samples: int, per_sample: int, source: str | None = None) -> None:
    """A sweep holds each neuron's and parameter's values for every copy and sample at once: past
    MAX_SWEEP_CELLS (about 1.5 GB) it is refused before anything is allocated, with the copies it may take."""
    per_copy = max(1, samples) * per_sample
    if copies * per_copy > MAX_SWEEP_CELLS:
        raise SpecError("--copies", f"at most {max(1, MAX_SWEEP_CELLS // per_copy):,} copies of this net "
                                    f"({max(1, samples):,} samples × {per_sample:,} neurons and parameters a copy, at most "
                                    f"{MAX_SWEEP_CELLS:,} values held at once: about 1.5 GB)", got=copies, source=source)
