"""The commands that answer for a values spec past the weight-by-weight limit, in matrix form
(derive.numeric.dense): gradients, chain (the δ form of one parameter, with numbers), train and check
--numeric (a spread sample of the parameters). The others refuse such a spec in one line (common.load)."""

from __future__ import annotations

import re

from derive.check.dense import check_numeric_dense
from derive.core.limits import MAX_SCALAR_WEIGHTS
from derive.errors import OptionError, SpecError
from derive.numeric.dense import DenseNetwork
from derive.numeric.train import check_finite
from derive.render.text import number, table

__all__ = ["gradients", "chain", "train", "check", "header"]


def header(net: DenseNetwork) -> str:
    title = net.spec.title or net.spec.source or "network"
    return (f"{title}\n\nmatrix form: {net.n_weights} weights, past the weight-by-weight derivation's "
            f"{MAX_SCALAR_WEIGHTS} (δ_L at the output, δ_l = (W_{{l+1}}ᵀ δ_{{l+1}}) ⊙ f′(z_l), ∂E/∂W_l = δ_l a_{{l−1}}ᵀ)")


def gradients(net: DenseNetwork) -> dict:
    """The gradients JSON object (docs/json.md): no per-neuron `values` in matrix form."""
    return {"form": "matrix", "loss": net.loss(), "outputs": net.evaluation.outputs, "gradients": net.gradients(),
            "updated": net.updated()}


def gradients_text(net: DenseNetwork) -> str:
    grads, updated, now = net.gradients(), net.updated(), net.param_values()
    rows = [(name, number(now[name]), number(grads[name]), number(updated[name])) for name in net.trained]
    outs = [(f"output {j + 1}", number(v)) for j, v in enumerate(net.evaluation.outputs)]
    return "\n".join([header(net), "", table(outs, ["output", "value"]), "", f"E = {number(net.loss())}", "",
                      table(rows, ["param", "value", "∂E/∂param", f"after one step (lr {net.spec.learning_rate:g})"])])


def _place(net: DenseNetwork, param: str) -> tuple[str, int, int, int | None]:
    """(kind, layer l from 1, destination j, source i or None) of a canonical parameter name."""
    match = re.fullmatch(r"([wb])([1-9][0-9]*)", param)
    if match is None or param not in net.param_values():
        raise SpecError("PARAM", f"a parameter by its canonical name, w1 … w{net.n_weights} or b1 … "
                                 f"b{len(net.params) - net.n_weights} (past {MAX_SCALAR_WEIGHTS} weights "
                                 "no notation names are made)", got=param)
    k = int(match[2]) - 1
    return net.place(k if match[1] == "w" else net.n_weights + k)


def chain(net: DenseNetwork, param: str) -> tuple[dict, str]:
    """∂E/∂param through the δ of the neuron it feeds, with numbers: (JSON object, text)."""
    kind, l, j, i = _place(net, param)
    e = net.evaluation
    value = net.gradients().get(param, dict(zip(net.params, e.gradients.tolist()))[param])
    delta = e.deltas[l - 1]
    if kind == "w":
        source = "input " + str(i + 1) if l == 1 else f"neuron {i + 1} of layer {l - 1}"
        where = f"W{l}[{j}, {i}]: from {source} to neuron {j + 1} of layer {l}"
        form = f"δ{l}[{j}] · a{l - 1}[{i}]"
        numbers = f"{number(delta[j])} × {number(e.acts[l - 1][i])}"
    elif net.bias_sizes[l - 1] == 1:
        where, form, numbers = f"the shared bias of layer {l}", f"Σ_j δ{l}[j]", f"the sum of {len(delta)} terms"
    else:
        where, form, numbers = f"b{l}[{j}]: the bias of neuron {j + 1} of layer {l}", f"δ{l}[{j}]", number(delta[j])
    lines = [header(net), "", f"{param} is {where}", f"∂E/∂{param} = {form} = {numbers} = {number(value)}"]
    if not (kind == "b" and net.bias_sizes[l - 1] == 1):
        above = net.depth - l
        lines.append(f"  δ{l}[{j}] = ∂E/∂z{l}[{j}]: " + ("the output's δ" if not above else
                     f"back-propagated from the output through {above} layer{'s' if above > 1 else ''}"))
    text = "\n".join(lines)
    return {"form": "matrix", "param": param, "name": param, "error": "E", "value": value,
            "delta_form": form}, text


def refuse_train_options(args) -> None:
    """The options the matrix-form loop does not take, each refused by name."""
    for option, given in (("--print-every", args.print_every is not None), ("--loss", bool(args.loss)),
                          ("--backend numba", args.backend != "python")):
        if given:
            raise OptionError(f"{option}: not past {MAX_SCALAR_WEIGHTS} weights (the matrix-form loop prints no "
                              "transcript, trains the spec's loss and runs in NumPy)")


def train(net: DenseNetwork, args):
    refuse_train_options(args)
    result = net.train(epochs=args.epochs, lr=args.lr, stop_below=args.stop_below, dtype=args.dtype)
    return check_finite(result)


def train_text(net: DenseNetwork, result) -> str:
    stop = (f"stopped at epoch {result.stopped_at_epoch} (loss below the limit)" if result.stopped_at_epoch is not None
            else f"ran {result.epochs_run} epochs (0..{result.epochs_run - 1})")
    rows = [(name, number(v)) for name, v in result.params.items()]
    outs = [(f"output {j + 1}", number(v)) for j, v in enumerate(result.outputs)]
    return "\n".join([header(net), "", f"{stop}, {result.dtype}",
                      f"loss of the last epoch (before its update) = {number(result.loss)}", "",
                      table(rows, ["param", "after the last update"]), "", table(outs, ["output", "with those params"])])


def check(net: DenseNetwork, args):
    """check --numeric in matrix form; a [hand] table cannot be checked past the limit (one line, exit 2)."""
    if net.spec.hand and not args.numeric:
        raise SpecError("hand", f"a net of at most {MAX_SCALAR_WEIGHTS} weights to check printed values (their exact "
                                "values are derived weight by weight); check --numeric checks this one's gradients",
                        got=f"{net.n_weights} weights", source=net.spec.source)
    if not args.numeric:
        return None
    if args.richardson:
        raise OptionError(f"--richardson: not past {MAX_SCALAR_WEIGHTS} weights (central differences only)")
    return check_numeric_dense(net, dtype=args.dtype)
