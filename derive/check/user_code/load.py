"""A user's gradient code, loaded by path and called safely.

`load_function("grads.py:gradients")` imports the file by its path (nothing is evaluated from a
string); `call_user(fn, params, …)` calls it and checks what it returns. Anything wrong with the
user's file or function is a UserCodeError (one line; the user's own traceback kept in
`.user_traceback` when their code raised). Comparing with the derivation: `derive.check.user_code.compare`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import numbers
import sys
import traceback
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from derive.errors import UserCodeError

__all__ = ["load_function", "call_user", "user_error"]

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
    out = _Grads(out)
    out.dtype = _least_precise(result.values())
    missing = [name for name in required if name not in out]
    if missing:
        raise UserCodeError(f"{label}: returned no gradient for {', '.join(missing)}; "
                            f"expected keys {', '.join(required)}")
    return out


class _Grads(dict):
    """The user's gradients as floats, remembering the least precise float dtype they came in."""

    dtype: np.dtype = np.dtype(np.float64)


def _least_precise(values) -> np.dtype:
    dtypes = [v.dtype for v in values if isinstance(getattr(v, "dtype", None), np.dtype)
              and np.issubdtype(v.dtype, np.floating)]
    return max(dtypes, key=lambda d: np.finfo(d).eps, default=np.dtype(np.float64))


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
