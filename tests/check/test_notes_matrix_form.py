"""The notes' classes (files 000 and 001) checked through `--form matrices` with four-line adapters:
the same verdicts, the same numbers and the same diagnoses as their dict adapters (docs/check-code.md)."""

import sys
from pathlib import Path

import pytest

import derive
from derive.check.user_code.dataset import check_dataset
from derive.core.fitspec import load_fit_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"
sys.path.insert(0, str(EXAMPLES))
import notes_000_neural_network as n000  # noqa: E402
import notes_000_neural_network_fixed as n000_fixed  # noqa: E402
import notes_001_dual_layer as dual  # noqa: E402
import notes_001_multiclass as multi  # noqa: E402

CASES = [("mazur_2_2_2.toml", n000, "out_in", False, ["derivative-in-forward"]),
         ("mazur_2_2_2.toml", n000_fixed, "out_in", True, []),
         ("dual_layer_2_2_1.toml", dual, "in_out", True, []),
         ("multiclass_2_2_3.toml", multi, "in_out", False, ["bias-wrong-axis"])]


@pytest.mark.parametrize("spec, module, orientation, agree, mistakes", CASES)
def test_same_verdict_as_the_dict_adapter(spec, module, orientation, agree, mistakes):
    net = derive.load(EXAMPLES / spec)
    by_dict = derive.check_gradients(net, module.gradients, points=5)
    by_matrices = derive.check_gradients(net, module.matrices, form="matrices", orientation=orientation, points=5)
    assert by_dict.agree == by_matrices.agree == agree
    assert [m.mistake.name for m in by_matrices.mistakes] == [m.mistake.name for m in by_dict.mistakes] == mistakes
    assert set(by_dict.params) == set(by_matrices.params)
    for name, check in by_dict.params.items():
        assert by_matrices.params[name].got == pytest.approx(check.got, rel=1e-12, abs=1e-17)


def test_file_000_numbers_as_the_docs_print_them():
    report = derive.check_gradients(derive.load(EXAMPLES / "mazur_2_2_2.toml"), n000.matrices, form="matrices")
    assert report.params["w1"].got == pytest.approx(-0.000702943, abs=1e-9)
    assert report.params["w8"].got == pytest.approx(-0.085325322, abs=1e-9)


def test_the_multiclass_class_on_digits_batches():
    """file 001's class on the 64-100-10 digits spec: b2 never learns (bias-wrong-axis); the fixed class agrees."""
    fit = load_fit_spec(EXAMPLES / "file001_digits_multiclass.toml")
    report = check_dataset(fit, multi.matrices, orientation="in_out", batch=100)
    assert not report.agree and set(report.disagreeing) == {f"b{i}" for i in range(101, 111)}
    assert [(m.mistake.name, m.where) for m in report.mistakes] == [("bias-wrong-axis", "output layer 2")]
    assert check_dataset(fit, multi.fixed_matrices, orientation="in_out", batch=100).agree
