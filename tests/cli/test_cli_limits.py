"""The command line at the limits (issue 14): strict JSON everywhere, one short line for bad input, and
commands that know their size before they start (chain on a net with 2^24 paths)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from derive.cli import main
from derive.core.limits import MAX_PATHS

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"


def strict(text: str):
    """json.loads that refuses NaN and Infinity (Python's default accepts them)."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def write(tmp_path, layers, acts, *, inputs=None, weights=None, loss="half_sse", extra=""):
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    text = (f'[network]\nlayers = {list(layers)}\nactivations = {json.dumps(acts)}\nloss = "{loss}"\n\n[values]\n'
            f"inputs = {inputs or [0.1] * layers[0]}\ntargets = {[0.5] * layers[-1]}\n"
            f"weights = {weights or [0.1] * n_w}\nbiases = {[0.0] * sum(layers[1:])}\n{extra}")
    path = tmp_path / "net.toml"
    path.write_text(text)
    return str(path)


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_chain_on_a_deep_net_counts_its_paths_and_shows_the_delta_form(tmp_path, capsys):
    # a 2-wide, 25-deep net: 2^24 paths to w1 (was: minutes and gigabytes expanding them all)
    spec = write(tmp_path, [2] * 26, ["sigmoid"] * 25)
    status, out, _ = run(capsys, "chain", spec, "w1")
    assert status == 0 and out.startswith(f"{2 ** 24} paths from E_total to w1: more than {MAX_PATHS}")
    status, out, _ = run(capsys, "chain", spec, "w1", "--json")
    obj = strict(out)
    assert obj["path_count"] == 2 ** 24 and len(obj["paths"]) == MAX_PATHS
    status, out, _ = run(capsys, "latex", spec, "w1")
    assert status == 0 and f"{2 ** 24} paths, over {MAX_PATHS}" in out


def test_chain_json_counts_paths_of_a_small_net(capsys):
    # mazur 2-2-2: w1 reaches E_total through o1 and o2 (the notes' two paths)
    status, out, _ = run(capsys, "chain", str(EXAMPLES / "mazur_2_2_2.toml"), "w1", "--json")
    obj = strict(out)
    assert obj["path_count"] == 2 == len(obj["paths"])


def test_check_numeric_json_on_a_relu_net_is_strict_json(tmp_path, capsys):
    # was a half-written object and TypeError: Object of type bool_ is not JSON serializable
    spec = write(tmp_path, [2, 2, 1], ["relu", "sigmoid"], weights=[0.3, -0.4, 0.2, 0.5, 0.6, -0.1])
    status, out, _ = run(capsys, "check", spec, "--numeric", "--json")
    assert status in (0, 1)
    assert isinstance(strict(out)["numeric"]["params"]["w1"]["ok"], bool)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_check_numeric_past_the_dtype_is_one_line(tmp_path, capsys, dtype):
    spec = write(tmp_path, [1, 1], ["identity"], inputs=[1e200 if dtype == "float64" else 1e30], weights=[1e10])
    status, out, err = run(capsys, "check", spec, "--numeric", "--json", "--dtype", dtype)
    assert status == 2 and out == "" and f"stay finite in {dtype}" in err and err.count("\n") == 1


def test_emit_json_converts_numpy_and_non_finite_numbers(capsys):
    import numpy as np
    from derive.cli.common import emit_json
    emit_json({"a": np.float32(0.5), "b": [np.int64(3), math.inf], "c": np.bool_(True), "d": np.array([np.nan])})
    obj = strict(capsys.readouterr().out)
    assert obj == {"a": 0.5, "b": [3, None], "c": True, "d": [None], "non_finite": ["b[1]", "d[0]"]}


@pytest.mark.parametrize("argv, says", [
    (["sweep", "{spec}", "--copies", "3", "--scale", "1e308"], "--scale"),
    (["sweep", "{spec}", "--copies", "1000000000"], "--copies: expected at most"),
    (["sweep", "{spec}", "--lr", "0.1:0.2:1000000000"], "--lr: expected at most"),
    (["train", "{spec}", "--epochs", "1000000000000"], "epochs: expected at most"),
])
def test_extreme_options_are_one_line(tmp_path, capsys, argv, says):
    spec = write(tmp_path, [1, 1], ["sigmoid"])
    status, out, err = run(capsys, *[a.format(spec=spec) for a in argv])
    assert status == 2 and says in err and err.count("\n") == 1


def test_fit_ymax_nan(capsys):
    status, _, err = run(capsys, "fit", str(EXAMPLES / "file001_neuron.toml"), "--plot", "x.png", "--ymax", "nan")
    assert status == 2 and "--ymax" in err


def test_error_lines_are_short_and_single(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('title = 1\n"' + "k\\n" * 100_000 + '" = 1\n')
    status, out, err = run(capsys, "gradients", str(path))
    assert status == 2 and err.count("\n") == 1 and len(err) < 700


def test_notes_on_a_deep_net_counts_paths_never_lists_them(tmp_path, capsys, monkeypatch):
    # notes counted paths with len(d.paths): 2^23 of them listed (minutes, gigabytes)
    from derive.core.derivation import Derivation
    listed = Derivation.paths

    def guarded(self):
        assert self.path_count <= MAX_PATHS, f"{self.path_count} paths listed"
        return listed.func(self)
    monkeypatch.setattr(Derivation, "paths", property(guarded))
    spec = write(tmp_path, [2] * 26, ["sigmoid"] * 25)
    for out in ("deep.md", "deep.tex"):
        status, _, _ = run(capsys, "notes", spec, "-o", str(tmp_path / out))
        assert status == 0 and (tmp_path / out).read_text().count("paths: too many to print") >= 1
