"""derive train SPEC: the notes' gradient-descent loop, its transcript, its result, its loss curve."""

from __future__ import annotations

import math
import sys

import numpy as np

from derive.cli import dense
from derive.cli.common import load
from derive.numeric.dense import DenseNetwork
from derive.errors import SpecError
from derive.render.text import number, table
from derive.cli.common import emit_json, spec_argument
from derive.numeric.train import BACKENDS, check_finite
from derive.render.plots import check_png_path
from derive.render.plots import plot_losses


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="the notes' training loop (gradient descent, stop below a loss)")
    spec_argument(p)
    p.add_argument("--epochs", type=int, help="number of epochs (default: the spec's [train] epochs)")
    p.add_argument("--lr", type=float, help="learning rate (default: the spec's values.learning_rate)")
    p.add_argument("--stop-below", type=float, help="stop after the epoch whose loss is below this")
    p.add_argument("--dtype", choices=["float64", "float32"], help="arithmetic precision (float32 as Keras)")
    p.add_argument("--loss", help="train under another loss: half_sse, mse, bce, cross_entropy")
    p.add_argument("--print-every", type=int, metavar="K", help="print the notes' transcript every K epochs")
    p.add_argument("--plot", metavar="PNG", help="draw the loss curve into this PNG (needs matplotlib)")
    p.add_argument("--force", action="store_true", help="overwrite the --plot PNG if it exists")
    p.add_argument("--backend", choices=BACKENDS, default="python",
                   help="python (default: generated Python/NumPy loop) or numba (compiled; pip install 'derive[fast]')")
    p.set_defaults(run=run)


def _check(args) -> None:
    if args.epochs is not None and args.epochs < 1:
        raise SpecError("--epochs", "a whole number >= 1", got=args.epochs)
    if args.print_every is not None and args.print_every < 1:
        raise SpecError("--print-every", "a whole number >= 1", got=args.print_every)
    for key, value in (("--lr", args.lr), ("--stop-below", args.stop_below)):
        if value is not None and not math.isfinite(value):
            raise SpecError(key, "a finite number", got=value)


def run(args) -> int:
    _check(args)
    if args.plot:
        check_png_path(args.plot, args.force)
    net = load(args.spec, matrix=True)
    if isinstance(net, DenseNetwork):      # past the weight-by-weight limit: the matrix-form loop
        result, text = dense.train(net, args), dense.train_text
    else:
        with np.errstate(over="ignore", invalid="ignore"):    # divergence is reported below, in one line
            result = net.train(epochs=args.epochs, lr=args.lr, stop_below=args.stop_below, dtype=args.dtype,
                               loss=args.loss, print_every=args.print_every, progress=None,
                               out=sys.stderr if args.json else sys.stdout, backend=args.backend)
        text = render
    check_finite(result)
    if args.plot:
        plot_losses(result, args.plot, title=net.spec.title or str(args.spec), force=args.force)
    if args.json:
        emit_json(result.as_json())
        return 0
    print(text(net, result))
    return 0


def render(net, result) -> str:
    names = net.graph.names_by_canonical
    rows = [(c if names[c] == c else f"{names[c]} ({c})", number(v)) for c, v in result.params.items()]
    outs = _outputs_table(net, result)
    stop = (f"stopped at epoch {result.stopped_at_epoch} (loss below the limit)" if result.stopped_at_epoch is not None
            else f"ran {result.epochs_run} epochs (0..{result.epochs_run - 1})")
    return "\n".join([net.spec.title or net.spec.source or "network", "", f"{stop}, {result.dtype}",
                      f"loss of the last epoch (before its update) = {number(result.loss)}", "",
                      table(rows, ["param", "after the last update"]), "",
                      outs])


def _outputs_table(net, result) -> str:
    """The outputs with the trained parameters: one column, or (a batch) one column per sample."""
    names = [o.name for o in net.graph.outputs]
    if not net.spec.samples:
        return table([(n, number(v)) for n, v in zip(names, result.outputs)], ["output", "with those params"])
    rows = [[n] + [number(row[i]) for row in result.outputs] for i, n in enumerate(names)]
    return table(rows, ["output"] + [f"sample {s} with those params" if s == 1 else f"sample {s}"
                                     for s in range(1, len(result.outputs) + 1)])
