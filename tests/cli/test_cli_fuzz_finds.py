"""What the fuzz campaign (scripts/fuzz.py) found through the command line, each as its reproducer."""

import pytest

from derive.cli import main

MAZUR = """
[network]
layers = [2, 2, 2]
activations = ["sigmoid", "sigmoid"]
[values]
inputs = [0.05, 0.10]
targets = [0.01, 0.99]
weights = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
biases = [0.35, 0.60]
learning_rate = 0.5
"""


@pytest.mark.parametrize("command", [["gradients"], ["check", "--numeric", "--json"], ["train", "--epochs", "2"]])
def test_an_integer_past_pythons_digit_limit_is_one_line(tmp_path, capsys, command):
    """The unusual-pair warning read the spec before the command and let ValueError (4300 digits) escape."""
    spec = tmp_path / "s.toml"
    spec.write_text(MAZUR.replace("learning_rate = 0.5", "learning_rate = " + "9" * 5000))
    assert main([command[0], str(spec), *command[1:]]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("derive: ") and "4300 digits" in err and "Traceback" not in err


def test_check_code_on_a_spec_with_a_huge_integer_is_one_line(tmp_path, capsys, examples):
    """cli0953 (seed 2): the fit-spec sniffing that check-code shares with notes let the 4300-digit
    ValueError escape."""
    spec = tmp_path / "s.toml"
    spec.write_text(MAZUR.replace("learning_rate = 0.5", "learning_rate = " + "9" * 5000))
    code = f"{examples / 'notes_000_neural_network.py'}:gradients"
    for argv in (["check-code", str(spec), code], ["notes", str(spec), "-o", str(tmp_path / "n.md")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err and "4300 digits" in err


def test_sweep_with_a_negative_seed_is_one_line(tmp_path, capsys, examples):
    """cli1039 (seed 2): --seed -1 reached NumPy's SeedSequence (ValueError: expected non-negative integer)."""
    assert main(["sweep", str(examples / "wikidocs_2_2_2.toml"), "--copies", "3", "--epochs", "3",
                 "--seed", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seed" in err and ">= 0" in err


@pytest.mark.parametrize("answer", [[0.5], "0.5", None, True, {"x": 1}])
def test_grade_with_a_key_whose_answer_is_not_a_number_is_one_line(tmp_path, capsys, examples, answer):
    """cli1363 (seed 2): a key.json answer that is a list reached float() (TypeError)."""
    import json
    assert main(["exercise", str(examples / "mazur_2_2_2.toml"), "--students", "1", "--seed", "1", "-o",
                 str(tmp_path), "--no-pdf"]) == 0
    key = json.loads((tmp_path / "key.json").read_text())
    key["students"][0]["answers"]["net_h1"] = answer
    (tmp_path / "key.json").write_text(json.dumps(key))
    (tmp_path / "a.csv").write_text("student,key,answer\n01,net_h1,0.1722\n")
    capsys.readouterr()
    assert main(["grade", str(tmp_path / "key.json"), str(tmp_path / "a.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "answers.net_h1" in err and "a finite number" in err


@pytest.mark.parametrize("spec, target, form", [
    ("mazur_2_2_2.toml", "notes_000_neural_network.py:gradients", []),
    ("file001_dual_layer.toml", "notes_001_dual_layer.py:gradients", ["--form", "matrices"]),
])
def test_check_code_points_past_the_limit_are_one_line(capsys, examples, spec, target, form):
    """cli0098 (seed 3): --points 100000000 drew and compared 10^8 points (a hang); the documented limit
    (derive.core.limits.MAX_POINTS) was not applied."""
    from derive.core.limits import MAX_POINTS
    assert main(["check-code", str(examples / spec), str(examples / target), *form,
                 "--points", str(10**8)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"at most {MAX_POINTS}" in err


DEEP_1_INPUT = """
[network]
layers = [1, 2, 1, 2]
activations = ["sigmoid", "sigmoid", "softmax"]
loss = "cross_entropy"
bias = "shared"
notation = "z-h-o"
[values]
inputs = [1.651]
targets = [1.0, 0.0]
weights = [-0.983, -0.581, 1.94, 1.509, -1.439, -0.944]
biases = [1.843, -1.066, -1.617]
learning_rate = 0.01
"""


def test_exercise_gives_up_drawing_in_bounded_time_with_one_line(tmp_path, capsys, monkeypatch):
    """cli0762 (seed 3): a net whose ∂E/∂w1 stays under 10^-3 in most draws made exercise try its 5,000
    draws (over 40 s on a loaded machine). The draws stop after DRAW_SECONDS per student (0 here)."""
    from derive.check import exercise
    monkeypatch.setattr(exercise, "DRAW_SECONDS", 0.0)
    spec = tmp_path / "s.toml"
    spec.write_text(DEEP_1_INPUT)
    assert main(["exercise", str(spec), "--students", "1", "--seed", "9", "-o", str(tmp_path / "x"), "--no-pdf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no readable values for student 1 within 0 s (0 draws" in err
    assert not (tmp_path / "x" / "key.json").exists()
