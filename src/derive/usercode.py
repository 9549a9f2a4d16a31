"""A user's gradient code, loaded by path and checked against the derivation.

`load_function("grads.py:gradients")` imports the file by its path (nothing is evaluated from a
string) and `check_gradients(net, fn)` compares fn(params) -> {name: ∂E/∂name} with the derived
gradients at the spec's values and, optionally, at random points; where they disagree, the
library of common backprop mistakes (`derive.mistakes`) says which mistake gives the user's numbers.
Anything wrong with the user's file or function is a UserCodeError (one line; the user's own
traceback kept in `.user_traceback` when their code raised).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import numbers
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from .errors import SpecError, UserCodeError

__all__ = ["load_function", "check_gradients", "GradientReport", "ParamCheck", "random_points",
           "call_user", "user_error"]

GradientFn = Callable[[dict], Mapping]


def user_error(message: str, exc: BaseException, path: str | None) -> UserCodeError:
    """A UserCodeError for an exception raised in the user's code, keeping their part of the traceback."""
    error = UserCodeError(f"{message}: {type(exc).__name__}: {_first_line(exc)}")
    error.user_traceback = _user_frames(exc, path)
    return error


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "(no message)"


def _user_frames(exc: BaseException, path: str | None) -> str:
    """The traceback from the first frame in the user's file on (all of it if no frame is theirs)."""
    tb, mine = exc.__traceback__, None
    target = str(Path(path).resolve()) if path else None
    walk = tb
    while walk is not None:
        if target and str(Path(walk.tb_frame.f_code.co_filename).resolve()) == target:
            mine = walk
            break
        walk = walk.tb_next
    if mine is None and not isinstance(exc, SyntaxError):
        mine = tb
    lines = traceback.format_exception(type(exc), exc, mine) if mine is not None else \
        traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip("\n")


# --- loading ----------------------------------------------------------------------------------
def load_function(target: str) -> GradientFn:
    """FILE.py:FUNC -> the function, imported from that file by path (its directory is importable)."""
    path_text, sep, func = str(target).rpartition(":")
    if not sep or not path_text or not func:
        raise UserCodeError(f"{target}: expected FILE.py:FUNC (a Python file and a function in it)")
    path = Path(path_text)
    if not path.is_file():
        raise UserCodeError(f"{path_text}: no such file (expected FILE.py:FUNC)")
    if path.suffix != ".py":
        raise UserCodeError(f"{path_text}: expected a Python file ending in .py")
    module = _import_by_path(path)
    fn = getattr(module, func, None)
    if fn is None:
        names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        raise UserCodeError(f"{path_text}: no function {func!r} (functions defined there: "
                            f"{', '.join(names) or 'none'})")
    if not callable(fn):
        raise UserCodeError(f"{path_text}: {func!r} is a {type(fn).__name__}, expected a function")
    fn.__derive_source__ = str(path)  # type: ignore[attr-defined]  # where its traceback frames live
    return fn


def _import_by_path(path: Path):
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"_derive_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # the user's module may raise anything, SystemExit included
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise user_error(f"{path}: importing it failed", exc, str(path)) from exc
    finally:
        if folder in sys.path:   # the user's module may have changed sys.path itself
            sys.path.remove(folder)
    return module


# --- calling ------------------------------------------------------------------------------------
def call_user(fn: GradientFn, params: Mapping[str, float], names: Mapping[str, str],
              required: list[str]) -> dict[str, float]:
    """fn(params) checked: a mapping whose keys name parameters (canonical or notation names),
    every required one present, every value a finite real number. Returns floats by canonical name."""
    label = _label(fn)
    try:
        result = fn(dict(params))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit too: the user's code must not end derive
        raise user_error(f"{label} raised", exc, getattr(fn, "__derive_source__", None)) from exc
    if not isinstance(result, Mapping):
        raise UserCodeError(f"{label}: expected it to return a dict {{param: gradient}}, "
                            f"got {type(result).__name__}")
    out: dict[str, float] = {}
    for key, value in result.items():
        if key not in names:
            raise UserCodeError(f"{label}: returned key {key!r}; expected parameter names "
                                f"({', '.join(required)})")
        out[names[key]] = _number(label, key, value)
    missing = [name for name in required if name not in out]
    if missing:
        raise UserCodeError(f"{label}: returned no gradient for {', '.join(missing)}; "
                            f"expected keys {', '.join(required)}")
    return out


def _number(label: str, key: str, value) -> float:
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise UserCodeError(f"{label}: gradient {key!r} is {type(value).__name__} {value!r}, "
                            "expected a real number")
    number = float(value)
    if not math.isfinite(number):
        raise UserCodeError(f"{label}: gradient {key!r} is {number}, expected a finite number")
    return number


def _label(fn) -> str:
    source = getattr(fn, "__derive_source__", None)
    name = getattr(fn, "__name__", repr(fn))
    return f"{source}:{name}" if source else name


# --- comparing ----------------------------------------------------------------------------------
@dataclass
class ParamCheck:
    """One parameter: the derived gradient, the user's, and whether they agree within tolerance."""

    name: str
    expected: float
    got: float
    ok: bool
    point: int = 0   # 0: the spec's values; i > 0: the i-th random point (where it first failed)

    @property
    def abs_error(self) -> float:
        return abs(self.got - self.expected)

    @property
    def rel_error(self) -> float:
        """|got − expected| / max(|got|, |expected|), the usual gradient-check measure (0 when both are 0)."""
        scale = max(abs(self.got), abs(self.expected))
        return self.abs_error / scale if scale else 0.0


@dataclass
class GradientReport:
    """The user's gradients against the derivation: per parameter, the verdict, and a diagnosis."""

    params: dict[str, ParamCheck]
    points: list[dict[str, float]]          # parameter values checked; points[0] are the spec's
    rtol: float
    atol: float
    mistakes: list = field(default_factory=list)   # derive.mistakes.Match, when they disagree
    scale: float | None = None                     # a common factor user/derived, if there is one
    origin: str = "the spec's values"              # what points[0] is ("the given values" with at=)

    @property
    def agree(self) -> bool:
        return all(c.ok for c in self.params.values())

    @property
    def disagreeing(self) -> list[str]:
        return [name for name, c in self.params.items() if not c.ok]

    @property
    def diagnosis(self) -> str | None:
        """Which known mistakes give exactly the user's numbers (None when they agree or none does)."""
        if self.agree:
            return None
        if self.mistakes:
            return "; ".join(m.describe() for m in self.mistakes)
        if self.scale is not None:
            return (f"every gradient is {self.scale:.6g} times the derivation's "
                    "(a constant factor; no mistake in the library gives exactly this)")
        return None

    def tolerance(self, expected: float) -> float:
        return self.atol + self.rtol * abs(expected)

    def as_json(self) -> dict:
        return {"agree": self.agree,
                "params": {n: {"expected": c.expected, "got": c.got, "ok": c.ok} for n, c in self.params.items()},
                "diagnosis": self.diagnosis,
                "mistakes": [m.as_json() for m in self.mistakes],
                "points": len(self.points) - 1, "rtol": self.rtol, "atol": self.atol}


def random_points(start: Mapping[str, float], n: int, seed: int) -> list[dict[str, float]]:
    """n parameter points near the spec's: each value moved by normal(0, ½·max(1, |value|)), seeded."""
    rng = np.random.default_rng(seed)
    return [{k: v + float(rng.normal(0.0, 0.5 * max(1.0, abs(v)))) for k, v in start.items()}
            for _ in range(n)]


def check_gradients(net, fn: GradientFn, *, rtol: float = 1e-6, atol: float = 1e-9, points: int = 0,
                    seed: int = 0, at: Mapping[str, float] | None = None) -> GradientReport:
    """Compare fn(params) with the derived ∂E/∂param at the spec's values (or at `at`, a value for
    every parameter by canonical name) and at `points` random points near them.

    `net` is a derive.Network (or a spec path); fn takes {canonical name: value} for every
    parameter and returns {name: gradient} for every trained parameter (others optional)."""
    from .api import Network, load
    from .mistakes import diagnose

    if not isinstance(net, Network):
        net = load(net)
    if points < 0 or not (rtol >= 0 and atol >= 0):
        raise SpecError("check_gradients", "points, rtol and atol not negative", got=(points, rtol, atol))
    start = net.param_values() if at is None else _point(net, at)
    at = [start] + random_points(start, points, seed)
    names = {p.canonical: p.canonical for p in net.graph.params} | {p.name: p.canonical for p in net.graph.params}
    expected = [derived_at(net, point) for point in at]
    got = [call_user(fn, point, names, net.trained) for point in at]
    report = GradientReport(_compare(got, expected, rtol, atol), at, rtol, atol,
                            origin="the spec's values" if start == net.param_values() else "the given values")
    if not report.agree:
        report.mistakes = diagnose(net, at, got, rtol=rtol, atol=atol)
        report.scale = _common_scale(got, expected, rtol, atol)
    return report


def _point(net, at: Mapping[str, float]) -> dict[str, float]:
    """`at` checked: a finite number for every parameter, by canonical name."""
    names = net.params
    if set(at) != set(names):
        raise SpecError("at", f"a value for every parameter ({', '.join(names)})", got=sorted(at))
    point = {name: float(at[name]) for name in names}
    bad = [name for name, v in point.items() if not math.isfinite(v)]
    if bad:
        raise SpecError(f"at[{bad[0]!r}]", "a finite number", got=point[bad[0]])
    return point


def derived_at(net, params: Mapping[str, float]) -> dict[str, float]:
    """The derivation's gradients (all parameters, canonical names) with the parameters set to `params`."""
    leaves = net.graph.leaf_values()
    leaves.update({p.name: params[p.canonical] for p in net.graph.params})
    _, grads = net.program.function(leaves)
    return {k: float(v) for k, v in grads.items()}


def _close(got: float, expected: float, rtol: float, atol: float) -> bool:
    return abs(got - expected) <= atol + rtol * abs(expected)


def _compare(got: list[dict], expected: list[dict], rtol: float, atol: float) -> dict[str, ParamCheck]:
    """Per parameter: the first point where it fails, else the spec's values."""
    checks = {}
    for name in got[0]:
        failing = [i for i, (g, e) in enumerate(zip(got, expected)) if not _close(g[name], e[name], rtol, atol)]
        i = failing[0] if failing else 0
        checks[name] = ParamCheck(name, expected[i][name], got[i][name], not failing, i)
    return checks


def _common_scale(got: list[dict], expected: list[dict], rtol: float, atol: float) -> float | None:
    """k when every user gradient is k × the derived one at every point (k ≠ 1), else None."""
    pairs = [(g[n], e[n]) for g, e in zip(got, expected) for n in g if abs(e[n]) > atol]
    if not pairs:
        return None
    k = pairs[0][0] / pairs[0][1]
    if abs(k - 1) <= rtol or not all(_close(g, k * e, rtol, atol) for g, e in pairs):
        return None
    return k
