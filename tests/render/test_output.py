"""Output files (issue 14): never over a file without force, never through a link, never onto a directory,
only into an existing directory, atomically; every refusal one OutputError line."""

import os
import tempfile

import pytest

from derive.errors import DeriveError
from derive.render.output import OutputError, OutputExists, check_output, write_atomic, written


def test_an_existing_file_is_kept_without_force_and_replaced_with_it(tmp_path):
    out = tmp_path / "a.tex"
    out.write_text("mine")
    with pytest.raises(OutputExists, match="pass --force"):
        write_atomic(out, "theirs")
    assert out.read_text() == "mine"
    write_atomic(out, "theirs", force=True)
    assert out.read_text() == "theirs"


@pytest.mark.parametrize("force", [False, True])
def test_a_symlink_is_refused_and_its_target_untouched(tmp_path, force):
    target = tmp_path / "spec.toml"
    target.write_text("the user's spec")
    link = tmp_path / "plot.png"
    link.symlink_to(target)
    with pytest.raises(OutputError, match="symbolic link") as err:
        write_atomic(link, b"\x89PNG", force=force)
    assert "\n" not in str(err.value)
    assert target.read_text() == "the user's spec" and link.is_symlink()


def test_a_dangling_symlink_is_refused_too(tmp_path):
    link = tmp_path / "x.md"
    link.symlink_to(tmp_path / "elsewhere.md")
    with pytest.raises(OutputError, match="symbolic link"):
        check_output(link, force=True)
    assert not (tmp_path / "elsewhere.md").exists()


def test_a_directory_is_refused_even_with_force(tmp_path):
    (tmp_path / "d.tex").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        write_atomic(tmp_path / "d.tex", "x", force=True)
    assert (tmp_path / "d.tex").is_dir()


def test_a_missing_directory_and_a_file_as_directory_are_refused(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        check_output(tmp_path / "nodir" / "x.tex")
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is not a directory"):   # unwritable even for root
        write_atomic(tmp_path / "file" / "x.tex", "x", force=True)


def test_permission_denied_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(OutputError, match="Permission denied") as err:
        write_atomic(tmp_path / "x.md", "text")
    assert isinstance(err.value, DeriveError) and "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_writer_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    out = tmp_path / "p.png"
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with written(out, force=True) as tmp:
            open(tmp, "wb").write(b"half")
            raise RuntimeError("the writer died")
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["p.png"]


def test_an_os_error_while_writing_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="No space left"):
        with written(tmp_path / "p.png"):
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []


def test_a_link_made_while_writing_is_not_written_through(tmp_path):
    target = tmp_path / "victim"
    target.write_text("keep")
    out = tmp_path / "x.tex"
    with pytest.raises(OutputError, match="symbolic link"):
        with written(out) as tmp:
            open(tmp, "w").write("doc")
            out.symlink_to(target)       # a race: the name became a link after the first check
    assert target.read_text() == "keep"


def test_written_files_get_the_usual_mode(tmp_path):
    out = write_atomic(tmp_path / "k.json", "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask
