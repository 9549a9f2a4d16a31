"""derive latex SPEC [PARAM]: the LaTeX of one derivation (or all), step by step, as the notes write it.

    derive latex worked_examples/wikidocs_2_2_2.toml w5 --steps numbers,update --digits 3
    derive latex worked_examples/seven_2_1.toml --sheet        # the 7-formula sheet (linear nets)
"""

from __future__ import annotations

from dataclasses import replace

from derive.errors import OptionError, SpecError
from derive.numeric.network import Network
from derive.cli.common import load
from derive.render.latex import Numbers, equation_md, equation_tex, steps
from derive.render.latex.batch import batch_steps
from derive.render.latex.blocks import Equation
from derive.render.latex.sheets import sheet_blocks
from derive.render.latex.steps import ALL_STEPS


def add_options(p) -> None:
    """--digits and --error-letter, shared with `derive notes`."""
    p.add_argument("--digits", type=int, default=3, metavar="N",
                   help="significant digits of the printed numbers (1-15, default 3)")
    p.add_argument("--error-letter", choices=["E", "F"], default=None,
                   help="write the error as E (E_total, E_o1) or F (F_t, F_o1, as file 000 does)")


def add_parser(sub) -> None:
    p = sub.add_parser("latex", help="LaTeX of the chain-rule derivation of one parameter (or all)")
    p.add_argument("spec", metavar="SPEC", help="a spec file (TOML)")
    p.add_argument("param", metavar="PARAM", nargs="?", help="a parameter: w1, b2 or its notation name (default: all)")
    p.add_argument("--steps", default="chain,closed,numbers,update", metavar="LIST",
                   help="comma-separated: chain, closed, numbers, update (default: these four), and "
                        "shared (a hidden weight through its back-propagated ∂E/∂h, as file 003 does)")
    p.add_argument("--markdown", action="store_true", help="$$ blocks with aligned, instead of align*")
    p.add_argument("--sheet", action="store_true", help="the 7-formula sheet of a linear network instead")
    add_options(p)
    p.set_defaults(run=run)


def load_network(args, net=None):
    """The spec as a Network (`net`, where the caller has read it already), with the error letter switched
    when --error-letter is given."""
    net = load(args.spec) if net is None else net
    if not 1 <= args.digits <= 15:
        raise OptionError(f"--digits: expected a whole number from 1 to 15, got {args.digits}")
    if args.error_letter and args.error_letter != net.spec.error_letter:
        net = Network(replace(net.spec, error_letter=args.error_letter))
    return net


def parse_steps(text: str) -> list[str]:
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in chosen if s not in ALL_STEPS]
    if bad or not chosen:
        raise OptionError(f"--steps: expected a comma-separated list of {', '.join(ALL_STEPS)}, got {text!r}")
    return chosen


def run(args) -> int:
    net = load_network(args)
    render = equation_md if args.markdown else equation_tex
    if args.sheet:
        print("\n".join(render(block) for block in sheet_blocks(net) if isinstance(block, Equation)))
        return 0
    which = parse_steps(args.steps)
    try:
        params = [args.param] if args.param else net.params
        derivations = [net.derivation(p) for p in params]
    except SpecError as exc:
        raise exc.in_file(args.spec) from None
    if net.spec.samples and set(which) & {"shared", "delta"}:
        raise OptionError("--steps: shared and delta are one-sample steps; on a batch spec choose from chain, "
                          "closed, numbers, update")
    if net.spec.samples:   # a batch: (1/m)·Σ_s of the per-sample chain rule, each sample's numbers
        equations = [batch_steps(d, net, args.digits, which) for d in derivations]
    else:
        nums = Numbers(net, args.digits)
        equations = [steps(d, nums, which) for d in derivations]
    # everything is rendered before anything is printed: an error leaves no partial output
    print("\n".join(f"% d{d.total}/d{d.param.name}\n{render(eq)}" for d, eq in zip(derivations, equations)))
    return 0
