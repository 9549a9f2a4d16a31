"""Optional dependencies (matplotlib, scikit-learn, numba, cffi, tqdm): imported only when asked for.

A missing one raises MissingExtra, whose one line names the exact pip command.
"""

from __future__ import annotations

import importlib

from derive.errors import NotSupported

__all__ = ["MissingExtra", "require"]


class MissingExtra(NotSupported):
    """An optional dependency is not installed; the message names the exact pip command."""


def require(module: str, package: str, extra: str):
    """Import `module` from the optional `package` (the project's extra `extra`), or raise MissingExtra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{package} is needed for this: pip install '{package}' "
                           f"(or the project's extra: pip install -e '.[{extra}]')") from None
