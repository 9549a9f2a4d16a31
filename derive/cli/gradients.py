"""derive gradients SPEC: forward values, loss, every ∂E/∂param, the parameters after one update."""

from __future__ import annotations

from derive.cli.common import load
from derive.render.text import number, table
from derive.cli import dense
from derive.cli.common import emit_json, spec_argument
from derive.numeric.dense import DenseNetwork


def add_parser(sub) -> None:
    p = sub.add_parser("gradients", help="forward values, loss, gradients and one update")
    spec_argument(p)
    p.set_defaults(run=run)


def as_json(net) -> dict:
    return {"loss": net.loss(), "outputs": net.evaluation.outputs, "values": net.values(),
            "gradients": net.gradients(), "updated": net.updated()}


def run(args) -> int:
    net = load(args.spec, matrix=True)
    if isinstance(net, DenseNetwork):      # past the weight-by-weight limit: the matrix form
        emit_json(dense.gradients(net)) if args.json else print(dense.gradients_text(net))
        return 0
    if args.json:
        emit_json(as_json(net))
        return 0
    print(render(net))
    return 0


def render(net) -> str:
    g, values = net.graph, net.values()
    forward = [(n.name, number(values[n.name])) for n in g.nodes.values() if not n.is_leaf]
    grads, updated, now = net.gradients(), net.updated(), net.param_values()
    by_canonical = g.names_by_canonical
    rows = [(name if by_canonical[name] == name else f"{by_canonical[name]} ({name})", number(now[name]),
             number(grads[name]), number(updated[name])) for name in net.trained]
    title = net.spec.title or net.spec.source or "network"
    return "\n".join([
        title, "",
        table(forward, ["quantity", "value"]), "",
        f"{g.total.name} = {number(net.loss())}", "",
        table(rows, ["param", "value", f"∂{g.total.name}/∂param", f"after one step (lr {net.spec.learning_rate:g})"]),
    ])
