"""Whole documents and the two commands: what they contain, how they write files, and that pdflatex
compiles every worked example's document (marked `latex`; skipped where pdflatex is missing)."""

import os
import re
from pathlib import Path

import pytest

import derive
from derive.cli import main
from derive.render.latex import markdown, tex, write
from derive.core.primitives import ACTIVATIONS, LOSSES
from derive.render.latex.document import OutputExists
from derive.render.latex.identities import IDENTITIES, SHOWN_WITH, WITH_LOSS, identity_names
from pdflatex import INSTALL, assert_compiles, needs_pdflatex

ROOT = Path(__file__).resolve().parents[2]


def _is_network_spec(path: Path) -> bool:
    """Network specs (not the fit specs of file 001, which describe a data set and a training run)."""
    import tomllib
    return "data" not in tomllib.loads(path.read_text(encoding="utf-8"))


EXAMPLES = [p for p in sorted((ROOT / "worked_examples").glob("*.toml")) if _is_network_spec(p)]


def example(name):
    return ROOT / "worked_examples" / f"{name}.toml"


@pytest.fixture(scope="module")
def mazur_f_tex():
    """The exhaustive document (--full): every parameter's whole derivation."""
    return tex(derive.load(example("mazur_2_2_2_F")), full=True)


@pytest.fixture(scope="module")
def mazur_compact_tex():
    return tex(derive.load(example("mazur_2_2_2")))


def test_document_has_every_part(mazur_f_tex):
    for part in (r"\begin{tikzpicture}", "Forward pass", "Error", "Every derivative by the chain rule",
                 "After one update", "The sigmoid's derivative", r"\end{document}"):
        assert part in mazur_f_tex, part


@pytest.mark.parametrize("n", range(1, 9))
def test_document_has_all_eight_derivations_of_file_000(mazur_f_tex, n):
    assert rf"\frac{{\partial F_{{t}}}}{{\partial w_{{{n}}}}} &= \frac{{\partial F_{{o" in mazur_f_tex


@pytest.mark.parametrize("edge", [r"$w_{1} = 0.15$", r"$w_{5} = 0.4$", r"$w_{8} = 0.55$", r"$b_{2} = 0.6$"])
def test_figure_puts_the_weights_on_the_edges(mazur_f_tex, edge):
    figure = mazur_f_tex.split(r"\begin{tikzpicture}")[1].split(r"\end{tikzpicture}")[0]
    assert edge in figure


def test_forward_pass_with_numbers(mazur_f_tex):
    assert (r"\mathit{net}_{h1} &= w_{1} \cdot i_{1} + w_{2} \cdot i_{2} + b_{1} \cdot 1 \\" "\n"
            r" &= 0.15 \times 0.05 + 0.2 \times 0.1 + 0.35 \times 1 = 0.378") in mazur_f_tex
    assert r"F_{t} &= F_{o1} + F_{o2}" in mazur_f_tex


def test_compact_document_derives_one_parameter_of_each_kind_in_full(mazur_compact_tex):
    """w5 (output layer), w1 (hidden layer) and b2 (biases) get a chain; the others only a table row."""
    chains = [n for n in range(1, 9) if rf"\frac{{\partial E_{{\mathit{{total}}}}}}{{\partial w_{{{n}}}}} &= "
              rf"\frac{{\partial E_{{o" in mazur_compact_tex]
    assert chains == [1, 5]
    assert r"\frac{\partial E_{\mathit{total}}}{\partial b_{2}} &= \frac{\partial E_{o" in mazur_compact_tex
    assert r"\frac{\partial E_{\mathit{total}}}{\partial b_{1}} &= \frac{\partial E_{o" not in mazur_compact_tex
    assert mazur_compact_tex.count(r"\begin{longtable}") == 3        # output weights, hidden weights, biases


@pytest.mark.parametrize("row", [
    # w2: δ_net_h1 · i2 = 0.00877 × 0.1 = 0.000877, w2⁺ = 0.2 − 0.5 × 0.000877 = 0.1996 (Mazur's 0.19956143)
    r"$w_{2}$ & $\delta_{\mathit{net}_{h1}} \cdot i_{2}$ & $0.00877 \times 0.1$ & $0.000877$ & $0.1996$ \\",
    # w6: δ_net_o1 · out_h2 = 0.138 × 0.597 = 0.0827 (= (0.45 − 0.408666186)/0.5), w6⁺ = 0.409 (Mazur's 0.408666186)
    r"$w_{6}$ & $\delta_{\mathit{net}_{o1}} \cdot \mathit{out}_{h2}$ & $0.138 \times 0.597$ & $0.0827$ & $0.409$ \\",
    r"$b_{1}$ & $\delta_{\mathit{net}_{h1}} + \delta_{\mathit{net}_{h2}}$ & $0.00877 + 0.00995$ & $0.0187$ & $\text{not trained}$",
])
def test_compact_tables_give_every_parameter_of_a_kind(mazur_compact_tex, row):
    assert row in mazur_compact_tex


def test_the_delta_terms_are_named_and_defined(mazur_compact_tex):
    """δ_o1 = ∂E/∂net_o1 = ∂E/∂out_o1 · out_o1(1 − out_o1) = 0.741 × 0.751 × 0.249 = 0.138 (Mazur: 0.74136507 ×
    0.186815602); ∂E/∂out_h1 = δ_o1·w5 + δ_o2·w7 (Mazur: 0.036350306 = 0.138498562·0.4 − 0.038098236·0.5)."""
    E = r"\frac{\partial E_{\mathit{total}}}"
    assert (E + r"{\partial \mathit{out}_{o1}} &= - (\mathit{target}_{o1} - \mathit{out}_{o1}) \\" "\n"
            r" &= - (0.01 - 0.751) = 0.741") in mazur_compact_tex
    assert (r"\delta_{\mathit{net}_{o1}} &= " + E + r"{\partial \mathit{net}_{o1}} = " + E
            + r"{\partial \mathit{out}_{o1}} \cdot \mathit{out}_{o1} \cdot \left(1 - \mathit{out}_{o1}\right) \\" "\n"
            r" &= 0.741 \times 0.751 \times \left(1 - 0.751\right) = 0.138") in mazur_compact_tex
    assert (E + r"{\partial \mathit{out}_{h1}} &= \delta_{\mathit{net}_{o1}} \cdot w_{5} + \delta_{\mathit{net}_{o2}} \cdot w_{7}"
            r" \\" "\n" r" &= 0.138 \times 0.4 + \left(-0.0381\right) \times 0.5 = 0.0364") in mazur_compact_tex
    assert (E + r"{\partial w_{1}} &= \delta_{\mathit{net}_{h1}} \cdot "
            r"\frac{\partial \mathit{net}_{h1}}{\partial w_{1}}") in mazur_compact_tex


def test_after_one_update_uses_the_documents_digits(mazur_compact_tex):
    summary = mazur_compact_tex.split("After one update")[1]
    assert r"w_{1}^{+} &= 0.1498" in summary and r"w_{5}^{+} &= 0.359" in summary   # Mazur: 0.149780716, 0.35891648
    assert "0.149780716" not in summary


def test_z_h_o_document_writes_the_sigmoid_in_its_own_names():
    text = tex(derive.load(example("wikidocs_2_2_2")))
    assert "The sigmoid's derivative (file 000)" not in text and "The sigmoid's derivative" in text
    assert r"\frac{d\,o}{dz} &= \frac{d}{d z} \frac{1}{1 + e^{- z}}" in text
    assert r"\mathit{out}" not in text


def test_seven_writes_lr_upright():
    text = tex(derive.load(example("seven_2_1")))
    assert r"\mathrm{lr}" in text and r"\mathit{lr}" not in text


@pytest.mark.latex
@needs_pdflatex
@pytest.mark.parametrize("spec, most", [("mazur_2_2_2", 6), ("tanh_softmax_3_4_2", 12)])
def test_compact_documents_are_short(tmp_path, spec, most):
    """Mazur's 2-2-2 in at most 6 pages (11 in full), a 3-4-2 tanh/softmax net in at most 12 (33 in full)."""
    out = tmp_path / f"{spec}.tex"
    assert main(["notes", str(example(spec)), "-o", str(out)]) == 0
    assert_compiles(out)
    log = out.with_suffix(".log").read_text(errors="replace")
    pages = int(re.search(r"Output written on .*? \((\d+) pages?", log).group(1))
    assert pages <= most


def test_notes_full_keeps_every_derivation(tmp_path):
    out = tmp_path / "m.tex"
    assert main(["notes", str(example("mazur_2_2_2")), "-o", str(out), "--full"]) == 0
    text = out.read_text()
    assert all(rf"\partial w_{{{n}}}}} &= \frac{{\partial E_{{o" in text for n in range(1, 9))
    assert r"\begin{longtable}" not in text


def test_linear_documents_carry_the_seven_formula_sheet():
    text = tex(derive.load(example("seven_2_1")))
    assert "The seven formulas (file 004)" in text
    assert r"\text{proved by SymPy}" in text and "NOT PROVED" not in text


def test_markdown_uses_dollar_blocks():
    text = markdown(derive.load(example("wikidocs_2_2_2")))
    assert text.count("$$") % 2 == 0 and text.count("$$") > 20
    assert r"\begin{align*}" not in text and r"\begin{aligned}" in text
    assert "| w5 | h1 | o1 | 0.45 |" in text        # the figure's weights as a table


# --- writing files -------------------------------------------------------------------------------

def test_write_never_overwrites_without_force(tmp_path):
    out = tmp_path / "a.tex"
    out.write_text("mine")
    with pytest.raises(OutputExists):
        write(out, "theirs")
    assert out.read_text() == "mine"
    write(out, "theirs", force=True)
    assert out.read_text() == "theirs"


def test_write_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "a.tex"
    out.write_text("mine")

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write(out, "theirs", force=True)
    assert out.read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["a.tex"]     # no temporary file left behind


def test_notes_command_writes_tex_and_md(tmp_path, capsys):
    assert main(["notes", str(example("seven_1_1")), "-o", str(tmp_path / "s.tex")]) == 0
    assert main(["notes", str(example("seven_1_1")), "-o", str(tmp_path / "s.md")]) == 0
    assert (tmp_path / "s.tex").read_text().startswith(r"\documentclass")
    assert (tmp_path / "s.md").read_text().startswith("# 1-1 linear neuron")


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}/x.txt"], "-o: expected a file name ending in .tex or .md"),
    (["-o", "{tmp}/exists.tex"], "exists; pass --force to overwrite it"),
    (["-o", "{tmp}/x.md", "--pdf"], "--pdf: needs -o FILE.tex"),
    (["-o", "{tmp}/x.tex", "--digits", "40"], "--digits: expected a whole number from 1 to 15"),
    (["-o", "{tmp}/nodir/x.tex"], "-o: expected a file in an existing directory"),
])
def test_notes_bad_options_exit_2_with_one_line(tmp_path, capsys, args, message):
    (tmp_path / "exists.tex").write_text("mine")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["notes", str(example("seven_1_1")), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert (tmp_path / "exists.tex").read_text() == "mine"


def test_pdf_without_pdflatex_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))          # no pdflatex on this PATH
    assert main(["notes", str(example("seven_1_1")), "-o", str(tmp_path / "s.tex"), "--pdf"]) == 2
    err = capsys.readouterr().err
    assert INSTALL in err and err.count("\n") == 1
    assert not (tmp_path / "s.tex").exists()


@pytest.mark.parametrize("args, expected", [
    (["wikidocs_2_2_2", "w5", "--steps", "numbers"], r"= 0.209 \times 0.238 \times 0.520 = 0.0259"),
    (["wikidocs_2_2_2", "w5", "--steps", "update"], r"= 0.45 - 0.5 \times 0.0259 = 0.437"),
    (["mazur_2_2_2", "w5", "--steps", "chain", "--error-letter", "F"], r"\frac{\partial F_{t}}{\partial w_{5}}"),
    (["mazur_2_2_2", "w5", "--steps", "chain"], r"\frac{\partial E_{\mathit{total}}}{\partial w_{5}}"),
    (["seven_1_1", "--sheet"], r"w' &= w - \mathrm{lr} \cdot w_{E} = 3 - 0.01 \times \left(-6\right) = 3.06"),
    (["seven_1_1", "w1", "--markdown"], r"\begin{aligned}"),
])
def test_latex_command(capsys, args, expected):
    assert main(["latex", str(example(args[0])), *args[1:]]) == 0
    assert expected in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["mazur_2_2_2", "w9"], "PARAM: expected a parameter of this network"),
    (["mazur_2_2_2", "--steps", "chain,proof"], "--steps: expected a comma-separated list"),
    (["mazur_2_2_2", "--sheet"], "7-formula sheets are for linear networks"),
])
def test_latex_command_bad_input(capsys, args, message):
    assert main(["latex", str(example(args[0])), *args[1:]]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# --- pdflatex ------------------------------------------------------------------------------------

@pytest.mark.latex
@needs_pdflatex
@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_worked_example_compiles(tmp_path, spec):
    """pdflatex compiles the document with no error and nothing wider than the page."""
    out = tmp_path / f"{spec.stem}.tex"
    assert main(["notes", str(spec), "-o", str(out)]) == 0
    assert_compiles(out)


@pytest.mark.latex
@needs_pdflatex
def test_notes_pdf_option(tmp_path, capsys):
    out = tmp_path / "m.tex"
    assert main(["notes", str(example("wikidocs_2_2_2")), "-o", str(out), "--pdf"]) == 0
    assert (tmp_path / "m.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pdf", "m.tex"]   # no scratch files left
    assert main(["notes", str(example("wikidocs_2_2_2")), "-o", str(out), "--pdf"]) == 2


WIDE_AND_DEEP = {
    "wide linear 5-6 (seven)": dict(layers=[5, 6], activations=["identity"], notation="seven", bias="per_neuron"),
    "deep 2-5-5-5-2": dict(layers=[2, 5, 5, 5, 2], activations=["tanh", "sigmoid", "relu", "sigmoid"],
                          notation="net-out", bias="shared"),
}


@pytest.mark.latex
@needs_pdflatex
@pytest.mark.parametrize("name", sorted(WIDE_AND_DEEP))
def test_wide_and_deep_networks_stay_on_the_page(tmp_path, name):
    """Sums over wide layers and long paths break over lines: pdflatex reports nothing too wide."""
    import random
    kw = dict(WIDE_AND_DEEP[name])
    layers, rng = kw.pop("layers"), random.Random(1)
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    n_b = sum(layers[1:]) if kw["bias"] == "per_neuron" else len(layers) - 1
    net = derive.network(layers, kw.pop("activations"), inputs=[rng.uniform(-1, 1) for _ in range(layers[0])],
                         targets=[rng.uniform(0.1, 0.9) for _ in range(layers[-1])],
                         weights=[rng.uniform(-1, 1) for _ in range(n_w)], biases=[0.1] * n_b,
                         learning_rate=0.1, **kw)
    (tmp_path / "net.tex").write_text(tex(net))
    assert_compiles(tmp_path / "net.tex")


# --- the registry's newer activations: leaky_relu and softplus ------------------------------------

def new_activation_net(activations):
    return derive.network([2, 2, 2], activations, inputs=[0.5, -0.3], targets=[0.7, 0.2],
                          weights=[0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8], biases=[0.1, -0.2, 0.3, 0.1],
                          learning_rate=0.1)


NEW_ACTIVATION_NETS = {"leaky_relu-sigmoid": ["leaky_relu", "sigmoid"], "softplus-leaky_relu": ["softplus", "leaky_relu"],
                       "relu-softplus": ["relu", "softplus"]}


@pytest.mark.parametrize("name", sorted(NEW_ACTIVATION_NETS))
def test_documents_for_the_new_activations(name):
    acts = NEW_ACTIVATION_NETS[name]
    text, md = tex(new_activation_net(acts)), markdown(new_activation_net(acts))
    description = text.split(r"\section*{The network}")[1].split(r"\begin{center}")[0]
    assert "_" not in description                      # a bare _ in text mode stops pdflatex
    assert f"activations {acts[0].replace('_', ' ')}, {acts[1].replace('_', ' ')};" in description
    assert ("The softplus derivative" in text) == ("softplus" in acts)
    assert ("The sigmoid's derivative" in text) == ("sigmoid" in acts)
    assert "The seven formulas" not in text
    assert md.count("$$") % 2 == 0 and "Forward pass" in md


def test_leaky_relu_forward_pass_shows_both_branches():
    text = tex(new_activation_net(["leaky_relu", "sigmoid"]))
    # net_h2 = w3·i1 + w4·i2 + b2 = −0.3·0.5 + 0.4·(−0.3) − 0.2 = −0.47 < 0, so out_h2 = 0.01·net_h2
    assert r"\mathit{out}_{h2} &= \begin{cases}" in text and "= -0.0047" in text


@pytest.mark.parametrize("activations, loss, expected", [
    (["sigmoid", "sigmoid"], "half_sse", ["sigmoid"]),
    (["tanh", "sigmoid"], "mse", ["tanh", "sigmoid"]),
    (["sigmoid", "softmax"], "cross_entropy", ["sigmoid", "softmax", "softmax_offdiagonal", "softmax_cross_entropy"]),
    (["sigmoid", "softmax"], "half_sse", ["sigmoid", "softmax", "softmax_offdiagonal"]),
    (["softplus", "softplus"], "mse", ["softplus"]),
    (["relu", "leaky_relu", "identity"], "half_sse", []),
])
def test_the_identities_a_document_shows(activations, loss, expected):
    assert identity_names(activations, loss) == expected


def test_every_identity_is_shown_for_some_network():
    reachable = {a for a in IDENTITIES if a in ACTIVATIONS}
    reachable |= {n for names in SHOWN_WITH.values() for n in names}
    reachable |= {n for names in WITH_LOSS.values() for n in names}
    assert reachable == set(IDENTITIES)
    assert set(SHOWN_WITH) <= set(IDENTITIES) and all(a in ACTIVATIONS and l in LOSSES for a, l in WITH_LOSS)


@pytest.mark.latex
@needs_pdflatex
@pytest.mark.parametrize("name", sorted(NEW_ACTIVATION_NETS))
def test_documents_for_the_new_activations_compile(tmp_path, name):
    (tmp_path / "net.tex").write_text(tex(new_activation_net(NEW_ACTIVATION_NETS[name])))
    assert_compiles(tmp_path / "net.tex")


def test_markdown_tables_for_the_compact_form():
    """File 003: ∂E_total/∂w5 = 0.0259 and w5⁺ = 0.437, here as a row of the output weights' table."""
    text = markdown(derive.load(example("wikidocs_2_2_2")))
    assert r"| $w_{5}$ | $\delta_{z_{3}} \cdot h_{1}$ | $0.0499 \times 0.520$ | $0.0259$ | $0.437$ |" in text
