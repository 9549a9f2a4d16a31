"""derive check-code SPEC FILE.py:FUNC: a user's gradient function against the derivation (exit 0 agree, 1 not)."""

from __future__ import annotations

import argparse
import sys

from derive.cli.common import read_spec
from derive.errors import UserCodeError
from derive.render.text import number, table
from derive.check.user_code.compare import GradientReport, check_gradients
from derive.check.user_code.load import DEFAULT_TIMEOUT, ContainedFunction, load_function
from derive.check.user_code.dense import NOT_LOOKED_FOR, check_gradients_dense
from derive.core.limits import MAX_SCALAR_WEIGHTS
from derive.numeric.dense import DenseNetwork
from derive.check.user_code.dataset import check_dataset
from derive.core.fitspec import FitSpec
from derive.errors import OptionError
from derive.check.user_code.matrix_form import FORMS, ContainedMatrixFunction
from derive.numeric.layout import ORIENTATIONS
from derive.cli.common import emit_json, spec_argument


def add_parser(sub) -> None:
    p = sub.add_parser("check-code", help="check a gradient function against the derivation",
                       description="Call FUNC(params) -> {param: dE/dparam} from FILE.py and compare it with the "
                                   "derivation; where they disagree, name the known backprop mistake that "
                                   "gives the same numbers. Exit 0 agree, 1 disagree, 2 bad input.")
    spec_argument(p)
    p.add_argument("target", metavar="FILE.py:FUNC", help="the Python file and the gradient function in it")
    p.add_argument("--points", type=_count, default=0, metavar="N",
                   help="also compare at N random parameter points near the spec's (seeded)")
    p.add_argument("--rtol", type=_tolerance, default=1e-6, metavar="X", help="relative tolerance (default 1e-6)")
    p.add_argument("--atol", type=_tolerance, default=1e-9, metavar="X", help="absolute tolerance (default 1e-9)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random points (default 0)")
    p.add_argument("--form", choices=FORMS, default="dict",
                   help="dict: FUNC(params) -> {param: gradient} (default); matrices: FUNC(weights, biases, x, t) "
                        "-> (dweights, dbiases), one array per layer")
    p.add_argument("--orientation", choices=ORIENTATIONS, default="out_in",
                   help="matrices: weights as (n_out, n_in) (out_in, default: Nielsen, PyTorch) or (n_in, n_out) "
                        "(in_out: CS231n, Keras)")
    p.add_argument("--batch", type=_positive, default=None, metavar="N",
                   help="data-set spec ([data], [init]): the first N training samples (default all)")
    p.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds for importing FILE.py and for each call of FUNC (both forms run it in a child process) "
                        f"(default {DEFAULT_TIMEOUT:g})")
    p.set_defaults(run=run)


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 0, got {text!r}")
    return n


def _positive(text: str) -> int:
    n = _count(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, got {text!r}")
    return n


def _float_where(ok, expected: str):
    """An argparse type: a float for which ok(x) holds, else the one line `expected …, got …`."""
    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            x = float("nan")
        if not ok(x):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return x
    return parse


_seconds = _float_where(lambda x: 0 < x <= 86400, "seconds > 0 (at most a day)")
_tolerance = _float_where(lambda x: 0 <= x < float("inf"), "a finite number ≥ 0")


def run(args) -> int:
    loaded = read_spec(args.spec, matrix=True)          # the file read once, either kind
    fit = loaded if isinstance(loaded, FitSpec) else None
    if fit is None:
        net = loaded
        if isinstance(net, DenseNetwork):      # past the weight-by-weight limit: the matrix form's gradients
            return dense_run(net, args)
        if args.batch is not None:
            raise OptionError("--batch: only for a data-set spec ([data], [init])")
    elif args.form != "matrices":
        raise OptionError(f"{args.spec}: a data-set spec ([data]) is checked in the matrix form: pass --form matrices")
    try:
        if fit is None and args.form == "dict":
            fn = ContainedFunction(args.target, args.timeout)   # a child process: nothing it does reaches us
            try:
                report = check_gradients(net, fn, rtol=args.rtol, atol=args.atol, points=args.points, seed=args.seed)
            finally:
                fn.close()
        else:   # the matrix form: FUNC(weights, biases, x, t) in a child process too
            fn = ContainedMatrixFunction(args.target, args.timeout)
            try:
                if fit is None:
                    report = check_gradients(net, fn, rtol=args.rtol, atol=args.atol, points=args.points,
                                             seed=args.seed, form=args.form, orientation=args.orientation)
                else:
                    report = check_dataset(fit, fn, orientation=args.orientation, batch=args.batch, rtol=args.rtol,
                                           atol=args.atol, points=args.points, seed=args.seed)
            finally:
                fn.close()
    except UserCodeError as exc:
        theirs = getattr(exc, "user_traceback", None)
        if theirs:
            print(f"---- the traceback of your code ({args.target}) ----\n{theirs}\n"
                  "---- end of your traceback ----", file=sys.stderr)
        raise
    if args.json:
        emit_json(report.as_json())
    else:
        print(render(report, args.spec, args.target, args.seed))
    return 0 if report.agree else 1


def dense_run(net, args) -> int:
    """check-code (dict form) on a values spec past the weight-by-weight limit, in a child process as always."""
    if args.form != "dict" or args.batch is not None:
        raise OptionError(f"--form {args.form}{' --batch' if args.batch is not None else ''}: past "
                          f"{MAX_SCALAR_WEIGHTS} weights check-code takes the dict form (a data-set spec takes "
                          "--form matrices)")
    fn = ContainedFunction(args.target, args.timeout)
    try:
        report = check_gradients_dense(net, fn, rtol=args.rtol, atol=args.atol, points=args.points, seed=args.seed)
    except UserCodeError as exc:
        theirs = getattr(exc, "user_traceback", None)
        if theirs:
            print(f"---- the traceback of your code ({args.target}) ----\n{theirs}\n"
                  "---- end of your traceback ----", file=sys.stderr)
        raise
    finally:
        fn.close()
    if args.json:
        emit_json({**report.as_json(), "form": "matrix"})
    else:
        print(render(report, args.spec, args.target, args.seed))
    return 0 if report.agree else 1


SHOWN = 40   # a larger net lists only its disagreeing parameters, the first SHOWN of them


def render(report: GradientReport, spec: str, target: str, seed: int) -> str:
    n = len(report.points) - 1
    where = report.origin + (f" and {n} random point{'s' * (n != 1)} (seed {seed})" if n else "")
    checks = list(report.params.values())
    if len(checks) > SHOWN:
        checks = [c for c in checks if not c.ok][:SHOWN]
    rows = [((f"{c.name} {report.position(c.name)}" if report.positions else c.name), number(c.expected),
             number(c.got), f"{c.abs_error:.2e}", f"{c.rel_error:.2e}",
             f"{report.tolerance(c.expected):.1e}", "spec" if c.point == 0 else f"point {c.point}",
             "ok" if c.ok else "DISAGREE") for c in checks]
    header = ["param", "derived", "your code", "|diff|", "rel. error", "tolerance", "at", "verdict"]
    lines = [f"{target} against {spec}",
             f"checked at {where}; ok when |got − derived| ≤ atol + rtol·|derived| "
             f"(rtol {report.rtol:g}, atol {report.atol:g})", ""]
    if rows:
        lines += [table(rows, header), ""]
    bad = report.disagreeing
    if len(rows) < len(bad):
        lines.append(f"(the first {len(rows)} of {len(bad)} disagreeing parameters shown)")
    if not bad:
        lines.append(f"all {len(report.params)} gradients agree with the derivation.")
        lines += report.notes
        return "\n".join(lines)
    names = ", ".join(bad[:SHOWN]) + (f", … ({len(bad) - SHOWN} more)" if len(bad) > SHOWN else "")
    lines.append(f"{len(bad)} of {len(report.params)} gradients disagree: {names}.")
    if report.mistakes:
        lines.append("diagnosis: the same numbers come from " +
                     ("this known mistake:" if len(report.mistakes) == 1 else "each of these known mistakes:"))
        lines += [f"  - {m.describe()}" for m in report.mistakes]
    elif report.diagnosis:
        lines.append(f"diagnosis: {report.diagnosis}")
    elif NOT_LOOKED_FOR not in report.notes:
        lines.append("diagnosis: no mistake in derive's library gives these numbers.")
    if report.located:
        lines.append(f"where: {report.located}")
    lines += report.notes
    return "\n".join(lines)
