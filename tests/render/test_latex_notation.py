"""LaTeX in notations from outside the notes: golden derivations in Nielsen's and in a spec's (Bishop's) notation,
and whole documents in them that pdflatex compiles. The golden files were read against the books' notations."""

import json
from pathlib import Path

import pytest

from derive.cli import main
from derive.render.latex import latex_name
from derive.render.latex.names import style_of
from pdflatex import assert_compiles, needs_pdflatex

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name, expected", [
    ("a2_1", "a^{2}_{1}"), ("z3_2", "z^{3}_{2}"), ("a1_1", "a^{1}_{1}"), ("w3_2_1", "w^{3}_{{2}{1}}"),
    ("b2_1", "b^{2}_{1}"), ("delta3_1", r"\delta^{3}_{1}"), ("C", "C"), ("y2", "y_{2}"),
    ("delta_a2_1", r"\delta_{a^{2}_{1}}"),
])
def test_nielsen_names(name, expected):
    assert latex_name(name, "nielsen") == expected


def test_nielsen_writes_eta():
    assert style_of("nielsen").learning_rate == r"\eta"


@pytest.mark.parametrize("example, args, golden", [
    ("nielsen_2_2_2.toml", ["w5"], "nielsen_w5.tex"),
    ("nielsen_2_2_2.toml", ["w1", "--steps", "chain"], "nielsen_w1_chain.tex"),
    ("bishop_2_2_2.toml", ["w5"], "bishop_w5.tex"),
    ("bishop_2_2_2.toml", ["w1", "--steps", "chain"], "bishop_w1_chain.tex"),
])
def test_golden_latex(examples, capsys, example, args, golden):
    assert main(["latex", str(examples / example), *args]) == 0
    assert capsys.readouterr().out == (GOLDEN / golden).read_text()


def test_golden_comparison_can_fail(examples, capsys):
    assert main(["latex", str(examples / "mazur_2_2_2.toml"), "w5"]) == 0
    assert capsys.readouterr().out != (GOLDEN / "nielsen_w5.tex").read_text()


@needs_pdflatex
@pytest.mark.parametrize("example, fragment", [("nielsen_2_2_2.toml", r"a^{2}_{1} &= \frac{1}{1 + e^{- z^{2}_{1}}}"),
                                               ("bishop_2_2_2.toml", r"z^{({1})}_{1} &= \frac{1}{1 + e^{- a^{({1})}_{1}}}")])
def test_notes_in_other_notations_compile(examples, tmp_path, example, fragment):
    out = tmp_path / "notes.tex"
    assert main(["notes", str(examples / example), "-o", str(out)]) == 0
    assert fragment in out.read_text()
    assert_compiles(out)


def test_gradients_json_in_nielsen(examples, capsys):
    assert main(["gradients", str(examples / "nielsen_2_2_2.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["values"]["a2_1"] == pytest.approx(0.593269992, abs=1e-9)
    assert data["values"]["C"] == pytest.approx(0.298371109, abs=1e-9)
    assert data["values"]["delta3_1"] == pytest.approx(0.138498562, abs=1e-9)


def test_the_golden_numbers_are_mazurs_published_ones():
    """The golden files hold more than derive's own output: their numbers are Mazur's worked example
    (∂E/∂out_o1 = 0.74136507, ∂out/∂net = 0.186815602, out_h1 = 0.593269992, ∂E/∂w5 = 0.082167041,
    w5+ = 0.35891648), rounded to the document's 3 significant digits."""
    text = (GOLDEN / "nielsen_w5.tex").read_text()
    for published in ("= 0.741", "= 0.187", "= 0.593", "= 0.0822", "= 0.359"):
        assert published in text
