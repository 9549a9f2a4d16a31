"""Exit statuses (issue 14): 0 success, 1 a mismatch found, 2 bad input, 3 a crash inside derive (an
exception that is not derive's own), each distinct; and the spec file parsed once per command."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import derive.cli.gradients
from derive.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"
MAZUR = str(EXAMPLES / "mazur_2_2_2.toml")


def test_a_crash_exits_3_not_1_or_2(monkeypatch, capsys):
    # an exception that is not derive's own (a bug), injected into a command
    def broken(net):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
    monkeypatch.setattr(derive.cli.gradients, "render", broken)
    assert main(["gradients", MAZUR]) == 3
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("derive: internal error") and "TypeError" in last and "a bug in derive" in last


def test_a_memory_error_is_one_line_and_status_3(monkeypatch, capsys):
    def huge(net):
        raise MemoryError()
    monkeypatch.setattr(derive.cli.gradients, "render", huge)
    assert main(["gradients", MAZUR]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("derive: out of memory") and "Traceback" not in err


def test_mismatch_and_bad_input_keep_1_and_2(tmp_path, capsys):
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(Path(MAZUR).read_text() + '\n[hand]\nE_total = "0.5"\n')
    assert main(["check", str(wrong)]) == 1
    assert main(["gradients", str(tmp_path / "missing.toml")]) == 2
    assert main(["gradients", MAZUR]) == 0


DUAL = str(EXAMPLES / "file001_dual_layer.toml")


@pytest.mark.parametrize("spec, command", [(MAZUR, ["gradients"]), (MAZUR, ["chain", "w1"]),
                                           (MAZUR, ["train", "--epochs", "1"]), (MAZUR, ["notes", "-o", "OUT.md"]),
                                           (MAZUR, ["check-code", "CODE"]), (DUAL, ["notes", "-o", "OUT.md", "--no-run"])])
def test_the_spec_is_parsed_once(tmp_path, monkeypatch, capsys, spec, command):
    # the unusual-pair warning read the TOML a second time in every command; notes and check-code read it
    # once to tell the spec's kind and again to load it
    code = tmp_path / "mine.py"
    code.write_text("def gradients(params):\n    return {k: 0.0 for k in params}\n")
    calls = []
    real = tomllib.loads
    monkeypatch.setattr(tomllib, "loads", lambda text, **kw: calls.append(1) or real(text, **kw))
    name, *rest = command
    rest = [str(tmp_path / "out.md") if a == "OUT.md" else f"{code}:gradients" if a == "CODE" else a for a in rest]
    assert main([name, spec, *rest]) in (0, 1)
    assert len(calls) == 1
