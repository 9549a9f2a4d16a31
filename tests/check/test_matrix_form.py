"""check-code --form matrices: a user's FUNC(weights, biases, x, t) -> (dweights, dbiases), in its own shape.

The user code here is plain NumPy backprop written for these tests (Nielsen's loop for out_in,
CS231n's batch form for in_out); expected numbers are Mazur's published gradients (file 000) and
central differences of a loss computed here.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import derive
from derive.check.user_code.dataset import check_dataset
from derive.cli import main
from derive.core.fitspec import load_fit_spec
from derive.errors import UserCodeError
from derive.testing import assert_gradients_match

EXAMPLES = Path(__file__).resolve().parents[2] / "worked_examples"
MAZUR = derive.load(EXAMPLES / "mazur_2_2_2.toml")
MULTI = derive.load(EXAMPLES / "multiclass_2_2_3.toml")
DIGITS = EXAMPLES / "file001_digits_multiclass.toml"


def sig(z):
    return 1 / (1 + np.exp(-z))


def nielsen(weights, biases, x, t, *, hidden_prime=lambda z: sig(z) * (1 - sig(z))):
    """Nielsen's backprop loop (quadratic cost, sigmoid), x and t 1-D."""
    a, acts, zs = x, [x], []
    for W, b in zip(weights, biases):
        z = W @ a + b
        zs.append(z)
        a = sig(z)
        acts.append(a)
    delta = (a - t) * sig(zs[-1]) * (1 - sig(zs[-1]))
    dW, db = [None] * len(weights), [None] * len(weights)
    dW[-1], db[-1] = np.outer(delta, acts[-2]), delta
    for l in range(2, len(weights) + 1):
        delta = (weights[-l + 1].T @ delta) * hidden_prime(zs[-l])
        dW[-l], db[-l] = np.outer(delta, acts[-l - 1]), delta
    return dW, db


def test_nielsen_on_mazur_agrees_with_the_published_numbers():
    report = derive.check_gradients(MAZUR, nielsen, form="matrices", points=3)
    assert report.agree
    assert report.params["w5"].got == pytest.approx(0.082167041, abs=1e-9)   # Mazur's ∂E/∂w5
    assert report.params["w1"].got == pytest.approx(0.000438568, abs=1e-9)
    assert report.position("w6") == "W[2][0, 1]"


def test_a_planted_bug_in_the_hidden_loop_is_named():
    def buggy(w, b, x, t):
        return nielsen(w, b, x, t, hidden_prime=sig)            # sigmoid used for its derivative
    report = derive.check_gradients(MAZUR, buggy, form="matrices", points=2)
    assert not report.agree and set(report.disagreeing) == {"w1", "w2", "w3", "w4", "b1"}
    assert [(m.mistake.name, m.where) for m in report.mistakes] == [("activation-in-backward", "hidden layer 1")]


def test_assert_gradients_match_takes_the_form_and_names_positions():
    def transposed(w, b, x, t):
        dW, db = nielsen(w, b, x, t)
        return [g.T for g in dW], db                           # square layers: no shape error, wrong numbers
    with pytest.raises(AssertionError, match=r"(?s)w2 \(W\[1\]\[0, 1\]\).*transposed-numbering"):
        assert_gradients_match(transposed, MAZUR, form="matrices")


def cs231n(W, b, X, Y):
    """Softmax + cross-entropy, sigmoid hidden layer, batch rows, W as (n_in, n_out), mean over the batch."""
    X, Y = np.atleast_2d(X), np.atleast_2d(Y)
    H = sig(X @ W[0] + b[0])
    S = H @ W[1] + b[1]
    P = np.exp(S - S.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    dS = (P - Y) / len(X)
    dH = dS @ W[1].T * H * (1 - H)
    return [X.T @ dH, H.T @ dS], [dH.sum(0), dS.sum(0)[:, None]]     # a (n, 1) column is accepted


def test_cs231n_in_out_on_the_multiclass_net():
    assert derive.check_gradients(MULTI, cs231n, form="matrices", orientation="in_out", points=3).agree
    with pytest.raises(UserCodeError, match=r"cs231n raised: ValueError: .*derive passed weights out_in: shapes "
                                            r"\(2, 2\), \(3, 2\), x \(2,\); .*pass --orientation in_out"):
        derive.check_gradients(MULTI, cs231n, form="matrices")              # the orientation forgotten


def test_returning_no_pair_is_one_line():
    with pytest.raises(UserCodeError, match=r"expected it to return \(dweights, dbiases\), got a dict"):
        derive.check_gradients(MULTI, lambda w, b, x, t: {}, form="matrices")


# --- the command line ----------------------------------------------------------------------------------
USER = '''
import numpy as np

def sig(z):
    return 1 / (1 + np.exp(-z))

def grads(W, b, X, Y):
    X, Y = np.atleast_2d(X), np.atleast_2d(Y)          # one sample (1-D) or a batch (rows)
    H = sig(X @ W[0] + b[0])
    S = H @ W[1] + b[1]
    P = np.exp(S - S.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
    dS = (P - Y) / len(X)
    dH = dS @ W[1].T * H * (1 - H)
    return [X.T @ dH, H.T @ dS], [dH.sum(0), dS.sum(0)]

def summed(W, b, X, Y):
    dW, db = grads(W, b, X, Y)
    return [g * len(X) for g in dW], [g * len(X) for g in db]

def sigma_back(W, b, X, Y):
    H = sig(X @ W[0] + b[0])
    S = H @ W[1] + b[1]
    P = np.exp(S - S.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
    dS = (P - Y) / len(X)
    dH = dS @ W[1].T * H                      # the bug: σ for σ′
    return [X.T @ dH, H.T @ dS], [dH.sum(0), dS.sum(0)]

def not_summed(W, b, X, Y):
    dW, db = grads(W, b, X, Y)
    return dW, [db[0], np.ones((len(X), 1)) * db[1]]
'''


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def user(tmp_path):
    path = tmp_path / "user.py"
    path.write_text(USER)
    return path


def test_cli_matrix_form_json_has_positions(user, capsys):
    code, out, _ = cli(capsys, "check-code", EXAMPLES / "multiclass_2_2_3.toml", f"{user}:grads", "--form",
                       "matrices", "--orientation", "in_out", "--json")
    report = json.loads(out)
    assert code == 0 and report["agree"] and report["orientation"] == "in_out"
    assert report["params"]["w6"]["position"] == [2, 1, 0]


def test_cli_wrong_orientation_exit_2_one_line(user):
    done = subprocess.run([sys.executable, "-m", "derive", "check-code", str(EXAMPLES / "multiclass_2_2_3.toml"),
                           f"{user}:grads", "--form", "matrices"], capture_output=True, text=True)
    assert done.returncode == 2 and "derive/check" not in done.stderr      # only the user's frames
    assert "pass --orientation in_out" in done.stderr and "---- the traceback of your code" in done.stderr


# --- data-set specs ([data], [init]) ---------------------------------------------------------------------
def mean_cross_entropy(W1, b1, W2, b2, X, Y):
    H = sig(X @ W1 + b1)
    S = H @ W2 + b2
    logp = S - S.max(1, keepdims=True) - np.log(np.exp(S - S.max(1, keepdims=True)).sum(1, keepdims=True))
    return -(Y * logp).sum() / len(X)


def test_dataset_derivation_is_the_slope_of_the_mean_loss():
    """derive's matrix gradients on 40 digits samples against central differences computed here."""
    fit = load_fit_spec(DIGITS)
    seen = {}

    def spy(W, b, X, Y):
        seen.update(W=[w.copy() for w in W], b=[v.copy() for v in b], X=X, Y=Y)
        return cs231n(W, b, X, Y)
    report = check_dataset(fit, spy, orientation="in_out", batch=40)
    assert report.agree and seen["X"].shape == (40, 64)
    W1, W2 = seen["W"]
    b1, b2 = seen["b"]
    # canonical numbering: layer by layer, by destination, then by source (64 inputs, 100 hidden units)
    for name, (l, dest, src) in [("w149", (1, 148 // 64, 148 % 64)), ("w6441", (2, 40 // 100, 40 % 100))]:
        assert report.positions[name] == (l, src, dest)      # in_out: (layer, row = source, column = dest)
        Ws = [W1.copy(), W2.copy()]
        h = 1e-6
        Ws[l - 1][src, dest] += h
        up = mean_cross_entropy(Ws[0], b1, Ws[1], b2, seen["X"], seen["Y"])
        Ws[l - 1][src, dest] -= 2 * h
        down = mean_cross_entropy(Ws[0], b1, Ws[1], b2, seen["X"], seen["Y"])
        slope = (up - down) / (2 * h)
        assert abs(slope) > 1e-4 and report.params[name].expected == pytest.approx(slope, rel=1e-5)


def test_dataset_cli_verdicts(user, capsys):
    base = ["check-code", DIGITS, "--form", "matrices", "--orientation", "in_out", "--batch", "60"]
    code, out, _ = cli(capsys, *base[:2], f"{user}:grads", *base[2:])
    assert code == 0 and "all 7510 gradients agree" in out and "first 60 training samples" in out
    code, out, _ = cli(capsys, *base[:2], f"{user}:summed", *base[2:], "--json")
    assert code == 1 and [m["name"] for m in json.loads(out)["mistakes"]] == ["batch-reduction"]
    code, out, _ = cli(capsys, *base[:2], f"{user}:sigma_back", *base[2:])
    assert code == 1 and "activation-in-backward (hidden layer 1)" in out and "small 3-4-3 net" in out
    code, _, err = cli(capsys, *base[:2], f"{user}:not_summed", *base[2:])
    assert code == 2 and "expected shape (10,), got shape (60, 10)" in err and "bias-not-summed" in err


def test_dataset_spec_needs_the_matrix_form(user, capsys):
    code, _, err = cli(capsys, "check-code", DIGITS, f"{user}:grads")
    assert code == 2 and "--form matrices" in err


def test_dataset_no_known_mistake_says_where():
    fit = load_fit_spec(DIGITS)

    def half_hidden(W, b, X, Y):
        dW, db = cs231n(W, b, X, Y)
        return [0.5 * dW[0], dW[1]], db
    report = check_dataset(fit, half_hidden, orientation="in_out", batch=30)
    assert report.mistakes == [] and report.located.endswith("output layer 2: all 1010 agree")
    assert report.located.startswith("hidden layer 1:") and "each 0.5 × the derivation's" in report.located


def test_dataset_mistake_with_the_batch_summed_is_named_on_a_small_batch():
    """σ for σ′ and the batch summed where its mean belongs: the small net holds a batch, so both show."""
    fit = load_fit_spec(DIGITS)

    def sigma_back_summed(W, b, X, Y):
        H = sig(X @ W[0] + b[0])
        S = H @ W[1] + b[1]
        P = np.exp(S - S.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        dS = P - Y                                   # summed: no / len(X)
        dH = dS @ W[1].T * H                         # σ for σ′
        return [X.T @ dH, H.T @ dS], [dH.sum(0), dS.sum(0)]
    report = check_dataset(fit, sigma_back_summed, orientation="in_out", batch=50)
    assert [m.describe().split(":")[0] for m in report.mistakes] == \
        ["activation-in-backward (hidden layer 1) together with batch-reduction (summed, m = 50)"]
    assert any("a batch of 2 samples" in n for n in report.notes)
