"""derive chain SPEC PARAM: the chain-rule paths for one parameter, as the notes write them."""

from __future__ import annotations

from derive.cli.common import load
from derive.core.limits import MAX_PATHS, MAX_SCALAR_WEIGHTS
from derive.cli import dense
from derive.numeric.dense import DenseNetwork
from derive.errors import OptionError, SpecError
from derive.render.batch import batch_chain_text
from derive.render.text import derivation_text
from derive.cli.common import emit_json, spec_argument


def add_parser(sub) -> None:
    p = sub.add_parser("chain", help="the chain-rule paths from the error down to one parameter")
    spec_argument(p)
    p.add_argument("param", metavar="PARAM", help="a parameter: w1, b2 or its notation name")
    p.add_argument("--prove", action="store_true",
                   help="also prove (exactly, structurally) that the path sum and the δ form equal sympy.diff of the loss")
    p.set_defaults(run=run)


def as_json(net, d) -> dict:
    """The paths (all of them up to MAX_PATHS, counted first; past it the first MAX_PATHS) and their count."""
    paths = d.paths if d.path_count <= MAX_PATHS else d.first_paths(MAX_PATHS)
    return {"param": d.param.canonical, "name": d.param.name, "error": d.total,
            "paths": [[f.as_pair() for f in path] for path in paths], "path_count": d.path_count,
            "value": net.reduce([e.gradients[d.param.canonical] for e in net.sample_evaluations]),
            **_batch_fields(net, d)}


def _batch_fields(net, d) -> dict:
    """A batch spec: the reduction and each sample's ∂E/∂param (the paths hold for every sample)."""
    if not net.spec.samples:
        return {}
    return {"reduction": net.spec.reduction,
            "samples": [e.gradients[d.param.canonical] for e in net.sample_evaluations]}


def _verdict(p) -> str:
    """'proved (structural)' only for an exact method; a numeric check reads 'holds: checked at 5 points'."""
    if not p.holds:
        return f"NOT equal ({p.method})"
    return f"proved ({p.method})" if p.exact else f"holds: {p.method}, not proved"


def run(args) -> int:
    net = load(args.spec, matrix=True)
    if isinstance(net, DenseNetwork):      # past the weight-by-weight limit: the δ form in matrix form
        if args.prove:
            raise OptionError(f"--prove: a net of at most {MAX_SCALAR_WEIGHTS} weights (proofs go weight by weight); "
                              "drop --prove, or check the gradients with derive check --numeric")
        obj, text = dense.chain(net, args.param)
        emit_json(obj) if args.json else print(text)
        return 0
    try:
        d = net.derivation(args.param)
    except SpecError as exc:
        raise exc.in_file(args.spec) from None
    if args.prove and d.path_count > MAX_PATHS:
        raise OptionError(f"--prove: at most {MAX_PATHS} paths to prove (∂{d.total}/∂{d.param.name} has "
                          f"{d.path_count}); drop --prove, or check the gradients with derive check --numeric")
    proofs = d.prove() if args.prove else None
    if args.json:
        out = as_json(net, d)
        if proofs:
            out["proofs"] = {k: {"holds": p.holds, "method": p.method, "detail": p.detail} for k, p in proofs.items()}
        emit_json(out)
    else:
        print(batch_chain_text(d, net) if net.spec.samples else derivation_text(d, net.values(), net.program.delta_rewrites))
        for claim, p in (proofs or {}).items():
            print(f"{claim}: {_verdict(p)}" + (f" ({p.detail})" if p.detail else ""))
    if proofs and not all(p.holds for p in proofs.values()):
        return 1
    return 0
