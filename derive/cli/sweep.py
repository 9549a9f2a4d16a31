"""derive sweep SPEC: many copies of a network trained in lock-step (learning rates or random starts)."""

from __future__ import annotations

import math

import numpy as np

from derive.cli.common import load
from derive.core.limits import MAX_JSON_NUMBERS
from derive.numeric.train import BACKENDS
from derive.errors import SpecError
from derive.render.text import number, table
from derive.cli.common import emit_json, spec_argument
from derive.numeric.sweep import parse_lrs, sweep
from derive.render.plots import check_png_path
from derive.render.plots import plot_sweep


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="train many copies at once: over learning rates or random initial weights")
    spec_argument(p)
    p.add_argument("--lr", metavar="RATES", help="START:STOP:COUNT (e.g. 0.001:0.1:50) or a list 0.05,0.01,0.005")
    p.add_argument("--copies", type=int, help="copies from random initial weights (uniform in ±--scale)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random initial weights (default 0)")
    p.add_argument("--scale", type=float, default=1.0, help="initial weights uniform in [-scale, scale]")
    p.add_argument("--epochs", type=int, help="epochs (default: the spec's [train] epochs)")
    p.add_argument("--stop-below", type=float, help="each copy stops after its epoch with loss below this")
    p.add_argument("--dtype", choices=["float64", "float32"], help="arithmetic precision")
    p.add_argument("--backend", choices=BACKENDS, default="python",
                   help="numpy (default) or numba (compiled, needs pip install 'derive[fast]')")
    p.add_argument("--plot", metavar="PNG", help="epochs-to-stop and final loss per copy (needs matplotlib)")
    p.add_argument("--force", action="store_true", help="overwrite the --plot PNG if it exists")
    p.set_defaults(run=run)


def run(args) -> int:
    if (args.lr is None) == (args.copies is None):
        raise SpecError("--lr/--copies", "exactly one of --lr RATES or --copies N")
    if args.epochs is not None and args.epochs < 1:
        raise SpecError("--epochs", "a whole number >= 1", got=args.epochs)
    if args.seed < 0:
        raise SpecError("--seed", "a whole number >= 0", got=args.seed)
    for key, value in (("--stop-below", args.stop_below), ("--scale", args.scale)):
        if value is not None and not math.isfinite(value):
            raise SpecError(key, "a finite number", got=value)
    if args.plot:
        check_png_path(args.plot, args.force)
    net = load(args.spec)
    t = net.spec.train
    lrs = parse_lrs(args.lr) if args.lr else None
    if args.json:
        check_json_size(net, args.copies if lrs is None else len(lrs), "--copies" if lrs is None else "--lr")
    result = sweep(net, lrs=lrs, copies=args.copies, seed=args.seed, scale=args.scale, epochs=args.epochs or t.epochs,
                   stop_below=t.stop_below if args.stop_below is None else args.stop_below,
                   dtype=args.dtype or t.dtype, backend=args.backend, progress=None)
    if args.plot:
        plot_sweep(result, args.plot, title=net.spec.title or str(args.spec), force=args.force)
    if args.json:
        emit_json(result.as_json())
        return 0
    print(render(net, result))
    return 0


def check_json_size(net, copies: int, key: str) -> None:
    """--json writes every copy's parameters and outputs: past MAX_JSON_NUMBERS, one line before training."""
    per_copy = 4 + len(net.params) + net.spec.layers[-1] * max(1, len(net.spec.samples))   # every parameter
    if copies * per_copy > MAX_JSON_NUMBERS:
        raise SpecError(key, f"at most {max(1, MAX_JSON_NUMBERS // per_copy):,} copies with --json ({per_copy:,} "
                             f"numbers a copy, at most {MAX_JSON_NUMBERS:,} in all; without --json the summary has "
                             "no limit)", got=copies)


def render(net, result, limit: int = 60) -> str:
    """The summary and a table of the copies: all of them up to `limit`, else the first and last limit/2
    (only those rows are formatted: 100,000 copies print in a moment)."""
    n = result.copies
    ks = list(range(n)) if n <= limit else [*range(limit // 2), None, *range(n - limit // 2, n)]
    shown = [("…",) * 5 if k is None else _row(result, k) for k in ks]
    stopped = int(np.sum(result.stopped_at_epoch >= 0))
    return "\n".join([net.spec.title or net.spec.source or "network", "",
                      f"{result.copies} copies in lock-step, {stopped} stopped below the limit, "
                      f"{result.seconds:.3f} s", "",
                      table(shown, ["copy", "lr", "stopped at epoch", "epochs run", "last loss"])])


def _row(result, k: int) -> tuple:
    s = result.stopped_at_epoch[k]
    return (k, f"{result.lrs[k]:.6g}", "-" if s < 0 else int(s), int(result.epochs_run[k]),
            number(float(result.loss[k])))
