"""Output files, written safely: a document, a picture or a key is checked before any work (never over an
existing file without force, never through a symlink, never onto a directory, only into an existing
directory) and written atomically (a temporary file in the same directory, then os.replace), so a failure
or a kill leaves the old file or nothing, never half a file. Every refusal is one line (OutputError).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from derive.errors import OptionError, clip

__all__ = ["OutputError", "OutputExists", "check_output", "write_atomic", "written"]


class OutputError(OptionError, OSError):
    """An output file cannot or may not be written where asked (one line naming it and why); an OSError
    too, for callers of the library that catch those."""


class OutputExists(OutputError):
    """The output file exists and --force was not given."""


def _name(path: Path) -> str:
    return clip(str(path), 160)


def check_output(path, force: bool = False, option: str = "-o") -> Path:
    """`path` as a Path when a file may be written there now; else OutputError in one line (before any work)."""
    path = Path(path)
    target = _lstat(path, option)
    if target is not None and stat.S_ISLNK(target.st_mode):
        raise OutputError(f"{option}: {_name(path)} is a symbolic link; derive does not write through links "
                          f"(give the target's own name, or remove the link)")
    if target is not None and stat.S_ISDIR(target.st_mode):
        raise OutputError(f"{option}: {_name(path)} is a directory; expected a file name")
    if target is not None and not force:
        raise OutputExists(f"{_name(path)}: exists; pass --force to overwrite it")
    parent = path.parent
    try:
        folder = os.stat(parent)
    except OSError as exc:
        what = "does not exist: create it first" if isinstance(exc, FileNotFoundError) else \
            "is not a directory" if isinstance(exc, NotADirectoryError) else f"cannot be used ({exc.strerror or exc})"
        raise OutputError(f"{option}: expected a file in an existing directory, got {_name(path)} "
                          f"({_name(parent)} {what})") from None
    if not stat.S_ISDIR(folder.st_mode):
        raise OutputError(f"{option}: expected a file in an existing directory, got {_name(path)} "
                          f"({_name(parent)} is not a directory)")
    return path


def _lstat(path: Path, option: str):
    """The path's own status (a link's, not its target's), None where nothing is there; any other
    failure (a name too long, a loop of links, no permission) one line."""
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _refusal(path, exc, option) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _refusal(path: Path, exc: OSError, option: str) -> OutputError:
    return OutputError(f"{option}: cannot write {_name(path)} ({clip(exc.strerror or str(exc) or type(exc).__name__)})")


def written(path, force: bool = False, option: str = "-o"):
    """A context manager giving a temporary file name beside `path`; on a clean exit it replaces `path`
    (os.replace), on any failure it is removed. For writers that want a file name (matplotlib, pdflatex)."""
    return _Atomic(check_output(path, force, option), option)


class _Atomic:
    def __init__(self, path: Path, option: str):
        self.path, self.option, self.tmp = path, option, None

    def __enter__(self) -> str:
        try:
            fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name[:80]}.",
                                            suffix=".tmp" + self.path.suffix[:16])
        except OSError as exc:
            raise _refusal(self.path, exc, self.option) from None
        os.close(fd)
        return self.tmp

    def __exit__(self, typ, exc, tb) -> bool:
        try:
            if typ is None:
                os.chmod(self.tmp, 0o666 & ~_umask())   # mkstemp makes 0600; an output gets the usual mode
                check_output(self.path, True, self.option)   # still no link or directory there
                os.replace(self.tmp, self.path)
                self.tmp = None
        except OutputError:
            raise
        except OSError as exc:
            raise _refusal(self.path, exc, self.option) from None
        finally:
            if self.tmp is not None and os.path.lexists(self.tmp):
                os.unlink(self.tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _refusal(self.path, exc, self.option) from None
        return False


def write_atomic(path, data: str | bytes, force: bool = False, option: str = "-o") -> Path:
    """Write `data` (text as UTF-8) to `path` atomically, after check_output's refusals."""
    with written(path, force, option) as tmp:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)
