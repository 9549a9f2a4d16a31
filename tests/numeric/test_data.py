"""Data sets and fit specs: the notes' preparation, and every bad fit spec refused with one clear error."""

import builtins

import numpy as np
import pytest

from derive.numeric.data import DATASETS, MissingExtra, prepare
from derive.errors import SpecError
from derive.core.fitspec import DataSettings, fit_spec_from_dict, is_fit_spec, load_fit_spec

sklearn_datasets = pytest.importorskip("sklearn.datasets", reason="needs the data extra: pip install -e '.[data]'")


def test_breast_cancer_split_and_scaling_as_the_notes():
    data = prepare(DataSettings("breast_cancer", test_size=0.2, random_state=0, scale="standard"))
    assert data.X_train.shape == (455, 30) and data.X_test.shape == (114, 30)   # the notes print these shapes
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1, atol=1e-12)
    assert abs(data.X_test.mean()) > 1e-3          # the test part is scaled with the training statistics
    assert data.Y_train.shape == (455, 1) and set(np.unique(data.Y_train)) == {0.0, 1.0}


def test_unscaled_split_keeps_the_raw_first_sample():
    data = prepare(DataSettings("breast_cancer", test_size=0.2, random_state=0))
    # the notes: z = np.sum(X_train[0] * w) + b with w = 1, b = 1 prints 920.0319740000001
    assert np.sum(data.X_train[0] * np.ones(30)) + 1.0 == pytest.approx(920.0319740000001, rel=1e-15)


def test_diabetes_feature_selection_without_split():
    data = prepare(DataSettings("diabetes", features=(2,)))
    raw = sklearn_datasets.load_diabetes()
    assert data.X_test is None and data.X_train.shape == (442, 1)
    np.testing.assert_array_equal(data.X_train[:, 0], raw.data[:, 2])
    assert data.Y_train[0, 0] == 151.0              # the notes: 실제 데이터 : 151.0


def test_diabetes_first_sample_prints_of_the_notes():
    x = prepare(DataSettings("diabetes", features=(2,))).X_train[:, 0]
    y_hat = x[0] * 1.0 + 1.0
    assert y_hat == pytest.approx(1.0616962065186886, rel=1e-14)                  # 예측 데이터
    w_rate = (x[0] * 1.1 + 1.0 - y_hat) / 0.1
    assert w_rate == pytest.approx(0.061696206518688734, rel=1e-12)              # 증가 정도
    assert 1.0 + w_rate * (151.0 - y_hat) == pytest.approx(10.250624555904514, rel=1e-12)
    assert 1.0 + 1.0 * (151.0 - y_hat) == pytest.approx(150.9383037934813, rel=1e-14)


def test_digits_one_hot_and_divided():
    data = prepare(DataSettings("digits", test_size=0.2, random_state=0, divide_by=16.0))
    assert data.X_train.max() == 1.0 and data.Y_train.shape[1] == 10
    np.testing.assert_array_equal(data.Y_train.sum(axis=1), 1.0)


def test_dtype_is_kept():
    data = prepare(DataSettings("breast_cancer", test_size=0.2, random_state=0, scale="standard"), np.float32)
    assert data.X_train.dtype == data.Y_train.dtype == np.float32


def test_missing_scikit_learn_names_the_install_command(monkeypatch):
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    monkeypatch.setattr("importlib.import_module", lambda name: no_sklearn(name))
    with pytest.raises(MissingExtra, match=r"pip install 'scikit-learn'.*\.\[data\]"):
        prepare(DataSettings("digits"))


# --- fit spec validation -------------------------------------------------------------------------

GOOD = {"network": {"layers": [30, 10, 1], "activations": ["sigmoid", "sigmoid"], "loss": "bce"},
        "data": {"dataset": "breast_cancer", "test_size": 0.2, "random_state": 0, "scale": "standard"},
        "init": {"weights": "normal", "seed": 0}, "fit": {"epochs": 10}, "expect": {"loss": "0.5"}}


def _with(path, value):
    spec = {k: dict(v) for k, v in GOOD.items()}
    table, key = path.split(".")
    if value is None:
        del spec[table][key]
    else:
        spec[table][key] = value
    return spec


def test_good_spec_reads():
    spec = fit_spec_from_dict(GOOD)
    assert spec.layers == (30, 10, 1) and spec.init.weights == "normal" and spec.fit.epochs == 10
    assert spec.param_names == ["W1", "b1", "W2", "b2"] and is_fit_spec(GOOD)


@pytest.mark.parametrize("path, value, key", [
    ("network.layers", [29, 10, 1], "network.layers[0]"),
    ("network.layers", [30, 10, 2], "network.layers[-1]"),
    ("network.activations", ["sigmoid"], "network.activations"),
    ("network.activations", ["softmax", "sigmoid"], "network.activations[0]"),   # relu hidden: now allowed
    ("network.loss", "half_sse", "network.loss"),
    ("network.loss", "bxe", "network.loss"),
    ("network.bias", "shared", "network.bias"),
    ("data.dataset", "mnist", "data.dataset"),
    ("data.dataset", None, "data.dataset"),
    ("data.features", [2, 30], "data.features[1]"),
    ("data.features", "some", "data.features"),
    ("data.test_size", 1.5, "data.test_size"),
    ("data.test_size", float("nan"), "data.test_size"),
    ("data.random_state", -1, "data.random_state"),
    ("data.scale", "minmax", "data.scale"),
    ("data.divide_by", 0, "data.divide_by"),
    ("data.shuffle", True, "data.shuffle"),
    ("init.weights", "glorot", "init.weights"),
    ("init.std", -1.0, "init.std"),
    ("init.seed", 1.5, "init.seed"),
    ("fit.epochs", 0, "fit.epochs"),
    ("fit.learning_rate", float("inf"), "fit.learning_rate"),
    ("fit.updates", "mini_batch", "fit.updates"),
    ("fit.average", "yes", "fit.average"),
    ("fit.report_loss", "median", "fit.report_loss"),
    ("fit.loss_clip", 0.7, "fit.loss_clip"),
    ("fit.dtype", "float16", "fit.dtype"),
    ("fit.epoch", 3, "fit.epoch"),
    ("expect.W1", "1.0", "expect.W1"),           # W1 has 300 entries: not one printed number
    ("expect.loss", 0.5, "expect.loss"),         # unquoted: the printed digits would be lost
    ("expect.loss", "fast", "expect.loss"),
])
def test_bad_fit_specs_name_the_key(path, value, key):
    with pytest.raises(SpecError) as err:
        fit_spec_from_dict(_with(path, value), source="x.toml")
    assert err.value.key == key and str(err.value).startswith("x.toml: ")


def test_accuracy_needs_a_classification_split():
    spec = {"network": {"layers": [1, 1], "activations": ["identity"], "loss": "half_sse"},
            "data": {"dataset": "diabetes", "features": [2]}, "expect": {"accuracy": "0.5"}}
    with pytest.raises(SpecError, match="expect.accuracy"):
        fit_spec_from_dict(spec)


def test_unreadable_files(tmp_path):
    with pytest.raises(SpecError, match="existing spec file"):
        load_fit_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\n")
    with pytest.raises(SpecError, match="valid TOML"):
        load_fit_spec(bad)


def test_every_dataset_has_a_loader():
    for info in DATASETS.values():
        assert hasattr(sklearn_datasets, info.loader)


def test_the_core_loader_points_fit_specs_to_derive_fit(examples):
    import derive
    with pytest.raises(SpecError, match="derive fit SPEC"):
        derive.load(examples / "file001_dual_layer.toml")


# --- fuzzing the fit spec loader: anything but a valid fit spec raises SpecError, nothing else escapes ---

from hypothesis import given, settings, strategies as st  # noqa: E402

from conftest import EXAMPLES  # noqa: E402
from budget import draws  # noqa: E402

FIT_TEXTS = [p.read_text() for p in sorted(EXAMPLES.glob("file001_*.toml"))]
VALUES = ['"x"', "[]", "{}", "-1", "0", "1", "2.5", "1e999", "nan", "inf", "true", '"sigmoid"', '"softmax"',
          '"digits"', '"diabetes"', '"normal"', '"per_sample"', '"mean"', "[2]", "[64]", "[99]", "[30, 10, 1]",
          "[64, 100, 10]", '"0.5"', "1979-05-27", "1e-10", "0.7", "[" * 300 + "]" * 300]


@st.composite
def mutated_fit_texts(draw):
    lines = draw(st.sampled_from(FIT_TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        assignments = [j for j, line in enumerate(lines) if "=" in line and not line.startswith("#")]
        i = draw(st.sampled_from(assignments))
        key = lines[i].split("=")[0]
        op = draw(st.sampled_from(["value", "delete", "garbage"]))
        if op == "value":
            lines[i] = f"{key}= {draw(st.sampled_from(VALUES))}"
        elif op == "delete":
            del lines[i]
        else:
            lines[i] = draw(st.text(max_size=20))
    return "\n".join(lines)


@settings(max_examples=draws(150), deadline=None)
@given(mutated_fit_texts())
def test_fuzzed_fit_specs_raise_only_spec_errors(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "spec.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_fit_spec(path)
    except SpecError as exc:
        assert str(path) in str(exc)
