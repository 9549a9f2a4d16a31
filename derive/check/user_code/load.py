"""A user's gradient code, loaded by path and called safely.

`load_function("grads.py:gradients")` imports the file by its path (nothing is evaluated from a
string); `call_user(fn, params, …)` calls it and checks what it returns. Anything wrong with the
user's file or function is a UserCodeError (one line; the user's own traceback kept in
`.user_traceback` when their code raised). Comparing with the derivation: `derive.check.user_code.compare`.
"""

from __future__ import annotations

import faulthandler
import hashlib
import importlib.util
import io
import math
import multiprocessing
import numbers
import os
import resource
import sys
import traceback
from functools import partial
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from derive.errors import UserCodeError, shown

__all__ = ["load_function", "call_user", "user_error", "interrupted", "ContainedFunction", "DEFAULT_TIMEOUT"]

GradientFn = Callable[[dict], Mapping]


def user_error(message: str, exc: BaseException, path: str | None) -> UserCodeError:
    """A UserCodeError for an exception raised in the user's code, keeping their part of the traceback."""
    error = UserCodeError(f"{message}: {type(exc).__name__}: {_first_line(exc)}")
    error.user_traceback = _user_frames(exc, path)
    return error


def interrupted(label: str) -> str:
    """The one line for a KeyboardInterrupt out of the user's function (no traceback: it is no bug)."""
    return f"{label}: raised: KeyboardInterrupt (by your code, or Ctrl-C while it ran): no gradients, so nothing is checked"


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
    every required one present, every value a finite real number. Returns floats by canonical name.
    A ContainedFunction is called in its child process (the same checks, done there)."""
    if isinstance(fn, ContainedFunction):
        return fn.call(params, names, required)
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
    try:
        out = _read(label, result, names, required)
    except UserCodeError:
        raise
    except BaseException as exc:   # a mapping that raises while iterated, a value whose float() raises
        raise user_error(f"{label}: reading what it returned raised", exc,
                         getattr(fn, "__derive_source__", None)) from exc
    missing = [name for name in required if name not in out]
    if missing:
        raise UserCodeError(f"{label}: returned no gradient for {', '.join(missing)}; "
                            f"expected keys {', '.join(required)}")
    return out


def _read(label: str, result: Mapping, names: Mapping[str, str], required: list[str]) -> "_Grads":
    out: dict[str, float] = {}
    for key, value in result.items():
        if key not in names:
            raise UserCodeError(f"{label}: returned key {shown(key)}; expected parameter names "
                                f"({', '.join(required)})")
        out[names[key]] = _number(label, key, value)
    grads = _Grads(out)
    grads.dtype = _least_precise(result.values())
    return grads


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
        raise UserCodeError(f"{label}: gradient {shown(key)} is {type(value).__name__} {shown(value)}, "
                            "expected a real number")
    number = float(value)
    if not math.isfinite(number):
        raise UserCodeError(f"{label}: gradient {key!r} is {number}, expected a finite number")
    return number


def _label(fn) -> str:
    source = getattr(fn, "__derive_source__", None)
    name = getattr(fn, "__name__", repr(fn))
    return f"{source}:{name}" if source else name


# --- contained: the user's code in a child process ------------------------------------------------
DEFAULT_TIMEOUT = 10.0            # seconds for importing the file, and for each call (check-code --timeout)
CHILD_MEMORY = 4 * 1024 ** 3      # address space of the child (bytes): an unbounded allocation is a MemoryError


class ContainedFunction:
    """FILE.py:FUNC imported and called in a child process, so nothing it does reaches derive: a loop or a
    sleep past `timeout` seconds, sys.exit/os._exit, a crash, a monkeypatch of derive or a print to file
    descriptor 1 each end in one UserCodeError line (never a pass). `call_user` sends it the points."""

    def __init__(self, target: str, timeout: float = DEFAULT_TIMEOUT, serve=None):
        self.target, self.timeout = str(target), float(timeout)
        self.__name__ = self.target
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        # `serve(fn, *message)` answers one call in the child: the dict form's by default (matrix_form has its own)
        self._process = context.Process(target=_child, args=(child, self.target, serve or _served), daemon=True)
        self._process.start()
        child.close()
        self._receive("importing it")

    def call(self, params: Mapping[str, float], names: Mapping[str, str], required: list[str]) -> dict:
        """fn(params) in the child, checked there by call_user; the floats (and their dtype) back here."""
        values, dtype = self.request((dict(params), dict(names), list(required)))
        out = _Grads(values)
        out.dtype = np.dtype(dtype)
        return out

    def request(self, message: tuple):
        """One call in the child: `message` goes to its `serve`, the answer (payload, extra) comes back."""
        try:
            self._conn.send(message)
        except (BrokenPipeError, OSError):
            raise self._ended("before it was called") from None
        return self._receive("calling it")

    def __call__(self, params):
        raise UserCodeError(f"{self.target}: a contained function is called through call_user")

    def close(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(1)
        self._conn.close()

    def _receive(self, doing: str):
        if not self._conn.poll(self.timeout):
            self.close()
            raise UserCodeError(f"{self.target}: {doing} took over {self.timeout:g} s (stopped; a loop that "
                                "never ends? raise the limit with --timeout S)")
        try:
            kind, payload, extra, printed = self._conn.recv()
        except (EOFError, OSError):
            raise self._ended(f"while {doing}") from None
        sys.stderr.write(printed)   # what the user's code printed, on derive's stderr (never stdout)
        if kind in ("error", "raised"):   # "raised": their code raised; extra is (traceback, exception type)
            theirs, raised = extra if kind == "raised" else (extra, None)
            error = UserCodeError(payload)
            error.user_traceback, error.raised = theirs, raised
            raise error
        return payload if kind == "loaded" else (payload, extra)

    def _ended(self, when: str) -> UserCodeError:
        self._process.join(2)
        code = self._process.exitcode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else f"exited with status {code}"
        self.close()
        return UserCodeError(f"{self.target}: the process running it {how} {when} (sys.exit, os._exit or a "
                             "crash in your code?): no gradients, so nothing is checked")


def _child(conn, target: str, serve) -> None:
    """The child: fd 1 goes to stderr (never into derive's --json), Python's prints are sent back with each
    answer (the parent writes them to its stderr), memory is bounded; then import and serve."""
    faulthandler.disable()   # a crash of the user's code is reported by the parent, in one line
    os.dup2(2, 1)
    printed = io.StringIO()
    sys.stdout = sys.stderr = printed
    send = partial(_send, conn, printed)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))
    except (ValueError, OSError):
        pass
    try:
        fn = load_function(target)
        send(("loaded", None, None))
        while True:
            send(serve(fn, *conn.recv()))
    except EOFError:
        pass
    except UserCodeError as exc:
        send(("error", str(exc), getattr(exc, "user_traceback", None)))
    except BaseException as exc:   # anything the user's module does at import
        send(("error", f"{target}: importing it failed: {type(exc).__name__}: {_first_line(exc)}", None))
    os._exit(0)


def _send(conn, printed: io.StringIO, message: tuple) -> None:
    conn.send((*message, printed.getvalue()))
    printed.seek(0)
    printed.truncate()


def _served(fn, params, names, required):
    """One call in the child: ("ok", floats, dtype) or ("error", the line, the user's traceback)."""
    try:
        out = call_user(fn, params, names, required)
        return "ok", {k: float(v) for k, v in out.items()}, out.dtype.str
    except UserCodeError as exc:
        return "error", str(exc), getattr(exc, "user_traceback", None)
    except KeyboardInterrupt:      # raised by the user's code (a Ctrl-C reaches derive itself): one line
        return "error", interrupted(_label(fn)), None
    except BaseException as exc:   # a returned mapping or value that raises while derive reads it
        error = user_error(f"{_label(fn)}: raised", exc, getattr(fn, "__derive_source__", None))
        return "error", str(error), error.user_traceback
