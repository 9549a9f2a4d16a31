"""check-code and derive.check_gradients: loading users' files safely, comparing, exit statuses.

The "user code" here is tests/reference.py (plain floats, no derive) copied next to each user file,
so that the checker is tested against an independent computation, never against itself.
"""

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import derive
import reference
from derive.cli import main
from derive.errors import UserCodeError
from derive.check.user_code.compare import check_gradients
from derive.check.user_code.load import load_function

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"
MAZUR = EXAMPLES / "mazur_2_2_2.toml"

# A user file computing the gradients with tests/reference.py, then changed by TWEAK (Python source
# applied to the dict `g`); the network is read from the spec so the file works for any spec.
USER_FILE = '''
import tomllib
import reference

SPEC = tomllib.load(open({spec!r}, "rb"))

def gradients(params):
    net, v = SPEC["network"], SPEC["values"]
    layers, biases = net["layers"], v.get("biases", [])
    n_w = sum(a * b for a, b in zip(layers, layers[1:]))
    weights = [params["w%d" % (i + 1)] for i in range(n_w)]
    bs = [params["b%d" % (i + 1)] for i in range(len(biases))]
    _, _, gw, gb = reference.gradients(layers, net["activations"], net.get("loss", "half_sse"), weights, bs,
                                       net.get("bias", "per_neuron"), v["inputs"], v["targets"])
    g = {{"w%d" % (i + 1): x for i, x in enumerate(gw)}}
    if net.get("train_biases", True):
        g.update({{"b%d" % (i + 1): x for i, x in enumerate(gb)}})
    {tweak}
    return g
'''


def user_file(tmp_path, tweak="pass", spec=MAZUR, name="user.py"):
    shutil.copy(Path(reference.__file__), tmp_path / "reference.py")
    path = tmp_path / name
    path.write_text(USER_FILE.format(spec=str(spec), tweak=tweak))
    return path


def run(*args):
    """The real command line, in a new process (for the few tests about what a user sees)."""
    return subprocess.run([sys.executable, "-m", "derive", *map(str, args)], capture_output=True, text=True)


def cli(capsys, *args):
    """The command line in this process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


# --- the checker itself: right code agrees, changed code is caught and the parameter named ----------
def test_reference_code_agrees_exit_0(tmp_path, capsys):
    path = user_file(tmp_path)
    assert main(["check-code", str(MAZUR), f"{path}:gradients", "--json", "--points", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["agree"] is True and data["diagnosis"] is None
    assert set(data["params"]) == {f"w{i}" for i in range(1, 9)}
    # the expected numbers are the notes' (file 000): ∂E/∂w5 = 0.082167041
    assert data["params"]["w5"]["expected"] == pytest.approx(0.082167040564, abs=1e-11)
    assert all(p["ok"] for p in data["params"].values())


@pytest.mark.parametrize("tweak, wrong", [
    ('g["w3"] *= 1 + 1e-4', ["w3"]),                         # slightly scaled
    ('g["w5"], g["w6"] = g["w6"], g["w5"]', ["w5", "w6"]),   # two entries swapped
    ('g["w7"] = -g["w7"]', ["w7"]),                           # one sign flipped
])
def test_changed_gradients_exit_1_naming_the_parameter(tmp_path, capsys, tweak, wrong):
    path = user_file(tmp_path, tweak)
    assert main(["check-code", str(MAZUR), f"{path}:gradients", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["agree"] is False
    assert sorted(n for n, p in data["params"].items() if not p["ok"]) == wrong
    done = cli(capsys, "check-code", MAZUR, f"{path}:gradients")
    assert done.returncode == 1
    for name in wrong:
        assert any(line.startswith(name + " ") and "DISAGREE" in line for line in done.stdout.splitlines())
    assert f"disagree: {', '.join(wrong)}." in done.stdout


def test_within_tolerance_agrees_and_rtol_is_honoured(tmp_path):
    path = user_file(tmp_path, 'g["w3"] *= 1 + 1e-8')
    assert main(["check-code", str(MAZUR), f"{path}:gradients"]) == 0
    assert main(["check-code", str(MAZUR), f"{path}:gradients", "--rtol", "1e-10", "--atol", "0"]) == 1


def test_random_points_catch_code_right_only_at_the_specs_values(tmp_path, capsys):
    path = user_file(tmp_path, 'g["w2"] *= 1 if params["w1"] == 0.15 else 1.01')
    assert main(["check-code", str(MAZUR), f"{path}:gradients"]) == 0
    capsys.readouterr()
    assert main(["check-code", str(MAZUR), f"{path}:gradients", "--points", "2", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [n for n, p in data["params"].items() if not p["ok"]] == ["w2"]
    assert data["params"]["w2"]["got"] == pytest.approx(1.01 * data["params"]["w2"]["expected"], rel=1e-12)


def test_random_points_are_seeded():
    net = derive.load(MAZUR)
    fn = load_function(f"{EXAMPLES / 'notes_000_neural_network_fixed.py'}:gradients")
    a = check_gradients(net, fn, points=2, seed=5).points
    assert a == check_gradients(net, fn, points=2, seed=5).points
    assert a != check_gradients(net, fn, points=2, seed=6).points
    assert a[0] == net.param_values() and len(a) == 3


def test_common_factor_is_reported_when_no_mistake_matches(tmp_path):
    path = user_file(tmp_path, "g = {k: 3 * x for k, x in g.items()}")
    report = check_gradients(derive.load(MAZUR), load_function(f"{path}:gradients"))
    assert not report.agree and report.mistakes == []
    assert "3 times the derivation's" in report.diagnosis


def test_numpy_scalars_and_notation_names_are_accepted(tmp_path):
    path = tmp_path / "np_user.py"
    path.write_text(
        "import numpy as np\n"
        "import derive\n"
        f"NET = derive.load({str(EXAMPLES / 'seven_2_1.toml')!r})\n"
        "def gradients(params):\n"
        "    g = NET.gradients()\n"
        "    by_name = {p.canonical: p.name for p in NET.graph.params}\n"
        "    return {by_name[k]: np.float64(v) for k, v in g.items()}\n")
    report = check_gradients(derive.load(EXAMPLES / "seven_2_1.toml"), load_function(f"{path}:gradients"))
    assert report.agree and set(report.params) == set(derive.load(EXAMPLES / "seven_2_1.toml").trained)


# --- bad user code: exit 2, one line, the user's traceback where their code raised -----------------
def _one_error_line(done):
    assert done.returncode == 2 and done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("derive: ")
    return last


@pytest.mark.parametrize("content, target, message", [
    (None, "missing.py:gradients", "missing.py: no such file"),
    ("def gradients(p):\n    return {}\n", "user.py", "expected FILE.py:FUNC"),
    ("def gradients(p):\n    return {}\n", "user.py:grads", "no function 'grads' (functions defined there: gradients)"),
    ("gradients = 3\n", "user.py:gradients", "'gradients' is a int, expected a function"),
    ("def gradients(p):\n    return {k: 0.0 for k in p if k != 'w4'}\n", "user.py:gradients",
     "returned no gradient for w4"),
    ("def gradients(p):\n    return {'w99': 1.0, **{k: 0.0 for k in p}}\n", "user.py:gradients", "returned key 'w99'"),
    ("def gradients(p):\n    return [1.0] * 8\n", "user.py:gradients", "expected it to return a dict"),
    ("def gradients(p):\n    return {k: float('nan') for k in p}\n", "user.py:gradients", "is nan, expected a finite number"),
    ("def gradients(p):\n    return {k: 1j for k in p}\n", "user.py:gradients", "expected a real number"),
])
def test_bad_user_code_exits_2_with_one_line(tmp_path, capsys, content, target, message):
    if content is not None:
        (tmp_path / "user.py").write_text(content)
    done = cli(capsys, "check-code", MAZUR, tmp_path / target)
    last = _one_error_line(done)
    assert message in last
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize("content, where, message", [
    ("import no_such_module_here\n", "line 1, in <module>", "importing it failed: ModuleNotFoundError"),
    ("def gradients(p):\n    return helper(p)\n\ndef helper(p):\n    return 1 / 0\n", "line 5, in helper",
     "user.py:gradients raised: ZeroDivisionError: division by zero"),
    ("import sys\nsys.exit(4)\n", "line 2, in <module>", "importing it failed: SystemExit: 4"),
])
def test_an_exception_in_user_code_shows_their_traceback(tmp_path, capsys, content, where, message):
    (tmp_path / "user.py").write_text(content)
    done = cli(capsys, "check-code", MAZUR, f"{tmp_path / 'user.py'}:gradients")
    last = _one_error_line(done)
    assert message in last
    err = done.stderr
    assert "---- the traceback of your code" in err and "---- end of your traceback ----" in err
    assert where in err and str(tmp_path / "user.py") in err
    assert "derive/usercode.py" not in err and "derive/codecheck.py" not in err and "importlib" not in err   # their frames only


def test_syntax_error_is_shown_where_it_is(tmp_path, capsys):
    (tmp_path / "user.py").write_text("def gradients(p:\n    return {}\n")
    done = cli(capsys, "check-code", MAZUR, f"{tmp_path / 'user.py'}:gradients")
    assert "SyntaxError" in _one_error_line(done)
    assert "user.py\", line 1" in done.stderr


def test_a_real_process_prints_their_traceback_then_one_line(tmp_path):
    (tmp_path / "user.py").write_text("def gradients(p):\n    return 1 / 0\n")
    for target, lines in ((tmp_path / "missing.py", 1), (tmp_path / "user.py", None)):
        done = run("check-code", MAZUR, f"{target}:gradients")
        assert done.returncode == 2 and done.stdout == ""
        err = done.stderr.strip().splitlines()
        assert err[-1].startswith("derive: ") and (lines is None or len(err) == lines)
    assert err[0].startswith("---- the traceback of your code") and "ZeroDivisionError" in err[-1]


def test_library_raises_user_code_error_keeping_the_cause(tmp_path):
    (tmp_path / "user.py").write_text("def gradients(p):\n    raise KeyError('w1')\n")
    fn = load_function(f"{tmp_path / 'user.py'}:gradients")
    with pytest.raises(UserCodeError, match="raised: KeyError") as info:
        check_gradients(derive.load(MAZUR), fn)
    assert isinstance(info.value.__cause__, KeyError)
    assert "line 2, in gradients" in info.value.user_traceback


def test_bad_options_exit_2(tmp_path, capsys):
    path = user_file(tmp_path)
    for option in (["--points", "-1"], ["--rtol", "nan"], ["--rtol", "x"]):
        with pytest.raises(SystemExit) as info:       # argparse: usage line and exit 2
            main(["check-code", str(MAZUR), f"{path}:gradients", *option])
        assert info.value.code == 2 and "expected" in capsys.readouterr().err


# --- the notes' own code, checked ----------------------------------------------------------------
def test_notes_000_class_disagrees_everywhere_and_sigma_prime_forward_is_named(capsys):
    target = f"{EXAMPLES / 'notes_000_neural_network.py'}:gradients"
    assert main(["check-code", str(MAZUR), target, "--json", "--points", "3"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert not any(p["ok"] for p in data["params"].values())
    assert [(m["name"], m["where"]) for m in data["mistakes"]] == [("derivative-in-forward", "output layer 2")]
    # independent check of what the class computes: out_o = σ′(net_o), δ_o = (out_o − t)·σ′(net_o)
    s = lambda x: 1 / (1 + math.exp(-x))
    h = [s(0.15 * 0.05 + 0.20 * 0.10 + 0.35), s(0.25 * 0.05 + 0.30 * 0.10 + 0.35)]
    net_o1 = 0.40 * h[0] + 0.45 * h[1] + 0.60
    d = s(net_o1) * (1 - s(net_o1))
    assert data["params"]["w5"]["got"] == pytest.approx((d - 0.01) * d * h[0], rel=1e-12)


def test_notes_000_class_fixed_agrees():
    assert main(["check-code", str(MAZUR), f"{EXAMPLES / 'notes_000_neural_network_fixed.py'}:gradients",
                 "--points", "5"]) == 0


def test_notes_000_training_with_and_without_the_fix():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import notes_000_neural_network as notes
        import notes_000_neural_network_fixed as fixed
    finally:
        sys.path.remove(str(EXAMPLES))
    # the digest's figure for the right network after 10,000 steps: out = (0.015913620, 0.984064274)
    assert fixed._train(fixed.fixedNeuralNetwork).ravel() == pytest.approx([0.015913620, 0.984064274], abs=1e-9)
    buggy = notes.train_as_the_notes_do().ravel()
    assert buggy[1] < 0.25     # σ′ ≤ ¼: the notes' class can never output the target 0.99


def test_notes_001_dual_layer_agrees():
    assert main(["check-code", str(EXAMPLES / "dual_layer_2_2_1.toml"),
                 f"{EXAMPLES / 'notes_001_dual_layer.py'}:gradients", "--points", "5"]) == 0


def test_notes_001_multiclass_output_bias_summed_over_classes(capsys):
    assert main(["check-code", str(EXAMPLES / "multiclass_2_2_3.toml"),
                 f"{EXAMPLES / 'notes_001_multiclass.py'}:gradients", "--points", "3", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [n for n, p in data["params"].items() if not p["ok"]] == ["b3", "b4", "b5"]
    assert all(abs(data["params"][b]["got"]) < 1e-15 for b in ("b3", "b4", "b5"))  # Σ(a − y) = 0 for softmax
    assert [(m["name"], m["where"]) for m in data["mistakes"]] == [("bias-wrong-axis", "output layer 2")]


def test_a_dual_layer_wrapper_that_forgets_the_transpose_is_diagnosed(tmp_path, capsys):
    """DualLayer keeps W1 as (inputs, units); flattening its gradient as it is numbers the weights transposed."""
    path = tmp_path / "flat.py"
    path.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(EXAMPLES)!r})\n"
        "import notes_001_dual_layer as notes\n"
        "def gradients(params):\n"
        "    g = notes.gradients(params)\n"
        "    g['w2'], g['w3'] = g['w3'], g['w2']     # w1_grad.ravel(): (x1→h1, x1→h2, x2→h1, x2→h2)\n"
        "    return g\n")
    assert main(["check-code", str(EXAMPLES / "dual_layer_2_2_1.toml"), f"{path}:gradients", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [n for n, p in data["params"].items() if not p["ok"]] == ["w2", "w3"]
    assert ("transposed-numbering", "hidden layer 1") in [(m["name"], m["where"]) for m in data["mistakes"]]


def test_prints_in_user_code_do_not_spoil_the_json(tmp_path, capsys):
    path = user_file(tmp_path, 'print("debugging", g["w1"])')
    assert main(["check-code", str(MAZUR), f"{path}:gradients", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["agree"] is True and "debugging" in err


def test_float32_code_is_told_its_tolerance(tmp_path):
    """File 000's fixed class run in float32 (arrays of float32): right, but only to float32's digits."""
    path = tmp_path / "f32.py"
    path.write_text(
        "import sys\n"
        "import numpy as np\n"
        f"sys.path.insert(0, {str(EXAMPLES)!r})\n"
        "import notes_000_neural_network_fixed as fixed\n"
        "def gradients(params):\n"
        "    W1 = np.array([[params['w1'], params['w2']], [params['w3'], params['w4']]], dtype=np.float32)\n"
        "    W2 = np.array([[params['w5'], params['w6']], [params['w7'], params['w8']]], dtype=np.float32)\n"
        "    n = fixed.fixedNeuralNetwork(W1.copy(), W2.copy())\n"
        "    n.bih, n.bho, n.eta = np.float32(params['b1']), np.float32(params['b2']), np.float32(1)\n"
        "    n.train(fixed.INPUTS, fixed.TARGETS)\n"
        "    g1, g2 = W1 - n.wih, W2 - n.who\n"
        "    return dict(zip(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8'], [*g1.ravel(), *g2.ravel()]))\n")
    fn = load_function(f"{path}:gradients")
    net = derive.load(MAZUR)
    assert fn(net.param_values())["w1"].dtype == "float32"
    report = check_gradients(net, fn)
    assert not report.agree                     # float32 rounding is beyond rtol 1e-6
    assert report.diagnosis.startswith("your code returns float32 numbers") and "rtol 1e-4" in report.diagnosis
    assert check_gradients(net, fn, rtol=1e-4, atol=1e-7).agree
    doubled = lambda p: {k: 2 * v for k, v in fn(p).items()}
    diagnosis = check_gradients(net, doubled).diagnosis      # a real mistake is not excused, and still named
    assert "float32" not in diagnosis and diagnosis.startswith("missing-half")


# --- kinked and new activations: the diagnosis runs (it once crashed on every relu net) -------------
RELU_SPEC = '''
[network]
layers = [2, 2, 1]
activations = ["relu", "sigmoid"]
[values]
inputs = [0.5, -0.3]
targets = [0.7]
weights = [0.4, 0.2, -0.3, 0.4, 0.5, -0.6]
biases = [0.1, 0.2, 0.3]
'''


@pytest.mark.parametrize("activations", [["relu", "sigmoid"], ["relu", "relu"], ["leaky_relu", "softplus"],
                                         ["softplus", "leaky_relu"]])
def test_a_wrong_function_on_a_kinked_net_is_reported_not_crashed(activations):
    """derive.check_gradients on a relu net with wrong gradients raised NameError ('functools') from the
    diagnosis; now it reports. Zeros are no constant factor of the derivation, and no known mistake."""
    net = derive.network([2, 2, 1], activations, inputs=[0.5, -0.3], targets=[0.7],
                         weights=[0.4, 0.2, -0.3, 0.4, 0.5, -0.6], biases=[0.1, 0.2, 0.3])
    report = derive.check_gradients(net, lambda p: {k: 0.0 for k in net.trained}, points=2)
    assert not report.agree and report.mistakes == [] and report.scale is None
    assert report.diagnosis is None


def test_check_code_on_a_relu_spec_names_the_missing_relu_derivative(tmp_path, capsys):
    spec = tmp_path / "relu.toml"
    spec.write_text(RELU_SPEC)
    # the hidden layer's relu′ forgotten, by hand from reference.py's numbers: its δ recomputed without it
    tweak = '''_, outs = reference.forward(layers, net["activations"], weights, bs, "per_neuron", v["inputs"])
    o, h = outs[2][0], outs[1]
    d_o = (o - v["targets"][0]) * o * (1 - o)
    for j in range(2):
        for k in range(2):
            g["w%d" % (1 + 2 * j + k)] = d_o * weights[4 + j] * v["inputs"][k]
        g["b%d" % (1 + j)] = d_o * weights[4 + j]'''
    path = user_file(tmp_path, tweak, spec=spec)
    assert main(["check-code", str(spec), f"{path}:gradients", "--json", "--points", "2"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(m["name"], m["where"]) for m in data["mistakes"]] == [("missing-derivative", "hidden layer 1")]
