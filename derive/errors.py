"""One hierarchy of errors: bad user input versus things derive cannot do yet."""

from __future__ import annotations

__all__ = ["DeriveError", "SpecError", "OptionError", "NotSupported", "UserCodeError", "Diverged"]


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
        where = f"{self.source}: " if self.source else ""
        got = "" if self.got is None else f", got {self.got!r}"
        return f"{where}{self.key}: expected {self.expected}{got}"

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
