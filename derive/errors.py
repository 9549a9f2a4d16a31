"""One hierarchy of errors: bad user input versus things derive cannot do yet."""

from __future__ import annotations

import unicodedata

__all__ = ["DeriveError", "SpecError", "OptionError", "NotSupported", "UserCodeError", "Diverged", "StartsPastDtype", "clip", "shown",
           "SHOWN_CHARS"]

SHOWN_CHARS = 80   # an error line shows at most this many characters of a bad key or value


_UNPRINTABLE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def _escaped(ch: str) -> str:
    """One character as an error line shows it: printable as itself, else repr-style (\\n, \\x1b, \\u2028)."""
    if ch == "\\" or unicodedata.category(ch) not in _UNPRINTABLE or ch == " ":
        return ch
    return repr(ch)[1:-1]


def clip(text: str, limit: int = SHOWN_CHARS, length: int | None = None) -> str:
    """Text for one error line: control characters (newlines, escapes, line separators) written
    repr-style, so a line is never split or recoloured; past `limit` characters cut with an ellipsis
    and the text's length. `length`: the length of the original, when `text` was cut already."""
    text = str(text)
    length = len(text) if length is None else length
    head = "".join(_escaped(c) for c in text[: 4 * limit])
    if length <= limit and len(head) <= limit:
        return head
    tail = f"… ({length} characters)"
    return head[: max(limit - len(tail), 8)] + tail


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """A bad value as an error line shows it: its repr, clipped (huge integers by their size only)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, str) and len(value) > 4 * limit:
        return clip(repr(value[: 4 * limit]), limit, len(value))
    if isinstance(value, (list, tuple, dict)) and len(value) > limit:
        return clip(f"{type(value).__name__} of {len(value)} items: {_head(value)}", limit)
    try:
        return clip(repr(value), limit)
    except (ValueError, RecursionError):   # an int over Python's digit limit nested somewhere, or a deep list
        return f"a {type(value).__name__}"


def _head(value) -> str:
    items = list(value.items() if isinstance(value, dict) else value)[:8]
    return ", ".join(shown(v, 20) for v in items) + ", …"


class DeriveError(Exception):
    """Base class of every error derive raises on purpose."""


class SpecError(DeriveError, ValueError):
    """A spec (file or Python) is malformed: names the source, the key and what was expected."""

    def __init__(self, key: str, expected: str, *, got: object = None, source: str | None = None):
        self.key = key
        self.expected = expected
        self.got = got
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{clip(self.source, 2 * SHOWN_CHARS)}: " if self.source else ""
        got = "" if self.got is None else f", got {shown(self.got)}"
        return f"{where}{clip(self.key)}: expected {clip(self.expected, 4 * SHOWN_CHARS)}{got}"

    def in_file(self, source: str) -> "SpecError":
        """The same error, naming the file it came from."""
        return SpecError(self.key, self.expected, got=self.got, source=source)


class OptionError(DeriveError):
    """A command-line option's value is wrong (its message names the option and what was expected)."""


class NotSupported(DeriveError):
    """A valid request that derive cannot carry out (yet)."""


class UserCodeError(DeriveError):
    """A user's gradient function could not be loaded, raised, or returned the wrong thing."""


class Diverged(DeriveError):
    """Training produced a loss or a parameter that is not a finite number (the learning rate is too large)."""


class StartsPastDtype(SpecError, Diverged):
    """Training cannot start: the loss or a gradient at the spec's values is past the dtype (the values'
    doing, not the learning rate's); a SpecError naming `values`, and a Diverged for callers of train."""
