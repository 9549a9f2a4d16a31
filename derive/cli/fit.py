"""derive fit SPEC [SPEC ...]: train on a data set as file 001 does, and compare with the notes' numbers.

    derive fit worked_examples/file001_dual_layer.toml
    derive fit worked_examples/file001_dual_layer.toml worked_examples/file001_random_init.toml --plot losses.png
    derive fit SPEC SPEC --plot losses.png --ymax 0.6     (the notes' plt.ylim(0, 0.6))
    derive fit SPEC --json          {"runs": [{"loss": …, "accuracy": …, "params": …, "expect": […], …}]}
    derive fit SPEC --latex         the matrix-form derivation the training code is generated from

Exit status 1 when a number of a spec's [expect] table disagrees (beyond 1e-10 relative), else 0.
"""

from __future__ import annotations

import math

from derive.errors import OptionError
from derive.numeric.fit import EXPECT_RTOL, FitResult, compiled, run_fit
from derive.cli.common import emit_json, load_fit
from derive.render.plots import check_png_path, plot_fits
from derive.render.text import table
from derive.core.limits import MAX_EPOCHS


def add_parser(sub) -> None:
    p = sub.add_parser("fit", help="train on a data set (file 001's loops, matrix form) and check the notes' numbers")
    p.add_argument("specs", nargs="+", metavar="SPEC", help="fit spec files (TOML with a [data] table)")
    p.add_argument("--epochs", type=int, help="override [fit] epochs")
    p.add_argument("--lr", type=float, help="override [fit] learning_rate")
    p.add_argument("--plot", metavar="PNG", help="draw the loss per epoch of every spec into this PNG (matplotlib)")
    p.add_argument("--force", action="store_true", help="overwrite the --plot PNG if it exists")
    p.add_argument("--ymax", type=float, help="top of the plot's loss axis (the notes use 0.6)")
    p.add_argument("--latex", action="store_true", help="also print the matrix-form derivation as LaTeX")
    p.add_argument("--json", action="store_true", help='print one JSON object {"runs": [...]}')
    p.set_defaults(run=run)


def run(args) -> int:
    if args.epochs is not None and args.epochs < 1:
        raise _usage("--epochs", "a whole number >= 1", args.epochs)
    if args.lr is not None and not math.isfinite(args.lr):
        raise _usage("--lr", "a finite number", args.lr)
    if args.ymax is not None and not (math.isfinite(args.ymax) and args.ymax > 0):
        raise _usage("--ymax", "a finite number > 0", args.ymax)
    if args.epochs is not None and args.epochs > MAX_EPOCHS:
        raise _usage("--epochs", f"at most {MAX_EPOCHS} (fewer epochs)", args.epochs)
    if args.plot:
        check_png_path(args.plot, args.force)
    specs = [load_fit(path) for path in args.specs]
    results = [run_fit(spec, epochs=args.epochs, learning_rate=args.lr) for spec in specs]
    if args.plot:
        plot_fits(results, args.plot, ymax=args.ymax, force=args.force)
    if args.json:
        emit_json({"runs": [r.to_json() for r in results]})
    else:
        print("\n\n".join(render(r, latex=args.latex) for r in results))
        if args.plot:
            print(f"\nloss curves written to {args.plot}")
    return 0 if all(r.agrees for r in results) else 1


def _usage(option, expected, got):
    return OptionError(f"{option}: expected {expected}, got {got!r}")


def render(r: FitResult, latex: bool = False) -> str:
    """The run for a person: data, network, training, results, and the notes' numbers beside derive's."""
    s = r.spec
    data = s.data
    split = f"{r.n_train} train / {r.n_test} test" if r.n_test else f"{r.n_train} samples, no split"
    features = "all features" if data.features is None else f"features {list(data.features)}"
    prep = [f"/ {data.divide_by:g}"] if data.divide_by else []
    prep += ["StandardScaler"] if data.scale == "standard" else []
    lines = [s.title or s.source or "fit", f"  spec: {s.source}",
             f"  data: {data.dataset}, {features}, {split}" + (f", {' then '.join(prep)}" if prep else ""),
             f"  network: {'-'.join(map(str, s.layers))} {'/'.join(s.activations)}, loss {s.loss}, "
             f"init {s.init.weights}" + (f" (seed {s.init.seed})" if s.init.weights == "normal" else ""),
             f"  training: {r.epochs} epochs, {s.fit.updates.replace('_', '-')} updates, lr {r.learning_rate:g}"
             + (", gradients averaged over m" if s.fit.average and s.fit.updates == "full_batch" else ""),
             f"  last epoch's loss ({s.fit.report_loss} over samples"
             + (f", a clipped to [{s.fit.loss_clip:g}, 1 - {s.fit.loss_clip:g}]" if s.fit.loss_clip else "")
             + f"): {r.loss!r}"]
    if r.accuracy is not None:
        lines.append(f"  test accuracy: {r.accuracy!r}")
    small = {k: v for k, v in r.params.items() if v.size == 1}
    if small:
        lines.append("  " + ", ".join(f"{k} = {float(v.reshape(-1)[0])!r}" for k, v in small.items()))
    if r.expectations:
        rows = [(e.name, e.printed, repr(e.got), f"{e.relative_error:.1e}", "ok" if e.ok else "MISMATCH")
                for e in r.expectations]
        lines += ["", table(rows, ["notes' number", "printed", "derive", "rel. error", f"(tol {EXPECT_RTOL:g})"])]
    if latex:
        md = compiled(s.layers, s.activations, s.loss, s.fit.average)[2]
        lines += ["", md.forward_latex(), md.latex()]
    return "\n".join(lines)
