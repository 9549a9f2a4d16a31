"""What both spec kinds share: reading a TOML file, and small validators that name the key and what was
expected (a SpecError for every problem). Nothing read is ever evaluated as code."""

from __future__ import annotations

import difflib
import math
import tomllib
from pathlib import Path
from typing import Any, Mapping

from derive.errors import SpecError
from derive.core.limits import MAX_FILE_BYTES, MAX_TITLE_CHARS

__all__ = ["read_toml", "validated", "required", "mapping", "known_keys", "choice", "choice_list", "boolean", "whole",
           "whole_list", "number", "numbers", "text", "DTYPES"]

DTYPES = ("float64", "float32")   # the floating-point types every numeric stage accepts, by name


def read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML file's tables; SpecError for a missing, unreadable, non-UTF-8 or malformed file."""
    source = str(path)
    try:
        if Path(path).is_file() and Path(path).stat().st_size > MAX_FILE_BYTES:
            raise SpecError("(file)", f"a spec file of at most {MAX_FILE_BYTES} bytes (a data set goes in its own "
                                      "file: [data] in a data-set spec)", source=source)
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpecError("(file)", "an existing spec file", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError("(file)", f"a readable UTF-8 TOML file ({exc.__class__.__name__})", source=source) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError("(toml)", f"valid TOML ({exc})", source=source) from None
    except ValueError:   # tomllib: an integer literal past Python's 4300-digit conversion limit
        raise SpecError("(toml)", "numbers of at most 4300 digits (write 1e300 for a big number)",
                        source=source) from None
    except RecursionError:   # tomllib recurses once per level of nested arrays or inline tables
        raise SpecError("(toml)", "valid TOML nested a few levels deep, not hundreds", source=source) from None


def validated(validate, data: Mapping[str, Any], source: str | None):
    """validate(data, source), its SpecError naming the file the data came from (validators do not)."""
    try:
        return validate(data, source)
    except SpecError as exc:
        raise exc.in_file(source) if source and exc.source is None else exc


def required(table, key, prefix):
    if key not in table:
        raise SpecError(f"{prefix}{key}", "this key to be present")
    return table[key]


def mapping(value, key):
    if not isinstance(value, Mapping):
        raise SpecError(key, "a table", got=value)
    return value


def known_keys(table, allowed, prefix):
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise SpecError(f"{prefix}{key}", f"one of the known keys {', '.join(allowed)}{hint}")


def choice(value, key, table):
    if not isinstance(value, str) or value not in table:
        close = difflib.get_close_matches(str(value), list(table), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SpecError(key, f"one of {', '.join(table)}{hint}", got=value)
    return value


def choice_list(value, key, table):
    if not isinstance(value, list):
        raise SpecError(key, "a list of names", got=value)
    return tuple(choice(v, f"{key}[{i}]", table) for i, v in enumerate(value))


def boolean(value, key):
    if not isinstance(value, bool):
        raise SpecError(key, "true or false", got=value)
    return value


def whole(value, key, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(key, f"a whole number >= {minimum}", got=value)
    return value


def whole_list(value, key, minimum):
    if not isinstance(value, list):
        raise SpecError(key, "a list of whole numbers", got=value)
    return tuple(whole(v, f"{key}[{i}]", minimum) for i, v in enumerate(value))


def number(value, key):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(key, "a number", got=value)
    try:
        result = float(value)
    except OverflowError:   # an integer past the largest double
        raise SpecError(key, "a finite number (within ±1.8e308)", got=value) from None
    if not math.isfinite(result):
        raise SpecError(key, "a finite number", got=value)
    return result


def text(value, key):
    """A free-text value (a title): a string of at most MAX_TITLE_CHARS characters."""
    if not isinstance(value, str):
        raise SpecError(key, "a string", got=value)
    if len(value) > MAX_TITLE_CHARS:
        raise SpecError(key, f"a string of at most {MAX_TITLE_CHARS} characters", got=value)
    return value


def numbers(value, key, length):
    if not isinstance(value, list):
        raise SpecError(key, f"a list of {length} numbers", got=value)
    if len(value) != length:
        raise SpecError(key, f"{length} numbers", got=f"{len(value)} numbers")
    return tuple(number(v, f"{key}[{i}]") for i, v in enumerate(value))
