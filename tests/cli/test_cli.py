"""The command line: output for a person, the --json contract, one line and exit 2 on bad input."""

import json
import subprocess
import sys

import pytest

from derive.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "derive", *map(str, args)], capture_output=True, text=True)


def test_gradients_text_shows_the_notes_numbers(examples):
    done = run("gradients", examples / "mazur_2_2_2.toml")
    assert done.returncode == 0
    assert "E_total = 0.298371109" in done.stdout
    assert "0.082167041" in done.stdout and "0.358916480" in done.stdout


def test_gradients_json_contract(examples, capsys):
    assert main(["gradients", str(examples / "mazur_2_2_2.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"loss", "outputs", "values", "gradients", "updated"}
    assert data["values"]["out_h1"] == pytest.approx(0.593269992, abs=1e-9)
    assert data["updated"]["w5"] == pytest.approx(0.358916480, abs=1e-9)
    assert "b1" not in data["gradients"]


def test_chain_json_gives_the_two_paths(examples, capsys):
    assert main(["chain", str(examples / "mazur_2_2_2.toml"), "w1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["param"] == "w1" and len(data["paths"]) == 2
    assert all(len(p) == 5 for p in data["paths"])
    assert data["paths"][1][0] == ["E_o2", "out_o2"] and data["paths"][0][-1] == ["net_h1", "w1"]


def test_chain_text_sums_the_paths(examples):
    done = run("chain", examples / "mazur_2_2_2.toml", "w1")
    assert "∂E_o1/∂out_o1 · ∂out_o1/∂net_o1" in done.stdout
    assert "= 0.000438568" in done.stdout


@pytest.mark.parametrize("content, message", [
    ("not toml [", "(toml)"),
    ('[network]\nlayers = [2, 2]\nactivations = ["sigmoud"]\n', "network.activations[0]"),
    ('[network]\nlayers = [1, 1]\nactivations = ["identity"]\n[values]\ninputs = [nan]\ntargets=[1]\nweights=[1]\nbiases=[1]\n',
     "values.inputs[0]: expected a finite number"),
])
def test_bad_spec_exits_2_with_one_line(tmp_path, content, message):
    spec = tmp_path / "bad.toml"
    spec.write_text(content)
    done = run("gradients", spec)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "bad.toml" in lines[0]
    assert "Traceback" not in done.stderr


def test_unknown_param_exits_2_naming_the_file(examples):
    done = run("chain", examples / "mazur_2_2_2.toml", "w9")
    assert done.returncode == 2 and "mazur_2_2_2.toml" in done.stderr and "w9" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_missing_file_exits_2(tmp_path):
    done = run("gradients", tmp_path / "nope.toml")
    assert done.returncode == 2 and "nope.toml" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_chain_prove_reports_proofs(examples, capsys):
    assert main(["chain", str(examples / "seven_2_2_2.toml"), "w1", "--prove", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    proof = data["proofs"]["delta form = diff"]
    assert proof["holds"] is True and proof["method"] == "structural"
    assert "local derivatives = sympy.diff of their definitions" in proof["detail"]
    assert data["proofs"]["path sum = diff"]["holds"] is True


# --- issue 11: --version, a description per command, unusual activation/loss pairs -------------------

def test_version(capsys):
    import derive as package
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"derive {package.__version__}"


def test_every_command_help_opens_with_a_description():
    from derive.cli import build_parser
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, page in sub.choices.items():
        assert page.description and "\n" not in page.description.strip(), name
        assert " ".join(page.format_help().split("\n\n")[1].split()) == " ".join(page.description.split())


@pytest.mark.parametrize("act, loss, meant", [("sigmoid", "cross_entropy", "bce"), ("softmax", "half_sse", "cross_entropy"),
                                              ("sigmoid", "bce", None), ("softmax", "cross_entropy", None),
                                              ("sigmoid", "half_sse", None)])
def test_an_unusual_pair_warns_and_still_runs(tmp_path, capsys, act, loss, meant):
    spec = tmp_path / "net.toml"
    spec.write_text(f'[network]\nlayers = [2, 2]\nactivations = ["{act}"]\nloss = "{loss}"\nbias = "none"\n'
                    '[values]\ninputs = [0.5, 0.1]\ntargets = [1.0, 0.0]\nweights = [0.1, 0.2, 0.3, 0.4]\n')
    assert main(["gradients", str(spec)]) == 0
    err = capsys.readouterr().err
    if meant:
        assert err.count("\n") == 1 and "warning" in err and f"loss = {meant!r} is the usual pair" in err
    else:
        assert err == ""
