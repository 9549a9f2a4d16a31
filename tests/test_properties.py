"""Properties over random networks (drawn with derive.strategies) and a fuzz test of the spec loader.

Expected numbers never come from derive's gradient code: finite differences perturb the leaves and
re-evaluate the loss with tests/reference.py's plain-float forward pass; the symbolic views are
compared with sympy.diff of the expanded loss.
"""

import math
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import derive
import reference
from budget import draws
from derive import strategies as ds
from derive.core.spec import load_spec, spec_from_dict

EXAMPLES = Path(__file__).resolve().parent.parent / "worked_examples"
FAST = settings(max_examples=draws(40), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


# --- derived gradients against central finite differences -----------------------------------------

def act(name, zs):
    """tests/reference.py's activations, and the newer ones written out here (plain floats)."""
    if name == "leaky_relu":
        return [z if z > 0 else 0.01 * z for z in zs]
    if name == "softplus":
        return [max(z, 0.0) + math.log1p(math.exp(-abs(z))) for z in zs]
    return reference.act(name, zs)


def forward(layers, acts, weights, biases, scheme, x):
    """The forward pass of tests/reference.py, with `act` above."""
    W, B = reference.unpack(layers, weights, biases, scheme)
    outs = [list(x)]
    for l, name in enumerate(acts):
        z = [sum(W[l][j][k] * outs[-1][k] for k in range(layers[l])) + (biases[B[l][j]] if B[l][j] is not None else 0.0)
             for j in range(layers[l + 1])]
        outs.append(act(name, z))
    return outs


def reference_loss(spec, inputs, targets, weights, biases):
    outs = forward(list(spec.layers), list(spec.activations), weights, biases, spec.bias, inputs)
    return reference.loss(spec.loss, targets, outs[-1])


def central_differences(spec, inputs, targets, weights, biases):
    """∂E/∂p for every parameter (weights, then biases), by perturbing one leaf at a time."""
    params = list(weights) + list(biases)
    n_w = len(weights)
    grads = []
    for i, value in enumerate(params):
        h = 1e-6 * max(1.0, abs(value))
        up, down = list(params), list(params)
        up[i], down[i] = value + h, value - h
        e_up = reference_loss(spec, inputs, targets, up[:n_w], up[n_w:])
        e_down = reference_loss(spec, inputs, targets, down[:n_w], down[n_w:])
        grads.append((e_up - e_down) / (2 * h))
    return grads


def assert_close_to_differences(derived: dict, numeric: list, names: list, abs_tol: float = 1e-8):
    for name, fd in zip(names, numeric):
        assert math.isclose(derived[name], fd, rel_tol=1e-6, abs_tol=abs_tol), (name, derived[name], fd)


def rounding_tolerance(spec, inputs, targets, weights, biases) -> float:
    """An absolute tolerance for central differences at large losses: each difference of two losses
    near E carries a rounding error of about eps·|E|, divided by 2h ≥ 2e-6 (so ~1e-10·|E|; 1e-8·|E| kept)."""
    return 1e-8 * (1 + abs(reference_loss(spec, inputs, targets, weights, biases)))


@FAST
@given(ds.networks(max_layers=4, max_width=3))
def test_gradients_equal_central_differences(net):
    s = net.spec
    numeric = central_differences(s, s.inputs, s.targets, s.weights, s.biases)
    assert_close_to_differences(net.evaluation.gradients, numeric, net.params)
    assert net.gradients() == {name: net.evaluation.gradients[name] for name in net.trained}


@FAST
@given(ds.networks(max_layers=4, max_width=3, activations=["leaky_relu", "softplus", "softmax"]))
def test_gradients_of_leaky_relu_and_softplus_nets_equal_central_differences(net):
    s = net.spec
    numeric = central_differences(s, s.inputs, s.targets, s.weights, s.biases)
    assert_close_to_differences(net.evaluation.gradients, numeric, net.params)


@pytest.mark.parametrize("name", ["leaky_relu", "softplus"])
def test_the_new_activations_are_drawn_and_checked(name):
    """Every layer `name`, values drawn up to ±3 (both sides of leaky_relu's kink, softplus' curve)."""
    seen = []

    @settings(FAST, max_examples=draws(25))
    @given(st.data(), ds.networks(max_layers=3, max_width=3, activations=[name]))
    def check(data, net):
        assert set(net.spec.activations) == {name}
        values = data.draw(ds.values_for(net, min_value=-3.0, max_value=3.0))
        g = net.graph
        inputs, targets = [values[n.name] for n in g.inputs], [values[n.name] for n in g.targets]
        weights = [values[p.name] for p in g.params if p.canonical.startswith("w")]
        biases = [values[p.name] for p in g.params if p.canonical.startswith("b")]
        _, grads = net.program.function(values)
        numeric = central_differences(net.spec, inputs, targets, weights, biases)
        tolerance = rounding_tolerance(net.spec, inputs, targets, weights, biases)
        assert_close_to_differences({k: float(v) for k, v in grads.items()}, numeric, net.params, tolerance)
        computed, _ = net.program.function(values)
        seen.extend(computed[n.name] for layer in g.layers for n in layer.nets)

    check()
    assert min(seen) < -0.5 and max(seen) > 0.5      # both sides of the kink were checked


@FAST
@given(st.data(), ds.networks(max_layers=3, max_width=3, notations=["seven", "z-h-o"]))
def test_program_function_at_drawn_values_equals_central_differences(data, net):
    values = data.draw(ds.values_for(net, min_value=-2.0, max_value=2.0))
    g = net.graph
    inputs, targets = [values[n.name] for n in g.inputs], [values[n.name] for n in g.targets]
    weights = [values[p.name] for p in g.params if p.canonical.startswith("w")]
    biases = [values[p.name] for p in g.params if p.canonical.startswith("b")]
    _, grads = net.program.function(values)
    numeric = central_differences(net.spec, inputs, targets, weights, biases)
    assert_close_to_differences({k: float(v) for k, v in grads.items()}, numeric, net.params)


@settings(FAST, max_examples=draws(15))
@given(ds.networks(max_layers=3, max_width=2))
def test_delta_form_path_sum_and_sympy_diff_agree(net):
    for name in net.params:
        d = net.derivation(name)
        reference_diff = d.reference()
        for view in (d.expanded, net.backprop.to_leaves(d.path_sum)):
            proof = derive.prove_equal(view, reference_diff, symbolic=False, points=3)
            assert proof, (name, proof.detail)


def test_prove_equal_at_random_points_accepts_an_identically_zero_gradient():
    net = derive.network([1, 2], ["softmax"], inputs=[0.5], targets=[0.2, 0.8], weights=[0.1, 0.2], biases=[0.3],
                         loss="cross_entropy", bias="shared")
    d = net.derivation("b1")    # softmax is shift-invariant: ∂E/∂(shared bias) = 0
    assert derive.prove_equal(d.expanded, d.reference(), symbolic=False)


# --- every drawn spec is valid --------------------------------------------------------------------

@FAST
@given(ds.spec_dicts())
def test_drawn_spec_dicts_validate_and_build(data):
    spec = spec_from_dict(data)
    net = derive.Network(spec)
    assert len(net.params) == len(spec.weights) + len(spec.biases)


# --- fuzzing the spec loader: anything but a valid spec raises SpecError, nothing else escapes -----

DEEP = "[" * 2000 + "]" * 2000
EXAMPLE_TEXTS = [p.read_text() for p in sorted(EXAMPLES.glob("*.toml"))]
KEYS = ["title", "network", "values", "hand", "train", "layers", "activations", "loss", "bias", "train_biases",
        "notation", "error_letter", "inputs", "targets", "weights", "biases", "learning_rate", "epochs",
        "stop_below", "dtype", "print_every", "x", "layers.x", '"a b"']
TOKENS = ['"x"', "[]", "[[]]", "{}", "{ a = 1 }", "-1", "0", "1", "2.5", "1e308", "1e999", "-1e999", "nan", "inf",
          "true", '"sigmoid"', '"softmax"', '"relu"', '"none"', '"shared"', '"seven"', '"F"', '"bce"',
          '"cross_entropy"', "[1, 2]", "[0]", "[2, 2, 2]", '["softmax", "softmax"]', "[[1, 2]]", '["1"]',
          "9223372036854775807", "[1e308, 1e308, 1e308, 1e308]", '"0.5"', "1979-05-27", DEEP]


@st.composite
def mutated_texts(draw):
    lines = draw(st.sampled_from(EXAMPLE_TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["value", "key", "delete", "duplicate", "garbage", "header"]))
        assignments = [j for j, line in enumerate(lines) if "=" in line]
        if op in ("value", "key") and assignments:
            i = draw(st.sampled_from(assignments))
        else:
            i = draw(st.integers(0, max(len(lines) - 1, 0)))
        line = lines[i] if lines else ""
        if op == "value" and "=" in line:
            lines[i] = line.split("=", 1)[0] + "= " + draw(st.sampled_from(TOKENS))
        elif op == "key" and "=" in line:
            lines[i] = draw(st.sampled_from(KEYS)) + " =" + line.split("=", 1)[1]
        elif op == "delete" and lines:
            del lines[i]
        elif op == "duplicate" and lines:
            lines.insert(i, line)
        elif op == "header":
            lines.insert(i, "[" + draw(st.sampled_from(KEYS)) + "]")
        else:
            lines.insert(i, draw(st.text(max_size=20)))
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = text[:draw(st.integers(0, len(text)))]
    return text


def load_or_spec_error(text: str):
    """load_spec then Network and its numbers: a result, or a SpecError/DeriveError, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            spec = load_spec(path)
        except derive.SpecError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)
            return None
    assert isinstance(spec, derive.core.spec.Spec)
    try:
        net = derive.Network(spec)
        net.evaluation   # numbers at the spec's values (may overflow to inf: not an error here)
        return net
    except derive.DeriveError:
        return None


@settings(FAST, max_examples=draws(150))
@example(f"[network]\nlayers = {DEEP}")
@example("[network]\nlayers = [2, 2]\nactivations = ['softmax']\nloss = 'bce'\n[values]\ninputs = [0, 0]\n"
         "targets = [0, 1]\nweights = [1e308, 1e308, 1e308, 1e308]\nbiases = [0, 0]")
@given(mutated_texts())
def test_mutated_example_files_load_or_raise_spec_error(text):
    load_or_spec_error(text)


@settings(FAST, max_examples=draws(60))
@given(st.text(max_size=200))
def test_random_text_loads_or_raises_spec_error(text):
    load_or_spec_error(text)


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner,
                                                                                 max_size=4), max_leaves=12)


@st.composite
def damaged_dicts(draw):
    """A valid spec dict with one entry (at any depth) replaced by random data."""
    data = draw(ds.spec_dicts(max_layers=3, max_width=2))
    table = data
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3))
    for key in keys[:-1]:
        table = table.setdefault(key, {}) if isinstance(table, dict) else table
    if isinstance(table, dict):
        table[keys[-1]] = draw(JSONISH)
    return data


@settings(FAST, max_examples=draws(150))
@given(damaged_dicts())
def test_damaged_spec_dicts_validate_or_raise_spec_error(data):
    try:
        spec_from_dict(data)
    except derive.SpecError:
        pass


# --- the command line on mutated files: exit 0, or exit 2 with one stderr line ---------------------

@settings(FAST, max_examples=6, derandomize=True)
@given(mutated_texts(), st.booleans())
def test_cli_gradients_on_mutated_files_exits_cleanly(text, as_json):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_text(text)
        done = subprocess.run([sys.executable, "-m", "derive", "gradients", str(path)] + ["--json"] * as_json,
                              capture_output=True, text=True)
    assert "Traceback" not in done.stderr
    if done.returncode == 0:
        assert done.stderr == ""
    else:
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_cli_gradients_json_on_overflowing_values_exits_2(tmp_path):
    path = tmp_path / "overflow.toml"
    path.write_text("[network]\nlayers = [2, 2]\nactivations = ['identity']\n[values]\ninputs = [1e308, 1e308]\n"
                    "targets = [0, 1]\nweights = [1e308, 1e308, 1, 1]\nbiases = [0, 0]\n")
    done = subprocess.run([sys.executable, "-m", "derive", "gradients", str(path), "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
