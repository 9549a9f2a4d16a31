"""The fuzz campaign's output-file targets (scripts/fuzz.py: an existing file with and without --force,
a symlink to the spec, a directory, a name under a regular file, a missing folder, odd names, a name
too long, a loop of links), each once through every command that writes a file, checked as the
campaign checks them: nothing written through the link, nothing replaced without --force, no
directory accepted, no temporary file or pdflatex folder left, and a refusal is one line."""

from __future__ import annotations

import random
import types

import pytest

from derive.cli import main
from test_fuzz_subset import fuzz

COMMANDS = {
    "train": (["train", "case.toml", "--epochs", "2"], "--plot", ".png"),
    "sweep": (["sweep", "case.toml", "--lr", "0.1", "--epochs", "2"], "--plot", ".png"),
    "notes md": (["notes", "case.toml"], "-o", ".md"),
    "notes tex": (["notes", "case.toml"], "-o", ".tex"),
}
KINDS = sorted(set(fuzz.OUTPUT_KINDS))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_output_target_keeps_the_rules(examples, tmp_path, monkeypatch, capsys, command, kind):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)
    spec = (examples / "seven_1_1.toml").read_text()
    (tmp_path / "case.toml").write_text(spec)
    head, option, suffix = COMMANDS[command]
    expect: list = []
    argv = head + fuzz._output(random.Random(kind), tmp_path, option, suffix, expect, kind)
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc in (0, 2) and "Traceback" not in err
    if rc == 2:
        assert err.count("\n") == 1 and err.startswith("derive: "), err
    task = types.SimpleNamespace(dir=tmp_path, spec_text=spec, expect=expect)
    assert fuzz._output_escape(task, rc) is None
    refused = kind in ("exists", "symlink", "symlink+force", "dir+force", "under_file", "missing_dir", "too_long",
                       "link_loop")
    assert (rc == 2) == refused or kind == "odd_name", (kind, rc, err)
