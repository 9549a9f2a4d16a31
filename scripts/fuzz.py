"""Fuzz campaign for issue 14 (reliability: no escape, no hang, no runaway size).

Mutates the worked examples' specs (seeded, reproducible), runs every mutant through the public
library API in a forked child with a wall-time and a memory limit, runs a stratified sample through
every `python -m derive` subcommand, and classifies each outcome:

    ok       everything ran
    error    a clean derive error (derive.DeriveError: SpecError, NotSupported, ...) / CLI exit 2
    ESCAPE   any other exception (or a traceback / odd exit status / invalid --json output on the CLI)
    HANG     the wall-time limit was hit (where it hung comes from a faulthandler dump)
    MEMORY   MemoryError, or killed by the memory limit

    PYTHONPATH=. python scripts/fuzz.py --cases 200 --cli-cases 30          # smoke run
    PYTHONPATH=. python scripts/fuzz.py --cases 10000 --cli-cases 200 --jobs 1 --out fuzz-out/report.json

Only the public API is imported (`import derive`, derive.load, derive.check_hand, ...) and the CLI
is run as `python -m derive`, so the script keeps working when the package moves. Generated TOML
is written by the small emitter below (`emit`); nothing generated is ever executed as Python.
A pytest can take a seeded subset:  `for name, text in fuzz.cases(0, 300, small=True): ...`
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import io
import json
import math
import os
import random
import re
import resource
import signal
import sys
import time
import tomllib
import traceback
import warnings
from functools import cache
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # before numpy (via derive): forks stay simple
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "worked_examples"
CLASSES = ("ok", "error", "ESCAPE", "HANG", "MEMORY")
SEVERITY = {c: i for i, c in enumerate(CLASSES)}


# ============================================================================ TOML emitter

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESC = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


def toml_string(s: str) -> str:
    out = []
    for ch in s:
        if ch in _ESC:
            out.append(_ESC[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(k: str) -> str:
    return k if _BARE.fullmatch(k) else toml_string(k)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "-nan" if math.copysign(1, v) < 0 else "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no TOML for {type(v).__name__}")


def emit(doc: dict) -> str:
    """A TOML document for a dict of the shapes specs have: scalars, arrays, (nested) tables."""
    lines: list[str] = []

    def table(path: list[str], t: dict) -> None:
        if path:
            lines.append("")
            lines.append("[" + ".".join(toml_key(p) for p in path) + "]")
        for k, v in t.items():
            if not isinstance(v, dict):
                lines.append(f"{toml_key(k)} = {toml_value(v)}")
        for k, v in t.items():
            if isinstance(v, dict):
                table(path + [k], v)

    table([], doc)
    return "\n".join(lines).lstrip("\n") + "\n"


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def roundtrips(doc: dict) -> bool:
    return _same(tomllib.loads(emit(doc)), doc)


# ============================================================================ generation

LIMITS = [0, 0.0, -0.0, 1, -1, 0.5, 1e308, -1e308, 1.7976931348623157e308, 1e-320, -1e-320, 5e-324, 1e-300,
          1e4, -1e4, 1e15, 10**30, -10**30, 2**63 - 1, -2**63, 2**64, 10**400, 2**53 + 1,
          math.nan, math.inf, -math.inf]
HAND_STRINGS = ["1e999", "-1e999", "nan", "NaN", "inf", "-inf", "infinity", "0.1e-2147483648", "1e2147483648",
                "1e-2147483649", "0.1e-99999999999999999999", "1E400000", "--1", "+-1", "", " ", "0x10", "1_000",
                "١٢٣", "٠٫٥", "𝟙", "½", "1e-320", "4.5e-324", "1e+308", "1.7976931348623157e309", "-0", "-0.000",
                "0.5 ", " 0.5", "\n0.5", "0.5\u0000", "1.", ".5", "5.", "1e", "e5", "0.59300000000000000000001",
                "9" * 5000, "0." + "0" * 4000 + "1", "$1$", "0.5; 1"]
INJECTIONS = ["$\\undefinedmacro$", "\\undefinedmacro", "<script>alert(1)</script>", "\\", "\\\\", "a\\b", "a\nb",
              "x\r\ny", "-o", "--force", "--help", "-h", "%s%n%x", "{}", "{0}", "}{", "\\end{document}",
              "\\input{/etc/passwd}", "\\write18{ls}", "#", "$$", "&", "_", "^", "~", "%", "é", "\u202egnp.x",
              "\u0000", "💥", "../../x", "'; DROP TABLE specs; --", "${HOME}", "`ls`", "\t", "", " ", "\\(", "\\[",
              "\\begin{align*}", "@", "w1", "E_total"]
HAND_KEYS = ["out_o1", "out_o2", "out_o3", "net_h1", "net_o1", "E_total", "E_o1", "F_t", "dE_total/dw1",
             "dE_total/dw5", "dE_total/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw5", "w1+", "w5+", "b1+", "y", "y1",
             "E", "yE", "wE", "w1E", "bE", "w+", "b+", "z1", "h1", "o1", "o2", "delta_o1", "out_o999",
             "dE_total/dw999", "w0+", "E_o0", "d/d", "/", "dE_total/", "+", "E+", "dw1/dE_total", "out_h1_1",
             "h1_1", "dE_total/db1", "d" * 300]
ACT_NAMES = ["identity", "sigmoid", "tanh", "relu", "softmax"]
LOSS_NAMES = ["half_sse", "mse", "bce", "cross_entropy"]
BAD_NAMES = ["Sigmoid", "relu ", "", "linear", "softmax\n", "sigmoid,relu", "ＲＥＬＵ", "none", "null"]
HUGE_LAYERS = [[30, 10**12, 1], [2] * 26, [1000, 1000], [1, 100000], [2] * 12, [3, 3, 3, 3, 3, 3, 3, 3],
               [100, 100], [1, 2**63], [10**30, 1], [64, 10**6, 10], [30, 5000, 1], [10, 300, 300, 1],
               [1] * 200, [4, 50, 50, 4]]
KNOWN_KEYS = ["title", "network", "values", "hand", "train", "data", "init", "fit", "expect", "layers",
              "activations", "loss", "bias", "train_biases", "notation", "error_letter", "inputs", "targets",
              "weights", "biases", "learning_rate", "epochs", "stop_below", "dtype", "print_every", "dataset",
              "features", "test_size", "random_state", "divide_by", "scale", "seed", "mean", "std", "updates",
              "average", "shuffle", "report_loss", "loss_clip", "accuracy"]
FIT_FIELDS = {
    "data": {"dataset": ["diabetes", "breast_cancer", "digits", "mnist", "iris", ""],
             "features": [[2], [0, 0, 0], [], "all", "none", [10**30], [-1], [9], [29], [63], list(range(64)), [2.0]],
             "test_size": [0.2, 0, 1, 1e-320, 0.9999999999999999, 1e-9, 0.5, -0.1, math.nan, 2],
             "random_state": [0, 2**32 - 1, 2**32, 10**30, -1, 1.5],
             "divide_by": [16.0, 1e-320, -1.0, 1e308, 0, 5e-324, -0.0],
             "scale": ["standard", "none", "minmax"]},
    "init": {"weights": ["ones", "zeros", "normal", "uniform"], "biases": ["zeros", "ones", "normal"],
             "seed": [0, 2**32 - 1, 2**32, 10**30, -1], "mean": [0.0, 1e308, -1e308, 1e-320],
             "std": [1.0, 0.0, 1e308, 1e-320, -1.0, 1e200]},
    "fit": {"epochs": [1, 2, 0, -1, 10**12, 10**30], "learning_rate": [1.0, 0.0, -1.0, 1e308, 1e-320, 1e30],
            "updates": ["full_batch", "per_sample", "mini_batch"], "average": [True, False, 1],
            "shuffle": [True, False], "seed": [0, 2**32, 10**30, -1], "report_loss": ["sum", "mean", "max"],
            "loss_clip": [1e-10, 0.0, 0.5, 0.49999999999999994, 5e-324, 1e-320], "dtype": ["float32", "float64",
                                                                                             "float16"]},
}
TRAIN_FIELDS = {"epochs": [1, 3, 0, 10**12, 10**30, 2**63], "stop_below": [0.0, -1.0, 1e308, 1e-320, 1e-7],
                "dtype": ["float32", "float64", "float16"], "print_every": [1, 0, 10**30, 2]}


@cache
def bases() -> tuple[tuple[str, dict], ...]:
    out = []
    for path in sorted(EXAMPLES.glob("*.toml")) + sorted(EXAMPLES.glob("batches/*.toml")):   # batches: rows
        out.append((path.stem, tomllib.loads(path.read_text(encoding="utf-8"))))
    if not out:
        raise SystemExit(f"fuzz: no worked examples (*.toml) in {EXAMPLES}")
    return tuple(out)


def _fit_bases():
    return tuple(b for b in bases() if "data" in b[1])


def _value_bases():
    return tuple(b for b in bases() if "data" not in b[1])


# --- paths into a nested doc -------------------------------------------------------------

def _walk(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield path + (k,), v
            yield from _walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield path + (i,), v
            yield from _walk(v, path + (i,))


def _parent(doc, path):
    node = doc
    for p in path[:-1]:
        node = node[p]
    return node


def _set(doc, path, value):
    _parent(doc, path)[path[-1]] = value


def _paths(doc, pred=lambda p, v: True, limit=5000):
    out = []
    for p, v in _walk(doc):
        if pred(p, v):
            out.append(p)
        if len(out) >= limit:
            break
    return out


def _num(rng):
    r = rng.random()
    if r < 0.6:
        return round(rng.uniform(-2, 2), rng.choice([1, 2, 3, 6, 17]))
    if r < 0.9:
        return rng.choice(LIMITS)
    return rng.choice([rng.uniform(-1e6, 1e6), rng.randint(-5, 5), 10.0 ** rng.randint(-320, 308)])


def _weird_value(rng):
    return rng.choice(["string", "", "0.5", 1, 0, -1, 1.5, True, False, [], [1, 2], [[1, 2], [3]], {}, {"a": 1},
                       dt.datetime(1979, 5, 27, 7, 32, tzinfo=dt.timezone.utc), dt.date(2024, 1, 1),
                       dt.time(7, 32), math.nan, math.inf, 10**30, 1e308, ["sigmoid"], [0.5] * 3, "sigmoid",
                       {"layers": [2, 1]}, [{"x": 1}], rng.choice(INJECTIONS)])


def _weird_key(rng, old):
    r = rng.random()
    if r < 0.25 and old:
        i = rng.randrange(len(old))
        return rng.choice([old[:i] + old[i + 1:], old.upper(), old + "s", old[:i] + old[i] * 2 + old[i + 1:],
                           old.replace("_", "-"), " " + old, old + " "])
    if r < 0.5:
        return rng.choice(KNOWN_KEYS)
    if r < 0.75:
        return rng.choice(INJECTIONS) or "x"
    return rng.choice(["lаyers", "ｌａｙｅｒｓ", "k" * 10000, "a.b", "[x]", "=", "\"", "1", "-", "__class__",
                       "__proto__", "a\nb", "-o"])


def _counts(layers, scheme):
    w = sum(a * b for a, b in zip(layers, layers[1:]))
    b = {"per_neuron": sum(layers[1:]), "shared": len(layers) - 1, "none": 0}.get(scheme, sum(layers[1:]))
    return w, b


def _fit_layers(rng, doc, layers, matching):
    """Set network.layers; with `matching`, activations and values that fit the new sizes."""
    net = doc.get("network")
    if not isinstance(net, dict):
        net = doc["network"] = {}
    net["layers"] = layers
    if not matching:
        return
    n = len(layers) - 1
    acts = net.get("activations")
    acts = acts if isinstance(acts, list) and acts else ["sigmoid"]
    out = acts[-1]
    hidden = [a for a in acts[:-1] if a != "softmax"] or ["sigmoid"]
    net["activations"] = [hidden[i % len(hidden)] for i in range(n - 1)] + [out]
    vals = doc.get("values")
    if isinstance(vals, dict):
        w, b = _counts(layers, net.get("bias", "per_neuron"))
        cap = 2_000_000
        if w + b + layers[0] + layers[-1] > cap:
            return        # too big to write out: keep the old (mismatched) values
        v = round(rng.uniform(-1, 1), 3)
        vals["inputs"] = [round(rng.uniform(-1, 1), 3) for _ in range(layers[0])] if layers[0] < 1000 else [v] * layers[0]
        vals["targets"] = [rng.choice([0.0, 1.0, 0.25]) for _ in range(layers[-1])] if layers[-1] < 1000 \
            else [0.5] * layers[-1]
        vals["weights"] = [round(rng.uniform(-1, 1), 3) for _ in range(w)] if w < 1000 else [v] * w
        if b:
            vals["biases"] = [round(rng.uniform(-1, 1), 3) for _ in range(b)] if b < 1000 else [v] * b
        else:
            vals.pop("biases", None)


# --- structural families --------------------------------------------------------------------

def m_delete_key(rng, doc):
    ps = _paths(doc, lambda p, v: isinstance(p[-1], str))
    if ps:
        p = rng.choice(ps)
        del _parent(doc, p)[p[-1]]


def m_rename_key(rng, doc):
    ps = _paths(doc, lambda p, v: isinstance(p[-1], str))
    if not ps:
        return
    p = rng.choice(ps)
    parent = _parent(doc, p)
    new = _weird_key(rng, p[-1])
    items = [(new if k == p[-1] else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)     # a rename onto an existing key merges them (TOML cannot hold both)


def m_duplicate_key(rng, doc):
    """The same value under a second (related or known) name: dict-level duplicate."""
    ps = _paths(doc, lambda p, v: isinstance(p[-1], str))
    if ps:
        p = rng.choice(ps)
        parent = _parent(doc, p)
        parent[rng.choice([p[-1] + "_2", p[-1].upper(), rng.choice(KNOWN_KEYS)])] = copy.deepcopy(parent[p[-1]])


def m_wrong_type(rng, doc):
    ps = _paths(doc)
    if ps:
        _set(doc, rng.choice(ps), _weird_value(rng))


def m_nest_array(rng, doc):
    ps = _paths(doc, lambda p, v: not isinstance(v, dict))
    if not ps:
        return
    p = rng.choice(ps)
    v = _parent(doc, p)[p[-1]]
    if isinstance(v, list) and v and rng.random() < 0.5:
        _set(doc, p, [[x] for x in v])
    else:
        depth = rng.choice([1, 2, 5, 30])
        for _ in range(depth):
            v = [v]
        _set(doc, p, v)


def m_list_length(rng, doc):
    ps = _paths(doc, lambda p, v: isinstance(v, list))
    if not ps:
        return
    p = rng.choice(ps)
    v = _parent(doc, p)[p[-1]]
    op = rng.choice(["append", "pop", "empty", "double", "x1000", "single"])
    if op == "append":
        v.append(copy.deepcopy(v[-1]) if v else 0.5)
    elif op == "pop" and v:
        v.pop(rng.randrange(len(v)))
    elif op == "empty":
        v.clear()
    elif op == "double":
        v.extend(copy.deepcopy(v))
    elif op == "x1000" and v and len(v) < 100:
        v[:] = v * 1000
    elif v:
        v[:] = v[:1]


def m_resize_layers(rng, doc):
    net = doc.get("network")
    layers = net.get("layers") if isinstance(net, dict) else None
    if isinstance(layers, list) and layers and all(isinstance(x, int) and not isinstance(x, bool) for x in layers):
        new = list(layers)
        op = rng.choice(["grow", "shrink", "add", "remove", "zero", "negative", "random"])
        i = rng.randrange(len(new))
        if op == "grow":
            new[i] += rng.choice([1, 2, 10])
        elif op == "shrink":
            new[i] = max(1, new[i] - 1)
        elif op == "add":
            new.insert(rng.randrange(1, len(new)) if len(new) > 1 else 1, rng.randint(1, 4))
        elif op == "remove" and len(new) > 1:
            new.pop(i)
        elif op == "zero":
            new[i] = 0
        elif op == "negative":
            new[i] = -new[i]
        else:
            new = [rng.randint(1, 4) for _ in range(rng.randint(1, 5))]
    else:
        new = [rng.randint(1, 4) for _ in range(rng.randint(2, 4))]
    _fit_layers(rng, doc, new, matching=rng.random() < 0.6)


def m_limit_number(rng, doc):
    ps = _paths(doc, lambda p, v: isinstance(v, (int, float)) and not isinstance(v, bool))
    for _ in range(rng.choice([1, 1, 2, 5])):
        if ps:
            _set(doc, rng.choice(ps), rng.choice(LIMITS))


def m_hand_string(rng, doc):
    table = "expect" if "data" in doc and rng.random() < 0.8 else "hand"    # a fit spec's printed numbers
    hand = doc.get(table)
    if not isinstance(hand, dict):
        hand = doc[table] = {}
    for _ in range(rng.choice([1, 1, 2, 4])):
        r = rng.random()
        if r < 0.4 and hand:
            hand[rng.choice(list(hand))] = rng.choice(HAND_STRINGS)
        elif r < 0.7:
            hand[rng.choice(HAND_KEYS if table == "hand" else ["loss", "accuracy", "W1", "b1", "W2", "b2"])] = rng.choice(HAND_STRINGS + ["0.5", "0.593", "-3", "1832.0"])
        elif r < 0.8:
            hand[rng.choice(INJECTIONS)] = "0.5"
        elif r < 0.9:
            hand[rng.choice(HAND_KEYS)] = rng.choice(["0." + "0" * 1_000_000 + "1", "1" * 1_000_000,
                                                       "0." + "5" * 100_000])     # megabyte strings
        else:
            hand[rng.choice(HAND_KEYS)] = _weird_value(rng)


def m_huge_layers(rng, doc):
    _fit_layers(rng, doc, list(rng.choice(HUGE_LAYERS)), matching=rng.random() < 0.5)


def m_injection(rng, doc):
    s = rng.choice(INJECTIONS)
    where = rng.choice(["title", "title", "activation", "loss", "notation", "error_letter", "bias", "hand_key",
                        "dataset", "param_name", "long_title"])
    net = doc.setdefault("network", {}) if isinstance(doc.get("network", {}), dict) else {}
    if where == "title":
        doc["title"] = s
    elif where == "long_title":
        doc["title"] = (s or "x") * rng.choice([1000, 100_000])
    elif where == "activation" and isinstance(net.get("activations"), list) and net["activations"]:
        net["activations"][rng.randrange(len(net["activations"]))] = s
    elif where in ("loss", "notation", "error_letter", "bias"):
        net[where] = s
    elif where == "hand_key":
        doc.setdefault("hand", {})[s] = "0.5" if isinstance(doc.get("hand", {}), dict) else None
    elif where == "dataset" and isinstance(doc.get("data"), dict):
        doc["data"]["dataset"] = s
    else:
        doc["title"] = s


TITLES = ["$\\undefinedmacro$", "cost $x^$ and $\\frac{1}{$", "a $ b", "\\$5", "$$", "\\", "\\input{/etc/passwd}",
          "\\{}input", "50% #1 _x_ ~^ & {}", "<script>alert(1)</script>", "**bold** [l](javascript:x)", "# h\n## h2",
          "line\nbreak", "tab\there", "esc \x1b[31mred", "\u202eevil", "\u2028sep", "가중치 제목", "💥" * 50,
          "\\end{document}", "\\write18{touch pwned}", "x" * 2000, "}" * 300, "\\" * 500, "$" * 301, ""]


def m_title(rng, doc):
    """A title that is hard to print: math text for matplotlib, LaTeX and Markdown specials, control
    characters, long ones (the spec stays valid otherwise, so notes and --plot draw it)."""
    doc["title"] = "".join(rng.choice(TITLES) for _ in range(rng.choice([1, 1, 2, 3])))


def m_batch(rng, doc):
    """Single-sample values made a batch (rows, reduction), or a batch's rows changed: counts, ragged
    rows, no rows, many rows."""
    vals = doc.get("values")
    net = doc.get("network")
    if not isinstance(vals, dict) or not isinstance(net, dict):
        return
    layers = net.get("layers") if isinstance(net.get("layers"), list) else [2, 2]
    n_in = layers[0] if layers and isinstance(layers[0], int) and 0 < layers[0] < 1000 else 2
    n_out = layers[-1] if layers and isinstance(layers[-1], int) and 0 < layers[-1] < 1000 else 2
    rows = rng.choice([1, 2, 3, 5, 50, 0, 10_000])
    row = lambda n: [round(rng.uniform(-1, 1), 3) for _ in range(n)]
    vals["inputs"] = [row(n_in) for _ in range(min(rows, 200))] * (rows // 200 or 1) if rows else []
    vals["targets"] = [row(n_out) for _ in range(len(vals["inputs"]))]
    r = rng.random()
    if r < 0.15 and vals["inputs"]:
        vals["inputs"][-1] = row(n_in + 1)                          # ragged
    elif r < 0.25:
        vals["targets"] = vals["targets"][:-1]                     # one target row short
    elif r < 0.3 and vals["inputs"]:
        vals["inputs"][0] = [vals["inputs"][0]]                   # nested once more
    vals["reduction"] = rng.choice(["mean", "mean", "sum", "max", "", 1])


def m_combo(rng, doc):
    net = doc.get("network")
    if not isinstance(net, dict):
        return
    layers = net.get("layers")
    n = len(layers) - 1 if isinstance(layers, list) and len(layers) > 1 else rng.randint(1, 3)
    pool = ACT_NAMES + (BAD_NAMES if rng.random() < 0.1 else [])
    net["activations"] = [rng.choice(pool) for _ in range(n)]
    if "data" in doc and rng.random() < 0.7:      # fit specs: matrix-form hidden layers, a matching output pair
        out, loss = rng.choice([("identity", "half_sse"), ("sigmoid", "bce"), ("softmax", "cross_entropy"),
                                ("relu", "bce"), ("sigmoid", "half_sse")])
        net["activations"] = [rng.choice(["sigmoid", "tanh", "identity", "relu"]) for _ in range(n - 1)] + [out]
        net["loss"] = loss
        return
    if rng.random() < 0.3:
        net["activations"][0] = "softmax"      # softmax hidden
    net["loss"] = rng.choice(LOSS_NAMES + (BAD_NAMES if rng.random() < 0.1 else []))
    if rng.random() < 0.3:
        net["bias"] = rng.choice(["per_neuron", "shared", "none"])
    if rng.random() < 0.3:
        net["notation"] = rng.choice(["net-out", "z-h-o", "seven"])
    if rng.random() < 0.2:
        net["error_letter"] = rng.choice(["E", "F"])
    if rng.random() < 0.2:
        net["train_biases"] = rng.choice([True, False])


def m_fit_tables(rng, doc):
    if "data" not in doc and rng.random() < 0.7:
        return m_values(rng, doc)
    for _ in range(rng.choice([1, 2, 3])):
        table = rng.choice(list(FIT_FIELDS))
        key = rng.choice(list(FIT_FIELDS[table]))
        t = doc.get(table)
        if not isinstance(t, dict):
            t = doc[table] = {}
        t[key] = copy.deepcopy(rng.choice(FIT_FIELDS[table][key]))
    if rng.random() < 0.3:
        exp = doc.setdefault("expect", {}) if isinstance(doc.get("expect", {}), dict) else {}
        exp[rng.choice(["loss", "accuracy", "W1", "b1", "W2", "b9", "w1"])] = rng.choice(HAND_STRINGS + ["0.5"])


def m_train_table(rng, doc):
    if "data" in doc and rng.random() < 0.8:
        return m_fit_tables(rng, doc)
    t = doc.get("train")
    if not isinstance(t, dict):
        t = doc["train"] = {}
    key = rng.choice(list(TRAIN_FIELDS))
    t[key] = rng.choice(TRAIN_FIELDS[key])


def m_values(rng, doc):
    """Numbers everywhere in [values] from a wide distribution (shape kept): the numerics' edges."""
    vals = doc.get("values")
    if not isinstance(vals, dict):
        return
    for k, v in vals.items():
        if isinstance(v, list) and rng.random() < 0.6:
            vals[k] = [_num(rng) if rng.random() < 0.5 else x for x in v]
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and rng.random() < 0.5:
            vals[k] = _num(rng)


def m_graft(rng, doc):
    """A table of another example put into this one ([data] into a values spec, [hand] from elsewhere...)."""
    name, other = rng.choice(bases())
    keys = [k for k, v in other.items() if isinstance(v, dict)]
    if keys:
        k = rng.choice(keys)
        doc[k] = copy.deepcopy(other[k])


def m_valid_random(rng, doc):
    """A fresh, mostly valid small network (so the later stages run), values from a wide distribution."""
    doc.clear()
    layers = [rng.randint(1, 4) for _ in range(rng.randint(2, 4))]
    out = rng.choice(ACT_NAMES)
    acts = [rng.choice(["identity", "sigmoid", "tanh", "relu"]) for _ in layers[2:]] + [out]
    loss = rng.choice(LOSS_NAMES)
    scheme = rng.choice(["per_neuron", "shared", "none"])
    notation = rng.choice(["net-out", "z-h-o", "seven"])
    w, b = _counts(layers, scheme)
    num = (lambda: round(rng.uniform(-2, 2), 3)) if rng.random() < 0.7 else (lambda: _num(rng))
    targets = [rng.choice([0.0, 1.0, round(rng.random(), 2)]) for _ in range(layers[-1])]
    doc["title"] = rng.choice(["random", "", rng.choice(INJECTIONS)])
    doc["network"] = {"layers": layers, "activations": acts, "loss": loss, "bias": scheme,
                      "train_biases": rng.random() < 0.8, "notation": notation,
                      "error_letter": rng.choice(["E", "E", "F"])}
    doc["values"] = {"inputs": [num() for _ in range(layers[0])], "targets": targets,
                     "weights": [num() for _ in range(w)], "learning_rate": rng.choice([0.5, 0.01, 1.0, _num(rng)])}
    if b:
        doc["values"]["biases"] = [num() for _ in range(b)]
    if rng.random() < 0.6:
        doc["hand"] = {rng.choice(HAND_KEYS): rng.choice(["0.5", "0.593", "-3", "7", "0.0259", rng.choice(HAND_STRINGS)])
                       for _ in range(rng.randint(1, 6))}
    if rng.random() < 0.3:
        doc["train"] = {"epochs": rng.choice([1, 5, 100])}


# --- text-level families (applied to the emitted TOML) --------------------------------------

def t_duplicate_line(rng, text):
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return "\n".join(lines) + "\n"


def t_truncate(rng, text):
    return text[: rng.randrange(len(text) + 1)]


def t_garbage(rng, text):
    i = rng.randrange(len(text) + 1)
    junk = rng.choice(["\x00", "\ufeff", "\x7f", "\x1b[31m", "=", "[", "]]", "\"", "'''", "\\", "\r", "\u2028",
                       "é", "[[network]]", "[network]\n", "a = 1\n", "\n[network]\nlayers = 1\n"])
    return text[:i] + junk + text[i:]


def t_deep_nesting(rng, text):
    n = rng.choice([50, 500, 999, 5000, 100_000])
    inline = rng.random() < 0.5
    value = ("{a = " * n + "1" + "}" * n) if inline else ("[" * n + "]" * n)
    return f"deep = {value}\n" + text


def t_huge_int_literal(rng, text):
    nums = list(re.finditer(r"(?<![\w.\"])-?\d+(\.\d+)?(?![\w\"])", text))
    lit = rng.choice(["9" * 5000, "1" + "0" * 4300, "1" + "0" * 400 + ".0", "0x" + "f" * 2000, "1" * 20000 + ".5",
                      "1e" + "9" * 5000, "9_223_372_036_854_775_808"])
    if not nums:
        return text + f"\nx = {lit}\n"
    m = rng.choice(nums)
    return text[: m.start()] + lit + text[m.end():]


def t_crlf_comment(rng, text):
    if rng.random() < 0.5:
        return text.replace("\n", "\r\n")
    return "# " + "x" * rng.choice([10, 1_000_000]) + "\n" + text


def t_delete_char(rng, text):
    if not text:
        return text
    for _ in range(rng.choice([1, 3])):
        i = rng.randrange(len(text))
        text = text[:i] + text[i + 1:]
    return text


FAMILIES = {  # name: (function, weight)
    "delete_key": (m_delete_key, 8), "rename_key": (m_rename_key, 6), "duplicate_key": (m_duplicate_key, 3),
    "wrong_type": (m_wrong_type, 8), "nest_array": (m_nest_array, 4), "list_length": (m_list_length, 6),
    "resize_layers": (m_resize_layers, 8), "limit_number": (m_limit_number, 10), "hand_string": (m_hand_string, 8),
    "huge_layers": (m_huge_layers, 2), "injection": (m_injection, 6), "combo": (m_combo, 8),
    "fit_tables": (m_fit_tables, 6), "train_table": (m_train_table, 3), "values": (m_values, 8),
    "graft": (m_graft, 2), "valid_random": (m_valid_random, 10), "title": (m_title, 4), "batch": (m_batch, 4),
}
TEXT_FAMILIES = {
    "t_duplicate_line": (t_duplicate_line, 2), "t_truncate": (t_truncate, 1), "t_garbage": (t_garbage, 2),
    "t_deep_nesting": (t_deep_nesting, 1), "t_huge_int": (t_huge_int_literal, 1), "t_crlf_comment": (t_crlf_comment, 1),
    "t_delete_char": (t_delete_char, 1),
}
BIG = {"huge_layers", "t_deep_nesting"}     # families that may make cases slow or large
GENTLE = {"values": 4, "combo": 3, "hand_string": 3, "resize_layers": 2, "valid_random": 4, "train_table": 1,
          "fit_tables": 2, "limit_number": 1, "title": 2, "batch": 2}   # mutations that mostly keep a spec valid, so later stages run


def make_case(seed: int, index: int, *, small: bool = False, fit_only: bool = False, max_mutations: int = 3,
              only: tuple[str, ...] = ()):
    """Case `index` of the stream `seed`: (name, toml_text, families). Depends on (seed, index) only.
    only: draw the base from these worked examples (by stem)."""
    rng = random.Random(f"derive-fuzz/{seed}/{index}")
    pool = tuple(b for b in bases() if b[0] in only) if only else _fit_bases() if fit_only else bases()
    if not fit_only and not only and rng.random() < 0.2:
        pool = _fit_bases()
    base_name, base = rng.choice(pool)
    doc = copy.deepcopy(base)
    names = list(FAMILIES) + list(TEXT_FAMILIES)
    weights = [FAMILIES[n][1] for n in FAMILIES] + [TEXT_FAMILIES[n][1] for n in TEXT_FAMILIES]
    if rng.random() < 0.35:
        weights = [GENTLE.get(n, 0) for n in names]
    if small:
        weights = [0 if n in BIG else w for n, w in zip(names, weights)]
    k = rng.choice([0, 1, 1, 1, 2, 2, 3][: max_mutations * 2 + 1] if max_mutations else [0])
    chosen = rng.choices(names, weights, k=k)
    if fit_only and "valid_random" in chosen:
        chosen.remove("valid_random")
    if "valid_random" in chosen:        # a fresh network first, then the other mutations on it
        chosen.remove("valid_random")
        chosen.insert(0, "valid_random")
        base_name = "random"
    for fam in chosen:
        if fam in FAMILIES:
            FAMILIES[fam][0](rng, doc)
    text = emit(doc)
    if len(text) < 200_000 and not roundtrips(doc):
        raise AssertionError(f"fuzz emitter: case {index} does not round-trip through tomllib")
    for fam in chosen:
        if fam in TEXT_FAMILIES:
            text = TEXT_FAMILIES[fam][0](rng, text)
    if small and len(text) > 100_000:
        text = emit(copy.deepcopy(base))
        chosen = ["(too big for small: base)"]
    fams = "+".join(chosen) or "base"
    return f"c{index:05d}-{base_name}-{fams}", text, chosen


def cases(seed: int = 0, n: int = 10_000, *, small: bool = False):
    """Yield (name, toml_text) for n mutated specs, reproducibly from seed. small: no huge layers, deep
    nesting or megabyte texts (for a quick pytest subset)."""
    for i in range(n):
        name, text, _ = make_case(seed, i, small=small)
        yield name, text


# ============================================================================ the library child

def _pkg_root() -> Path:
    import derive
    return Path(derive.__file__).resolve().parent


def _rel(filename: str) -> str:
    """A frame's file as derive/… (stable across the src/derive → derive move), else the tail of its path."""
    try:
        return "derive/" + str(Path(filename).resolve().relative_to(_pkg_root()))
    except (ValueError, OSError):
        parts = Path(filename).parts
        for marker in ("site-packages", "lib"):
            if marker in parts:
                return "/".join(parts[parts.index(marker) + 1:])
        return "/".join(parts[-2:])


def _locations(tb_frames) -> tuple[str, str]:
    """(innermost derive frame, innermost frame) as 'file:line (func)'."""
    inner = derive_inner = ""
    for fs in tb_frames:
        where = f"{_rel(fs.filename)}:{fs.lineno} ({fs.name})"
        inner = where
        if _rel(fs.filename).startswith("derive/"):
            derive_inner = where
    return derive_inner, inner


def _gradient_fn(kind, net):
    """The user function check_gradients calls (code of this script, never generated)."""
    if kind == "right":
        return lambda params: dict(net.gradients())
    if kind == "zero":
        return lambda params: {k: 0.0 for k in net.trained}
    if kind == "nan":
        return lambda params: {k: math.nan for k in net.trained}
    if kind == "string":
        return lambda params: "not a dict"
    return lambda params: 1 / 0


def _documents(net):
    """The notes' LaTeX and Markdown documents of a net (the renderer, where this version has one)."""
    import importlib
    try:
        latex = importlib.import_module("derive.render.latex")
    except ImportError:
        return None
    return latex.tex(net), latex.markdown(net)


def library_stages(path: str, text: str, rng: random.Random, epochs: int):
    """(stage, thunk, loading, call) in order; `call` is the Python that reproduces the stage (after
    `import derive`; net = derive.load(SPEC) or fit = derive.load_fit_spec(SPEC)). A clean error at a
    loading stage ends the case; "expect-error" stages should refuse the spec cleanly."""
    import derive
    try:
        data = tomllib.loads(text)
    except Exception:
        data = None
    is_fit = isinstance(data, dict) and "data" in data
    state: dict = {}
    if is_fit:
        yield "load_fit_spec", lambda: state.__setitem__("fit", derive.load_fit_spec(path)), True, \
            "fit = derive.load_fit_spec(SPEC)"
        yield "load(fit spec)", lambda: derive.load(path), "expect-error", "derive.load(SPEC)"
        e = min(epochs, 2)
        yield "run_fit", lambda: derive.run_fit(state["fit"], epochs=e), False, f"derive.run_fit(fit, epochs={e})"
        return
    yield "load", lambda: state.__setitem__("net", derive.load(path)), True, "net = derive.load(SPEC)"
    yield "load_fit_spec(values spec)", lambda: derive.load_fit_spec(path), "expect-error", "derive.load_fit_spec(SPEC)"
    net = lambda: state["net"]
    yield "repr/params", lambda: (repr(net()), net().params, net().trained, net().param_values()), False, \
        "repr(net), net.params, net.trained, net.param_values()"
    yield "gradients", lambda: net().gradients(), False, "net.gradients()"
    yield "loss/values/updated", lambda: (net().loss(), net().values(), net().updated()), False, \
        "net.loss(), net.values(), net.updated()"
    yield "check_hand", lambda: net().check_hand(), False, "net.check_hand()"

    def derivation():
        params = net().params
        for p in dict.fromkeys([params[0], params[-1]]) if params else ():
            d = net().derivation(p)   # the paths counted first: listing 2^24 of them is the caller's choice
            d.paths if d.path_count <= 4096 else d.first_paths(256), d.delta_form, d.name, d.total
    yield "derivation", derivation, False, "[(d.path_count, d.first_paths(256), d.delta_form) for d in " \
        "(net.derivation(net.params[0]), net.derivation(net.params[-1]))]"
    if rng.random() < 0.25:
        yield "documents(tex, markdown)", lambda: _documents(net()), False, \
            "import derive.render.latex as L; L.tex(net), L.markdown(net)"
    dtype, rich = rng.choice(["float64", "float32"]), rng.random() < 0.3
    yield "check_numeric", lambda: derive.check_numeric(net(), dtype=dtype, richardson=rich), False, \
        f"derive.check_numeric(net, dtype={dtype!r}, richardson={rich})"
    kind, points = rng.choice(["right", "zero", "nan", "string", "raise"]), rng.choice([0, 1, 3])
    fn_src = {"right": "lambda p: net.gradients()", "zero": "lambda p: {k: 0.0 for k in net.trained}",
              "nan": "lambda p: {k: float('nan') for k in net.trained}", "string": "lambda p: 'not a dict'",
              "raise": "lambda p: 1 / 0"}[kind]
    yield f"check_gradients({kind})", lambda: derive.check_gradients(net(), _gradient_fn(kind, net()), points=points), \
        False, f"derive.check_gradients(net, {fn_src}, points={points})"
    opts = rng.choice([{}, {"dtype": "float32"}, {"print_every": 1}, {"stop_below": 1e-3},
                       {"loss": rng.choice(LOSS_NAMES)}, {"lr": rng.choice([0.5, 1e308, -1.0])}])
    call = ", ".join([f"epochs={epochs}"] + [f"{k}={v!r}" for k, v in opts.items()])
    yield f"train({','.join(opts) or 'epochs'})", lambda: net().train(epochs=epochs, out=io.StringIO(), **opts), \
        False, f"net.train({call}, out=io.StringIO())"
    if isinstance(data, dict) and isinstance(data.get("network"), dict) and isinstance(data.get("values"), dict) \
            and rng.random() < 0.3:
        n, v = data["network"], data["values"]

        def python_api():
            kw = {k: n[k] for k in ("loss", "bias", "train_biases", "notation", "error_letter") if k in n}
            kw.update({k: v[k] for k in ("biases", "learning_rate") if k in v})
            derive.network(n.get("layers", []), n.get("activations", []), inputs=v.get("inputs", []),
                           targets=v.get("targets", []), weights=v.get("weights", []),
                           hand=data.get("hand") if isinstance(data.get("hand"), dict) else None,
                           title=data.get("title", ""), **kw).gradients()
        yield "network()", python_api, False, "derive.network(**the spec's keys).gradients()"


def _child_main(path: str, text: str, index: int, seed: int, result_path: str, log_path: str, mem_bytes: int,
                timeout: float, epochs: int) -> None:
    """Runs in the forked child: limits, then every stage, one JSON line per event into result_path."""
    import faulthandler
    os.setpgid(0, 0)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0), os.dup2(log, 1), os.dup2(log, 2)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
    sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", buffering=0), write_through=True)
    out = os.open(result_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    emit_line = lambda obj: os.write(out, (json.dumps(obj, default=str) + "\n").encode())
    resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (512 << 20, 512 << 20))
    faulthandler.dump_traceback_later(max(1.0, timeout - 1.5), exit=False, file=sys.stderr)
    rng = random.Random(f"derive-fuzz-stages/{seed}/{index}")
    stages = library_stages(path, text, rng, epochs)
    while True:
        try:
            stage, thunk, loading, call = next(stages)
        except StopIteration:
            break
        emit_line({"start": stage, "call": call})
        t0 = time.perf_counter()
        rec = {"stage": stage, "call": call}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                thunk()
                rec["outcome"] = "ok"
            except BaseException as exc:          # noqa: BLE001 -- classifying is the point
                import derive
                if isinstance(exc, derive.DeriveError):
                    rec["outcome"] = "error"
                elif isinstance(exc, MemoryError):
                    rec["outcome"] = "MEMORY"
                else:
                    rec["outcome"] = "ESCAPE"
                try:
                    msg = str(exc)
                except BaseException as e2:      # noqa: BLE001
                    msg = f"<str() failed: {type(e2).__name__}: {e2}>"
                rec.update(type=type(exc).__name__, msg=msg[:400], msg_len=len(msg))
                if rec["outcome"] != "error":
                    frames = traceback.extract_tb(exc.__traceback__)
                    rec["derive_at"], rec["at"] = _locations(frames)
                    rec["tb"] = "".join(traceback.format_exception(exc))[-3000:]
        if loading == "expect-error" and rec["outcome"] == "error":
            rec["outcome"] = "ok"                 # a clean refusal is what this stage wants
        rec["secs"] = round(time.perf_counter() - t0, 4)
        if caught:
            rec["warnings"] = sorted({f"{stage}: {w.category.__name__}: {str(w.message)[:120]}"
                                      for w in caught})[:5]   # the stage, to trace it
        emit_line(rec)
        if loading is True and rec["outcome"] != "ok":
            break
    faulthandler.cancel_dump_traceback_later()
    emit_line({"done": True})


# ============================================================================ process pool (fork / Popen, killable)

class Pool:
    """At most `jobs` children at once; each is killed (its process group) after `timeout` seconds."""

    def __init__(self, jobs: int, timeout: float):
        self.jobs, self.timeout, self.running = jobs, timeout, {}

    def run(self, tasks, on_done):
        tasks = iter(tasks)
        exhausted = False
        try:
            while True:
                while not exhausted and len(self.running) < self.jobs:
                    task = next(tasks, None)
                    if task is None:
                        exhausted = True
                        break
                    pid = task.launch()
                    self.running[pid] = [task, time.monotonic(), False]
                if not self.running:
                    return
                reaped = False
                for pid in list(self.running):
                    got, status, ru = os.wait4(pid, os.WNOHANG)
                    if got:
                        task, start, killed = self.running.pop(pid)
                        on_done(task.finish(status, ru, time.monotonic() - start, bool(killed)))
                        reaped = True
                    else:
                        task, start, killed = self.running[pid]
                        late = time.monotonic() - start - self.timeout
                        soft = getattr(task, "soft_kill", None)     # e.g. SIGABRT: faulthandler dumps the stack
                        try:
                            if late > 0 and not killed and soft:
                                self.running[pid][2] = "soft"
                                os.kill(pid, soft)
                            elif late > 0 and not killed or killed == "soft" and late > 2.0:
                                self.running[pid][2] = True
                                os.killpg(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                if not reaped:
                    time.sleep(0.01)
        finally:
            for pid in list(self.running):
                try:
                    os.killpg(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass


def _signal_name(status: int) -> str:
    try:
        return signal.Signals(os.WTERMSIG(status)).name
    except ValueError:
        return f"signal {os.WTERMSIG(status)}"


def _hang_location(log_text: str) -> tuple[str, str]:
    """From a faulthandler dump (most recent call first): (innermost derive frame, innermost frame)."""
    frames = re.findall(r'File "([^"]+)", line (\d+) in (\S+)', log_text.split("most recent call first")[-1])
    inner = f"{_rel(frames[0][0])}:{frames[0][1]} ({frames[0][2]})" if frames else ""
    for f, line, fn in frames:
        if _rel(f).startswith("derive/"):
            return f"{_rel(f)}:{line} ({fn})", inner
    return "", inner


def _cpu(ru) -> float:
    """A child's CPU seconds: far below the wall-time limit, a 'hang' was a starved machine, not derive."""
    return ru.ru_utime + ru.ru_stime


class LibraryTask:
    def __init__(self, name, text, index, cfg, slot_dir: Path, families):
        self.name, self.text, self.index, self.cfg, self.families = name, text, index, cfg, families
        self.dir = slot_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.spec = self.dir / "case.toml"
        self.result = self.dir / "result.jsonl"
        self.log = self.dir / "log.txt"

    def launch(self) -> int:
        self.spec.write_text(self.text, encoding="utf-8")
        sys.stdout.flush(), sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _child_main(str(self.spec), self.text, self.index, self.cfg.seed, str(self.result), str(self.log),
                            self.cfg.mem_mb << 20, self.cfg.timeout, self.cfg.epochs)
            except BaseException:                  # noqa: BLE001
                code = 3
                try:
                    with open(self.result, "a") as f:
                        f.write(json.dumps({"harness": traceback.format_exc()[-2000:]}) + "\n")
                except BaseException:              # noqa: BLE001
                    pass
            os._exit(code)
        return pid

    def finish(self, status, ru, secs, killed) -> dict:
        events = []
        for line in self.result.read_text(encoding="utf-8", errors="replace").splitlines() if self.result.exists() else []:
            try:
                events.append(json.loads(line))
            except ValueError:
                pass
        log = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        stages = [e for e in events if "outcome" in e]
        started = [e["start"] for e in events if "start" in e]
        calls = [e["call"] for e in events if "start" in e]
        last = started[-1] if started else "(startup)"
        rec = {"name": self.name, "kind": "library", "index": self.index, "families": self.families, "secs": round(secs, 3),
               "maxrss_kb": ru.ru_maxrss, "cpu_s": round(_cpu(ru), 2), "bytes": len(self.text), "stages": stages}
        done = any(e.get("done") for e in events)
        worst = max(stages, key=lambda e: SEVERITY[e["outcome"]], default=None)
        if killed:
            rec.update(cls="HANG", stage=last)
            rec["derive_at"], rec["at"] = _hang_location(log)
            rec["type"], rec["msg"] = "HANG", f"over {self.cfg.timeout:g} s in {last} ({_cpu(ru):.1f} s of CPU)"
        elif os.WIFSIGNALED(status):
            sig = _signal_name(status)
            rec.update(cls="MEMORY" if sig in ("SIGKILL", "SIGXFSZ") else "ESCAPE", stage=last,
                       type=sig, msg=f"child killed by {sig} in {last}", derive_at="", at="")
        elif not done:
            harness = next((e["harness"] for e in events if "harness" in e), "")
            rec.update(cls="ESCAPE", stage=last, type="no-report", derive_at="", at="",
                       msg=f"child exited {os.WEXITSTATUS(status)} without finishing (in {last}) {harness[-300:]}")
        elif worst is None:
            rec.update(cls="ok", stage="")
        else:
            rec["cls"] = worst["outcome"]
            rec["stage"] = worst["stage"]
            for k in ("type", "msg", "derive_at", "at", "tb"):
                if k in worst:
                    rec[k] = worst[k]
        upto = started.index(rec["stage"]) + 1 if rec.get("stage") in started else len(calls)
        rec["call"] = calls[:1] + calls[upto - 1:upto] if upto > 1 else calls[:1]
        rec["error_msg_len"] = max((e.get("msg_len", 0) for e in stages), default=0)
        rec["warnings"] = sorted({w for e in stages for w in e.get("warnings", [])})
        if killed:
            rec["tb"] = log[-3000:]
        for f in (self.result, self.log):
            try:
                f.unlink()
            except FileNotFoundError:
                pass
        return rec


# ============================================================================ CLI sample

CLI_COMMANDS = ["gradients", "gradients --json", "chain", "train", "sweep", "check", "check --json",
                "check --numeric --json", "check-code", "latex", "notes", "fit", "exercise", "grade", "notes --pdf"]

# --- output files: every kind of target a user (or an attacker) can name -----------------------------
OUTPUT_KINDS = ["new", "new", "new", "exists", "exists+force", "symlink", "symlink+force", "dir+force", "under_file",
                "missing_dir", "odd_name", "odd_name", "too_long", "link_loop"]
ODD_NAMES = ["$\\undefinedmacro$", "-o", "--force", "-shell-escape", "a b", "%x", "#1", "a\\b", "é", "{x}", "~",
             "a\nb", "x" * 200, ".hidden", "&", "_"]
SENTINEL = b"a file the user keeps\n"


def _output(rng, tmp: Path, option: str, suffix: str, expect: list, kind: str | None = None) -> list[str]:
    """argv for one output file (`option` PATH), the target prepared in the slot folder `tmp`; what must
    hold afterwards goes into `expect` (checked by CliTask.finish)."""
    kind = kind or rng.choice(OUTPUT_KINDS)
    name = (rng.choice(ODD_NAMES) if kind == "odd_name" else "out") + suffix
    rel = name
    if kind.startswith("exists"):
        (tmp / name).write_bytes(SENTINEL)
    elif kind.startswith("symlink"):
        (tmp / name).symlink_to(tmp / "case.toml")
    elif kind.startswith("dir"):
        (tmp / name).mkdir()
    elif kind == "under_file":
        (tmp / "afile").write_text("")
        rel = f"afile/{name}"
    elif kind == "missing_dir":
        rel = f"missing/{name}"
    elif kind == "too_long":
        rel = rng.choice(["x" * 300 + suffix, "d/" * 3000 + name])
    elif kind == "link_loop":
        (tmp / "loop1").symlink_to("loop2")
        (tmp / "loop2").symlink_to("loop1")
        rel = f"loop1/{name}"
    expect.append({"kind": kind, "path": rel, "option": option})
    argv = [f"{option}={rel}"] if rel.startswith("-") else [option, rel]
    return argv + (["--force"] if kind.endswith("force") else [])


GRADE_KEY: dict = {}     # the key.json grade's cases mutate (made once per campaign by derive exercise)


def _grade_key(work: Path) -> dict:
    """key.json of a 3-student exercise on Mazur's net, made once by the CLI itself."""
    if not GRADE_KEY:
        import subprocess
        out = work / "grade-key"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(_pkg_root().parent), os.environ.get("PYTHONPATH", "")]))
        subprocess.run([sys.executable, "-m", "derive", "exercise", str(EXAMPLES / "mazur_2_2_2.toml"), "--students",
                        "3", "--seed", "1", "-o", str(out), "--no-pdf", "--force"], env=env, check=True,
                       capture_output=True)
        GRADE_KEY.update(json.loads((out / "key.json").read_text()))
    return copy.deepcopy(GRADE_KEY)


def grade_case(rng, work: Path) -> tuple[str, str, list[str]]:
    """(key.json text, answers.csv text, families) for `derive grade`: a key (mutated at times) and rows
    of answers: right, rounded, wrong, odd numerals, unknown students and keys, ragged rows, huge cells."""
    key = _grade_key(work)
    fams = []
    if rng.random() < 0.3:
        fams.append("key")
        for _ in range(rng.choice([1, 1, 2])):
            ps = _paths(key)
            if not ps:
                break
            p = rng.choice(ps)
            if rng.random() < 0.3 and isinstance(p[-1], str):
                del _parent(key, p)[p[-1]]
            else:
                _set(key, p, rng.choice([_weird_value(rng), _num(rng)]))
    students = key.get("students") if isinstance(key.get("students"), list) else []
    rows = [["student", "key", "answer"]] if rng.random() < 0.7 else []
    for st in students:
        answers = st.get("answers", {}) if isinstance(st, dict) and isinstance(st.get("answers"), dict) else {}
        for k, v in answers.items():
            r = rng.random()
            value = (f"{v:.4f}" if isinstance(v, float) and math.isfinite(v) else str(v)) if r < 0.6 else \
                rng.choice(HAND_STRINGS + INJECTIONS) if r < 0.85 else f"{_num(rng)}"
            rows.append([str(st.get("id", "")), k, value])
    for _ in range(rng.choice([0, 0, 1, 3])):
        fams.append("odd-row")
        rows.insert(rng.randrange(len(rows) + 1), rng.choice([[], ["01"], ["01", "net_h1"], ["99", "net_h1", "0.5"],
                                                               ["01", rng.choice(HAND_KEYS), "0.5"],
                                                               ["01", "net_h1", "0.5", "extra"],
                                                               [rng.choice(INJECTIONS), "net_h1", "1"],
                                                               ["01", "net_h1", "9" * 100_000]]))
    text = "\n".join(",".join(_csv_cell(c) for c in row) for row in rows) + "\n"
    if rng.random() < 0.05:
        text = "\ufeff" + text.replace("\n", "\r\n")
    return json.dumps(key, indent=1, default=str), text, fams or ["answers"]


def _csv_cell(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n\r') else cell
_PARAMS = ["w1", "w2", "b1", "w5", "b3", "w999", "out_h1", "net_o1", "-o", "", "--json", "W1", "w0", "b0",
           "$\\undefinedmacro$", "w1 ", "<script>", "ｗ１", "E_total", "w" + "9" * 5000]


CODE_TARGETS = {"mazur_2_2_2": ["notes_000_neural_network_fixed.py:gradients", "notes_000_neural_network.py:gradients"],
                "dual_layer_2_2_1": ["notes_001_dual_layer.py:gradients"],
                "multiclass_2_2_3": ["notes_001_multiclass.py:gradients"]}


def _cli_argv(cmd: str, rng: random.Random, spec: str, tmp: Path, fit_specs: list[str], name: str = "",
              expect: list | None = None) -> list[str]:
    expect = [] if expect is None else expect
    weird = rng.random() < 0.35
    pick = lambda normal, odd: rng.choice(odd) if weird and rng.random() < 0.5 else normal
    if cmd.startswith("gradients"):
        return cmd.split() + [spec]
    if cmd == "chain":
        return ["chain", spec, pick(rng.choice(["w1", "w1", "b1", "w5"]), _PARAMS)] + \
            (["--json"] if rng.random() < 0.5 else []) + (["--prove"] if rng.random() < 0.3 else [])
    if cmd == "train":
        argv = ["train", spec]
        if rng.random() < 0.85:
            argv += ["--epochs", pick("3", ["0", "-1", "10000000000000", "1e3", "3.5"])]
        for opt, vals in [("--lr", ["0.5", "1e308", "-1", "nan", "inf", "0"]), ("--stop-below", ["1e-3", "nan", "-1"]),
                          ("--dtype", ["float32", "float64"]), ("--loss", LOSS_NAMES + ["softmax", ""]),
                          ("--print-every", ["1", "0", "100000000000000000000"])]:
            if rng.random() < 0.2:
                argv += [opt, rng.choice(vals)]
        if rng.random() < 0.25:
            argv += _output(rng, tmp, "--plot", ".png", expect)
        if rng.random() < 0.05:
            argv += ["--backend", "numba"]
        return argv + (["--json"] if rng.random() < 0.5 else [])
    if cmd == "sweep":
        argv = ["sweep", spec, "--epochs", pick("3", ["0", "-1", "100000000000"])]
        if rng.random() < 0.5:
            argv += ["--lr", pick(rng.choice(["0.1,0.01", "0.001:0.1:5"]),
                                  ["1:2:0", "::", "1e308:1e309:3", "0.1:0.2:1000000000", "a,b", ",", "nan,inf",
                                   "0.1:0.2:-3", "0.1"])]
        else:
            argv += ["--copies", pick("3", ["0", "-1", "1000000000", "100000"])]
            if rng.random() < 0.3:
                argv += ["--scale", rng.choice(["1e308", "0", "-1", "nan"]), "--seed", rng.choice(["0", "-1", "2" * 30])]
        if rng.random() < 0.2:
            argv += ["--stop-below", rng.choice(["1e-3", "nan"])]
        if rng.random() < 0.25:
            argv += _output(rng, tmp, "--plot", ".png", expect)
        return argv + (["--json"] if rng.random() < 0.5 else [])
    if cmd.startswith("check") and cmd != "check-code":
        argv = cmd.split() + [spec]
        if "--numeric" in argv:
            argv += (["--richardson"] if rng.random() < 0.3 else []) + \
                (["--dtype", "float32"] if rng.random() < 0.3 else [])
        return argv
    if cmd == "check-code":
        stem = next((s for s in CODE_TARGETS if s in name), None)
        target = rng.choice(CODE_TARGETS[stem] if stem and rng.random() < 0.9 else sum(CODE_TARGETS.values(), []))
        argv = ["check-code", spec, str(EXAMPLES / target)]
        if rng.random() < 0.4:
            argv += ["--points", pick("2", ["0", "-1", "100000000", "x"])]
        if rng.random() < 0.2:
            argv += ["--rtol", rng.choice(["1e-6", "nan", "-1", "inf"])]
        return argv + (["--json"] if rng.random() < 0.6 else [])
    if cmd == "latex":
        argv = ["latex", spec]
        if rng.random() < 0.4:
            argv.append(pick("w1", _PARAMS))
        if rng.random() < 0.3:
            argv += ["--steps", pick("chain,closed", ["", ",", "nope", "chain,chain", "numbers,update,x"])]
        if rng.random() < 0.3:
            argv += ["--digits", pick("5", ["0", "-1", "1000000", "100000000000000", "17"])]
        for flag in ("--markdown", "--sheet"):
            if rng.random() < 0.2:
                argv.append(flag)
        if rng.random() < 0.2:
            argv += ["--error-letter", "F"]
        return argv
    if cmd.startswith("notes"):
        pdf = "--pdf" in cmd
        suffix = ".tex" if pdf else rng.choice([".tex", ".md", ".tex", ".md", ".txt", ""])
        argv = ["notes", spec] + _output(rng, tmp, "-o", suffix, expect) + (["--pdf"] if pdf else [])
        if rng.random() < 0.2:
            argv += ["--digits", pick("4", ["0", "-1", "1000000"])]
        if rng.random() < 0.1:
            argv.append("--full")
        return argv
    if cmd == "exercise":
        argv = ["exercise", spec, "--students", pick(rng.choice(["1", "2", "3"]), ["0", "501", "-1", "10" * 20]),
                "--seed", pick(str(rng.randrange(100)), ["-1", "9" * 40]), "-o", "sheets"]
        kind = rng.choice(["new", "new", "exists", "exists+force", "file", "under_file"])
        if kind.startswith("exists"):
            (tmp / "sheets").mkdir()
            (tmp / "sheets" / "key.json").write_bytes(SENTINEL)
            expect.append({"kind": kind, "path": "sheets/key.json", "option": "-o"})
            argv += ["--force"] if kind.endswith("force") else []
        elif kind == "file":
            (tmp / "sheets").write_bytes(SENTINEL)
            expect.append({"kind": "exists", "path": "sheets", "option": "-o"})
        elif kind == "under_file":
            (tmp / "afile").write_text("")
            argv[-1] = "afile/sheets"
        if rng.random() < 0.3:
            argv += ["--digits", pick("4", ["0", "9", "-1"])]
        return argv + (["--no-pdf"] if rng.random() < 0.95 else [])
    if cmd == "grade":
        return ["grade", "key.json", "answers.csv"] + (["--json"] if rng.random() < 0.5 else [])
    if cmd == "fit":
        argv = ["fit", spec] + (rng.sample(fit_specs, 1) if rng.random() < 0.2 else [])
        argv += ["--epochs", pick(rng.choice(["1", "2"]), ["0", "-1", "1000000000000"])]
        if rng.random() < 0.2:
            argv += ["--lr", rng.choice(["0.5", "1e308", "nan", "-1"])]
        if rng.random() < 0.3:
            argv += _output(rng, tmp, "--plot", ".png", expect) + (["--ymax", rng.choice(["0.6", "nan", "-1"])]
                                                                   if rng.random() < 0.5 else [])
        if rng.random() < 0.2:
            argv.append("--latex")
        return argv + (["--json"] if rng.random() < 0.6 else [])
    raise ValueError(cmd)


def _empty(folder: Path) -> None:
    """A slot folder emptied: files, links, folders (a case's outputs and prepared targets)."""
    import shutil
    for p in folder.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink()


def _output_escape(task, rc: int) -> tuple[str, str] | None:
    """(type, message) when a command broke a rule for output files, else None: wrote through a link,
    replaced a file without --force, wrote onto a directory, left temporary files or pdflatex folders."""
    d = task.dir
    if (d / "case.toml").read_text(encoding="utf-8", errors="replace") != task.spec_text:
        return "wrote through a symlink", "case.toml (the link's target) changed"
    for e in task.expect:
        p = d / e["path"]
        if e["kind"] == "exists" and (not p.is_file() or p.read_bytes() != SENTINEL):
            return "overwrote without --force", f"{e['option']} {e['path']}"
        if e["kind"].startswith("symlink") and not p.is_symlink():
            return "replaced a symlink", f"{e['option']} {e['path']}: the link is gone"
        if e["kind"].startswith("symlink") and rc != 2:
            return "accepted a symlink output", f"{e['option']} {e['path']}: exit {rc}, expected a refusal"
        if e["kind"].startswith("dir") and (not p.is_dir() or rc != 2):
            return "accepted a directory as the file", f"{e['option']} {e['path']}: exit {rc}"
    junk = [p for p in d.rglob("*") if p.name.endswith(".tmp") or "pdflatex" in p.name or p.suffix in (".aux", ".log")]
    tmpdir = d / "tmp"
    junk += list(tmpdir.iterdir()) if tmpdir.is_dir() else []
    if junk:
        return "left temporary files", ", ".join(sorted(str(p.relative_to(d)) for p in junk))[:300]
    return None


def _own(stderr: str) -> str:
    """stderr without the user's traceback that derive quotes on purpose (check-code)."""
    return re.sub(r"---- the traceback of your code.*?---- end of your traceback ----", "", stderr, flags=re.S)


def _strict_json(text: str):
    def bad(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=bad)


def _cli_traceback(stderr: str) -> tuple[str, str, str, str]:
    """(type, message, innermost derive frame, innermost frame) of the last traceback in stderr."""
    tb = stderr[stderr.rfind("Traceback (most recent call last)"):]
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', tb)
    lines = [l for l in tb.splitlines() if l and not l.startswith(" ")]
    last = lines[-1] if lines else ""
    typ, _, msg = last.partition(":")
    inner = f"{_rel(frames[-1][0])}:{frames[-1][1]} ({frames[-1][2]})" if frames else ""
    dinner = ""
    for f, line, fn in frames:
        if _rel(f).startswith("derive/"):
            dinner = f"{_rel(f)}:{line} ({fn})"
    return typ.strip().split(".")[-1], msg.strip(), dinner, inner


class CliTask:
    soft_kill = signal.SIGABRT      # on a timeout: PYTHONFAULTHANDLER prints where it hung, then SIGKILL

    def __init__(self, name, text, argv, cmd, cfg, slot_dir: Path, families, expect=()):
        self.name, self.text, self.argv, self.cmd, self.cfg, self.families = name, text, argv, cmd, cfg, families
        self.dir, self.expect = slot_dir, list(expect)
        self.spec_text = (slot_dir / "case.toml").read_text(encoding="utf-8")   # must be unchanged afterwards

    def launch(self) -> int:
        import subprocess
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(_pkg_root().parent)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        env["MPLBACKEND"] = "Agg"
        env["PYTHONFAULTHANDLER"] = "1"
        (self.dir / "tmp").mkdir(exist_ok=True)
        env["TMPDIR"] = str(self.dir / "tmp")       # a scratch folder left behind shows up here
        mem = self.cfg.mem_mb << 20

        def limits():
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
            resource.setrlimit(resource.RLIMIT_FSIZE, (512 << 20, 512 << 20))
        self.out, self.err = open(self.dir / "stdout", "wb"), open(self.dir / "stderr", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "derive", *self.argv], cwd=self.dir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err,
                                     start_new_session=True, preexec_fn=limits)
        return self.proc.pid

    def finish(self, status, ru, secs, killed) -> dict:
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.out.close(), self.err.close()
        stdout = (self.dir / "stdout").read_bytes()
        stderr = (self.dir / "stderr").read_bytes().decode("utf-8", errors="replace")
        rc = self.proc.returncode
        rec = {"name": self.name, "kind": "cli", "cmd": self.cmd, "argv": ["derive"] + self.argv, "rc": rc,
               "cpu_s": round(_cpu(ru), 2),
               "families": self.families, "secs": round(secs, 3), "maxrss_kb": ru.ru_maxrss, "bytes": len(self.text),
               "stdout_bytes": len(stdout), "stderr_bytes": len(stderr), "stage": self.cmd,
               "stderr_tail": stderr[-1500:]}
        outputs = [p for p in self.dir.iterdir() if p.name not in ("stdout", "stderr", "case.toml", "tmp")]
        rec["files_bytes"] = sum(p.stat().st_size for p in outputs if p.is_file())
        noise = [l for l in stderr.splitlines() if re.search(r"Warning\b|warn\(", l)]
        if noise:
            rec["warnings"] = sorted(set(noise))[:5]
        if killed:
            dat, at = _hang_location(stderr)
            rec.update(cls="HANG", type="HANG", msg=f"over {self.cfg.cli_timeout:g} s ({_cpu(ru):.1f} s of CPU)",
                       derive_at=dat, at=at)
        elif rc < 0:
            sig = _signal_name(status)
            rec.update(cls="MEMORY" if sig in ("SIGKILL", "SIGXFSZ") else "ESCAPE", type=sig,
                       msg=f"killed by {sig}", derive_at="", at="")
        elif "Traceback (most recent call last)" in _own(stderr):
            typ, msg, dat, at = _cli_traceback(_own(stderr))
            rec.update(cls="MEMORY" if typ.endswith("MemoryError") else "ESCAPE", type=typ, msg=msg[:400],
                       derive_at=dat, at=at)
        elif rc not in (0, 1, 2):
            rec.update(cls="ESCAPE", type=f"exit {rc}", msg=stderr.strip()[-300:], derive_at="", at="")
        elif not killed and (broke := _output_escape(self, rc)):
            rec.update(cls="ESCAPE", type=broke[0], msg=broke[1], derive_at="", at="")
        else:
            rec["cls"] = "error" if rc == 2 else "ok"
            if rc == 2 and not re.match(r"(derive( [a-z-]+)?: |usage: )", _own(stderr).lstrip()):   # argparse's: "derive train: error: …"
                rec["warnings"] = rec.get("warnings", []) + [f"exit 2 without a 'derive:' line: {stderr[:120]!r}"]
            if "--json" in self.argv and (rc in (0, 1) or stdout.strip()):
                try:
                    _strict_json(stdout.decode("utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    rec.update(cls="ESCAPE", type="invalid JSON", msg=f"--json stdout (exit {rc}): {exc}"[:300],
                               derive_at="", at="")
        if rec["cls"] in ("ESCAPE", "HANG", "MEMORY"):
            rec["tb"] = stderr[-3000:]
        for p in outputs:
            if p.is_file():
                p.unlink()
        return rec


# ============================================================================ minimizing a reproducer

def _signature(rec) -> tuple:
    return (rec["cls"], rec.get("type", ""), rec.get("derive_at") or rec.get("at", ""))


def minimize(text: str, still_fails, budget_s: float) -> str:
    """Greedy: drop keys, shorten strings and lists while `still_fails(text)` holds; within budget_s."""
    try:
        doc = tomllib.loads(text)
    except Exception:
        return text
    deadline = time.monotonic() + budget_s
    best = emit(doc)
    if not still_fails(best):
        return text
    changed = True
    while changed and time.monotonic() < deadline:
        changed = False
        for p in sorted(_paths(doc), key=len):
            if time.monotonic() > deadline:
                break
            try:
                parent = _parent(doc, p)
                old = parent[p[-1]]
            except (KeyError, IndexError, TypeError):
                continue
            trials = []
            if isinstance(p[-1], str):
                trials.append(None)                         # delete the key
            if isinstance(old, str) and len(old) > 20:
                trials += [old[:20], old[:2000]]
            if isinstance(old, list) and len(old) > 1:
                trials += [old[:1], old[: len(old) // 2]]
            for t in trials:
                trial = copy.deepcopy(doc)
                tp = _parent(trial, p)
                if t is None:
                    del tp[p[-1]]
                else:
                    tp[p[-1]] = t
                candidate = emit(trial)
                if len(candidate) < len(best) and still_fails(candidate):
                    doc, best, changed = trial, candidate, True
                    break
    return best


# ============================================================================ campaign

def classify(text: str, *, index: int = 0, seed: int = 0, timeout: float = 20.0, mem_mb: int = 2048, epochs: int = 3,
             workdir: str | Path | None = None) -> dict:
    """One spec text through every library stage in a forked, limited child: the record, with rec["cls"]
    one of CLASSES (for a pytest over `cases(seed, n, small=True)`)."""
    import tempfile
    cfg = argparse.Namespace(seed=seed, timeout=timeout, mem_mb=mem_mb, epochs=epochs)
    with tempfile.TemporaryDirectory() as tmp:
        return _run_one_library(text, cfg, Path(workdir or tmp), index, "classify")


def _run_one_library(text, cfg, workdir: Path, index=0, name="min") -> dict:
    out = []
    Pool(1, cfg.timeout).run([LibraryTask(name, text, index, cfg, workdir / "min", [])], out.append)
    return out[0]


def run_campaign(cfg) -> dict:
    outdir = Path(cfg.out_dir).resolve()     # children run in their slot folders: absolute paths
    outdir.mkdir(parents=True, exist_ok=True)
    work = outdir / "work"
    work.mkdir(exist_ok=True)
    import derive                                # the parent imports once; each fork starts from here
    started = time.monotonic()
    records: list[dict] = []
    texts: dict[str, str] = {}
    slots = [work / f"slot{i}" for i in range(cfg.jobs)]
    free = list(slots)

    current: dict[str, str] = {}     # texts of the cases in flight (kept when they fail)
    slot_of: dict[str, Path] = {}

    def done(rec):
        records.append(rec)
        text = current.pop(rec["name"], "")
        if rec["cls"] in ("ESCAPE", "HANG", "MEMORY"):
            texts[rec["name"]] = text
        n = len(records)
        if n % 500 == 0:          # a checkpoint: the figures so far survive a campaign that is killed
            Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
            Path(cfg.out + ".partial").write_text(json.dumps({"cases": [
                {k: r.get(k) for k in ("name", "kind", "cls", "stage", "type", "secs", "maxrss_kb")} for r in records]}))
        if n % 100 == 0 or rec["cls"] in ("ESCAPE", "HANG", "MEMORY"):
            counts = {c: sum(r["cls"] == c for r in records) for c in CLASSES}
            extra = f"  {rec['cls']} {rec['name'][:60]} {rec.get('type', '')} @ {rec.get('stage', '')}" \
                if rec["cls"] in ("ESCAPE", "HANG", "MEMORY") else ""
            print(f"[{time.monotonic() - started:7.1f}s] {n:5d} {counts}{extra}", flush=True)

    def out_of_time() -> bool:
        return cfg.budget_min is not None and time.monotonic() - started > 60 * cfg.budget_min

    def lib_gen():
        for i in range(cfg.cases):
            if out_of_time():
                print(f"budget of {cfg.budget_min:g} min spent: the library part stops after {i} cases", flush=True)
                break
            name, text, fams = make_case(cfg.seed, i)
            assert free, "a slot is freed before the pool asks for the next task"
            task = LibraryTask(name, text, i, cfg, free.pop(), fams)
            current[name], slot_of[name] = text, task.dir
            yield task

    def lib_done(rec):
        free.append(slot_of.pop(rec["name"]))
        done(rec)

    pool = Pool(cfg.jobs, cfg.timeout)
    print(f"library: {cfg.cases} cases, seed {cfg.seed}, {cfg.jobs} jobs, {cfg.timeout:g} s / {cfg.mem_mb} MB "
          f"per case, derive from {_pkg_root()}", flush=True)
    pool.run(lib_gen(), lib_done)
    lib_secs = time.monotonic() - started

    # --- CLI: stratified over the commands (and the mutation families, through the case stream)
    cli_start = time.monotonic()
    commands = [c for c in CLI_COMMANDS if not cfg.commands or c in cfg.commands]
    if cfg.cli_cases:
        print(f"cli: {cfg.cli_cases} cases over {len(commands)} commands, {cfg.cli_timeout:g} s each", flush=True)
    fit_specs = [str(EXAMPLES / f"{n}.toml") for n, _ in _fit_bases()]
    cli_free = [work / f"cli{i}" for i in range(cfg.jobs)]
    for d in cli_free:
        d.mkdir(exist_ok=True)

    def cli_gen():
        for i in range(cfg.cli_cases):
            if out_of_time():
                print(f"budget of {cfg.budget_min:g} min spent: the CLI part stops after {i} cases", flush=True)
                break
            cmd = commands[i % len(commands)]
            rng = random.Random(f"derive-fuzz-cli/{cfg.seed}/{i}")
            only = tuple(CODE_TARGETS) if cmd == "check-code" and rng.random() < 0.8 else ()
            if not only and cmd not in ("fit", "notes") and rng.random() < 0.9:
                only = tuple(n for n, _ in _value_bases())
            name, text, fams = make_case(cfg.seed + 7919, i, fit_only=(cmd == "fit" and rng.random() < 0.8),
                                         max_mutations=rng.choice([0, 1, 1, 2]), only=only)
            assert cli_free, "a slot is freed before the pool asks for the next task"
            d = cli_free.pop()
            _empty(d)
            (d / "case.toml").write_text(text, encoding="utf-8")
            if cmd == "grade":
                key_text, answers, fams = grade_case(rng, work)
                (d / "key.json").write_text(key_text, encoding="utf-8")
                (d / "answers.csv").write_text(answers, encoding="utf-8")
                name, text = f"c{i:05d}-grade-{'+'.join(fams)}", answers
            expect: list = []
            argv = _cli_argv(cmd, rng, "case.toml", d, fit_specs, name, expect)
            task = CliTask(f"cli{i:04d}-{cmd.replace(' ', '')}-{name}", text, argv, cmd, cfg, d, fams, expect)
            current[task.name] = text
            slot_of[task.name] = d
            yield task

    def cli_done(rec):
        cli_free.append(slot_of.pop(rec["name"]))
        done(rec)

    cli_pool = Pool(cfg.jobs, cfg.cli_timeout)
    cli_pool.run(cli_gen(), cli_done)
    cli_secs = time.monotonic() - cli_start

    # --- group, write reproducers, minimize
    groups: dict[tuple, dict] = {}
    for rec in records:
        if rec["cls"] not in ("ESCAPE", "HANG", "MEMORY"):
            continue
        key = (rec["cls"], rec.get("type", ""), rec.get("derive_at") or rec.get("at", ""))
        if rec["cls"] == "HANG":
            key = key + (rec.get("stage", "") if not rec.get("derive_at") else "",)
        g = groups.setdefault(key, {"cls": rec["cls"], "type": rec.get("type", ""), "derive_at": rec.get("derive_at", ""),
                                    "at": rec.get("at", ""), "msg": rec.get("msg", ""), "count": 0, "stages": set(),
                                    "kinds": set(), "cases": [], "example": rec})
        g["count"] += 1
        g["stages"].add(rec.get("stage", ""))
        g["kinds"].add(rec["kind"])
        g["cases"].append(rec["name"])
        rank = lambda r: (r["kind"] != "library", r["bytes"])
        if rank(rec) < rank(g["example"]):
            g["example"] = rec
    ordered = sorted(groups.values(), key=lambda g: (-SEVERITY[g["cls"]] if g["cls"] != "ESCAPE" else -10, -g["count"]))
    numbering = {"ESCAPE": 0, "HANG": 0, "MEMORY": 0}
    min_deadline = time.monotonic() + cfg.minimize_budget
    for g in ordered:
        numbering[g["cls"]] += 1
        ex = g["example"]
        stem = f"{g['cls'].lower()}-{numbering[g['cls']]:03d}"
        text = texts.get(ex["name"], "")
        if ex["kind"] == "cli":
            how = f"python -m derive {' '.join(a if a != 'case.toml' else stem + '.toml' for a in ex['argv'][1:])}"
        else:
            how = f"SPEC = '{stem}.toml'; import derive, io; " + "; ".join(ex.get("call", []))
        header = "".join(f"# {line}\n" for line in [
            f"fuzz {g['cls']}: {g['type']}: {g['msg'][:200]}".replace("\n", " "),
            f"at {g['derive_at'] or g['at']}  (innermost {g['at']})",
            f"case {ex['name']} (seed {cfg.seed}); reproduce: {how}"])
        repro = outdir / f"{stem}.toml"
        repro.write_text(header + text, encoding="utf-8")
        g["reproducer"] = str(repro)
        g["reproduce"] = how
        g["minimized"] = None
        if (cfg.minimize and ex["kind"] == "library" and g["cls"] != "HANG" and len(text) < 3_000_000
                and time.monotonic() < min_deadline):
            sig = _signature(ex)
            pred = lambda t: _signature(_run_one_library(t, cfg, work, ex.get("index", 0))) == sig
            small = minimize(text, pred, min(60.0, min_deadline - time.monotonic()))
            if small != text:
                mpath = outdir / f"{stem}.min.toml"
                mpath.write_text(header + small, encoding="utf-8")
                g["minimized"] = str(mpath)
                g["minimized_text"] = small if len(small) < 2000 else small[:2000] + "…"
        g["stages"], g["kinds"] = sorted(g["stages"]), sorted(g["kinds"])
        g["example"] = {k: v for k, v in ex.items() if k not in ("stages",)}
    report = summarize(records, ordered, cfg, lib_secs, cli_secs)
    Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
    Path(cfg.out).write_text(json.dumps(report, indent=1, default=str))
    return report


def summarize(records, groups, cfg, lib_secs, cli_secs) -> dict:
    def counts(kind):
        rs = [r for r in records if r["kind"] == kind]
        return {c: sum(r["cls"] == c for r in rs) for c in CLASSES}
    worst_t = sorted(records, key=lambda r: -r["secs"])[:5]
    worst_m = sorted(records, key=lambda r: -r["maxrss_kb"])[:5]
    cli = [r for r in records if r["kind"] == "cli"]
    per_cmd = {}
    for r in cli:
        per_cmd.setdefault(r["cmd"], {c: 0 for c in CLASSES})[r["cls"]] += 1
    warn, warned_in = {}, {}
    for r in records:
        for w in r.get("warnings", []):
            warn[w] = warn.get(w, 0) + 1
            warned_in.setdefault(w, []).append(r["name"])   # the cases to rerun for a warning, first few
    return {
        "parent_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "config": {k: getattr(cfg, k, None) for k in ("cases", "cli_cases", "seed", "timeout", "cli_timeout", "jobs",
                                                      "mem_mb", "epochs", "budget_min", "commands")},
        "wall_s": {"library": round(lib_secs, 1), "cli": round(cli_secs, 1)},
        "library": counts("library"), "cli": counts("cli"), "cli_per_command": per_cmd,
        "worst_time": [{k: r.get(k) for k in ("name", "secs", "cls", "stage")} for r in worst_t],
        "worst_memory": [{k: r.get(k) for k in ("name", "maxrss_kb", "cls", "stage")} for r in worst_m],
        "largest_error_message": max((r.get("error_msg_len", 0) for r in records), default=0),
        "largest_cli_output": max(({"name": r["name"], "stdout_bytes": r["stdout_bytes"],
                                    "stderr_bytes": r["stderr_bytes"], "files_bytes": r["files_bytes"]} for r in cli),
                                  key=lambda d: d["stdout_bytes"] + d["stderr_bytes"] + d["files_bytes"], default=None),
        "groups": groups,
        "warnings": dict(sorted(warn.items(), key=lambda kv: -kv[1])[:30]),
        "warning_cases": {w: names[:5] for w, names in sorted(warned_in.items(), key=lambda kv: -len(kv[1]))[:30]},
        "cases": [{k: r.get(k) for k in ("name", "kind", "cls", "stage", "type", "secs", "cpu_s", "maxrss_kb")}
                  for r in records],
    }


def print_summary(report, top: int) -> None:
    print("\n=== fuzz summary ===")
    print(f"library ({report['wall_s']['library']} s): {report['library']}")
    print(f"cli     ({report['wall_s']['cli']} s): {report['cli']}")
    for cmd, c in report["cli_per_command"].items():
        print(f"    {cmd:24s} " + " ".join(f"{k}={v}" for k, v in c.items() if v))
    print("worst time:   " + "; ".join(f"{r['secs']:.1f}s {r['cls']} {r['name'][:50]} [{r['stage']}]"
                                       for r in report["worst_time"][:3]))
    print("worst memory: " + "; ".join(f"{r['maxrss_kb'] / 1024:.0f} MB {r['cls']} {r['name'][:50]} [{r['stage']}]"
                                       for r in report["worst_memory"][:3]))
    print(f"(each forked child starts from the parent's {report['parent_maxrss_mb']} MB)")
    print(f"largest error message: {report['largest_error_message']} chars; largest CLI output: "
          f"{report['largest_cli_output']}")
    print(f"\n{len(report['groups'])} distinct escape/hang/memory groups (top {top}):")
    for g in report["groups"][:top]:
        print(f"- {g['cls']} x{g['count']} {g['type']}: {g['msg'][:160]!s}".replace("\n", " "))
        print(f"    at {g['derive_at'] or '-'}  innermost {g['at'] or '-'}  stages {', '.join(g['stages'])[:100]}")
        print(f"    reproducer {g['reproducer']}" + (f"  minimized {g['minimized']}" if g.get("minimized") else ""))
        print(f"    {g['reproduce'][:200]}")
    if report["warnings"]:
        print("\nwarnings seen (count):")
        for w, n in list(report["warnings"].items())[:10]:
            print(f"  {n:5d}  {w[:150]}")


def table(reports: list[dict]) -> str:
    """The campaign's figures, added up over reports (parts run with different seeds): per row (the
    library, then each CLI command) specs run, escapes, hangs, memory kills, clean errors, the worst time
    and the worst memory, as a Markdown table (the format of the README's Reliability section)."""
    rows: dict[str, dict] = {}
    for rep in reports:
        for c in rep["cases"]:
            row = rows.setdefault("library" if c["kind"] == "library" else f"cli: {c['stage']}",
                                  {"runs": 0, **{k: 0 for k in CLASSES}, "secs": 0.0, "kb": 0})
            row["runs"] += 1
            row[c["cls"]] += 1
            row["secs"] = max(row["secs"], c.get("secs") or 0.0)
            row["kb"] = max(row["kb"], c.get("maxrss_kb") or 0)
    order = sorted(rows, key=lambda k: (k != "library", CLI_COMMANDS.index(k[5:]) if k[5:] in CLI_COMMANDS else 99))
    lines = ["| part | specs run | escapes | hangs | memory | clean errors | ok | worst time | worst memory |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    total = {"runs": 0, **{k: 0 for k in CLASSES}, "secs": 0.0, "kb": 0}
    for name in order:
        r = rows[name]
        lines.append(f"| {name} | {r['runs']} | {r['ESCAPE']} | {r['HANG']} | {r['MEMORY']} | {r['error']} | {r['ok']} "
                     f"| {r['secs']:.1f} s | {r['kb'] / 1024:.0f} MB |")
        for k in total:
            total[k] = max(total[k], r[k]) if k in ("secs", "kb") else total[k] + r[k]
    lines.append(f"| **all** | {total['runs']} | {total['ESCAPE']} | {total['HANG']} | {total['MEMORY']} | {total['error']} "
                 f"| {total['ok']} | {total['secs']:.1f} s | {total['kb'] / 1024:.0f} MB |")
    return "\n".join(lines)


def main(argv=None) -> int:
    if argv is None and sys.argv[1:2] == ["--table"]:      # fuzz.py --table REPORT.json ...: add parts up
        print(table([json.loads(Path(p).read_text()) for p in sys.argv[2:]]))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=10_000, help="library cases (default 10000)")
    p.add_argument("--cli-cases", type=int, default=120, help="CLI cases, stratified over the subcommands")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=20.0, help="wall seconds per library case (default 20)")
    p.add_argument("--cli-timeout", type=float, default=40.0, help="wall seconds per CLI run (default 40)")
    p.add_argument("--mem-mb", type=int, default=2048, help="RLIMIT_AS of every child, MB (default 2048)")
    p.add_argument("--jobs", type=int, default=2, help="children at once (default 2)")
    p.add_argument("--epochs", type=int, default=3, help="epochs for train()/run_fit() in library cases")
    p.add_argument("--out", default="fuzz-out/report.json", help="JSON report (default fuzz-out/report.json)")
    p.add_argument("--out-dir", default=None, help="reproducers folder (default: the report's folder)")
    p.add_argument("--no-minimize", dest="minimize", action="store_false", help="skip shrinking reproducers")
    p.add_argument("--minimize-budget", type=float, default=240.0, help="seconds for shrinking, all groups")
    p.add_argument("--top", type=int, default=25, help="groups printed in the summary")
    p.add_argument("--budget-min", type=float, default=None,
                   help="start no case after this many minutes; the report covers the cases run")
    p.add_argument("--commands", type=lambda t: [c.strip() for c in t.split(",")], default=None,
                   help="CLI commands to sample, comma-separated as listed in CLI_COMMANDS (default: all)")
    p.add_argument("--list", type=int, metavar="N", help="print the first N case names and sizes, run nothing")
    cfg = p.parse_args(argv)
    cfg.out_dir = cfg.out_dir or str(Path(cfg.out).parent)
    if cfg.list:
        for i in range(cfg.list):
            name, text, _ = make_case(cfg.seed, i)
            print(f"{len(text):9d}  {name}")
        return 0
    report = run_campaign(cfg)
    print_summary(report, cfg.top)
    print("\n" + table([report]))
    print(f"\nreport: {cfg.out}")
    return 1 if report["library"]["ESCAPE"] or report["cli"]["ESCAPE"] else 0


if __name__ == "__main__":
    sys.exit(main())
