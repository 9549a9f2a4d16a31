"""derive check SPEC: every [hand] value against the exact one (and, with --numeric, every gradient
against central differences and the complex step). Exit 0 all agree, 1 any mismatch, 2 bad input."""

from __future__ import annotations

from derive.cli import dense
from derive.cli.common import load
from derive.core.limits import MAX_SCALAR_WEIGHTS
from derive.numeric.dense import DenseNetwork
from derive.check import check_hand, check_numeric
from derive.render.text import table
from derive.cli.common import emit_json, spec_argument


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="hand values (and, with --numeric, gradients) against exact ones",
                       description="Compare every entry of the spec's [hand] table with the exact value, knowing "
                                   "its printed digits: rounded, truncated, propagated (redone from other printed "
                                   "values) or mismatch. --numeric also checks every derived gradient against "
                                   "central differences and the complex step. Exit 0 all agree, 1 any mismatch.")
    spec_argument(p)
    p.add_argument("--numeric", action="store_true",
                   help="also check every ∂E/∂param against finite differences and the complex step")
    p.add_argument("--richardson", action="store_true", help="with --numeric: add Richardson-extrapolated differences")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="with --numeric: the precision of the numerical references (default float64)")
    p.set_defaults(run=run)


def run(args) -> int:
    net = load(args.spec, matrix=True)
    if isinstance(net, DenseNetwork):      # past the weight-by-weight limit: --numeric on a sample, no hand values
        return dense_run(net, args)
    hand = check_hand(net)
    numeric = check_numeric(net, dtype=args.dtype, richardson=args.richardson) if args.numeric else None
    if args.json:
        out = hand.as_json()
        if numeric is not None:
            out["numeric"] = numeric.as_json()
        emit_json(out)
    else:
        title = net.spec.title or net.spec.source or "network"
        parts = [title, "", render_hand(hand, net.spec.source)]
        if numeric is not None:
            parts += ["", render_numeric(numeric)]
        print("\n".join(parts))
    ok = hand.ok and (numeric is None or numeric.ok)
    return 0 if ok else 1


def dense_run(net, args) -> int:
    """check on a net past the weight-by-weight limit: --numeric in matrix form; without it, nothing to check
    (no [hand] table) or one line (a [hand] table needs the weight-by-weight derivation)."""
    numeric = dense.check(net, args)
    if numeric is None:
        print(f"no [hand] table in {net.spec.source or 'this spec'}: no printed values to check")
        return 0
    hand = f"[hand]: not checked (past {MAX_SCALAR_WEIGHTS} weights)" if net.spec.hand else None
    if args.json:
        emit_json({"checks": [], "numeric": numeric.as_json(), "form": "matrix"})
    else:
        print("\n".join([dense.header(net), ""] + ([hand, ""] if hand else []) + [render_numeric(numeric)]))
    return 0 if numeric.ok else 1


def render_hand(report, source=None) -> str:
    if not report.checks:
        return f"no [hand] table in {source or 'this spec'}: no printed values to check"
    rows = [(c.name, c.hand, c.exact_text, c.verdict) for c in report.checks]
    lines = [table(rows, ["value", "printed", "exact", "verdict"]), "", "why:"]
    lines += [f"  {c.name}: {c.explanation}" for c in report.checks if c.verdict != "rounded"]
    rest = "every" if all(c.verdict == "rounded" for c in report.checks) else "every other"
    lines.append(f"  {rest} printed value is the exact one rounded to its printed digits")
    counts = {v: sum(c.verdict == v for c in report.checks) for v in ("rounded", "truncated", "propagated", "mismatch")}
    summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    bad = ", ".join(c.name for c in report.mismatches)
    lines += ["", f"{len(report.checks)} printed values: {summary}" + (f" — MISMATCH: {bad}" if bad else "")]
    return "\n".join(lines)


def render_numeric(report) -> str:
    cs = any(r.complex_step is not None for r in report.rows)
    rich = any(r.richardson is not None for r in report.rows)
    header = ["param", "derived", "central diff."] + (["Richardson"] if rich else []) + \
        (["complex step"] if cs else []) + ["abs error", "rel error", "tolerance", "verdict"]
    rows = []
    for r in report.rows:
        row = [r.param, f"{r.derived:.12g}", f"{r.central:.12g}"]
        row += [f"{r.richardson:.12g}"] if rich else []
        row += [f"{r.complex_step:.12g}"] if cs else []
        row += [f"{r.abs_error:.1e}", f"{r.rel_error:.1e}", f"{r.atol:.0e} + {r.rtol:.0e}·|g|",
                "ok" if r.ok else "MISMATCH"]
        rows.append(row)
    reference = report.rows[0].reference if report.rows else "complex step"
    lines = [f"gradients against numerical references ({report.dtype}; verdict against the {reference})",
             table(rows, header)]
    lines += [f"note: {n}" for n in report.notes]
    bad = report.failures
    lines.append(f"{len(report.rows)} gradients: " + (f"MISMATCH: {', '.join(bad)}" if bad else "all agree"))
    return "\n".join(lines)
