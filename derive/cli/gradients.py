"""derive gradients SPEC: forward values, loss, every ∂E/∂param, the parameters after one update."""

from __future__ import annotations

from derive.cli import dense
from derive.cli.common import emit_json, load, spec_argument
from derive.numeric.dense import DenseNetwork
from derive.render.batch import batch_gradients_text
from derive.render.text import number, table


def add_parser(sub) -> None:
    p = sub.add_parser("gradients", help="forward values, loss, gradients and one update")
    spec_argument(p)
    p.set_defaults(run=run)


def as_json(net) -> dict:
    if net.spec.samples:
        return batch_json(net)
    return {"loss": net.loss(), "outputs": net.evaluation.outputs, "values": net.values(),
            "gradients": net.gradients(), "updated": net.updated()}


def batch_json(net) -> dict:
    """A batch: the reduced loss, gradients and update, and each sample's loss, outputs, values, gradients."""
    samples = [{"loss": e.loss, "outputs": e.outputs, "values": e.values,
                "gradients": {k: e.gradients[k] for k in net.trained}} for e in net.sample_evaluations]
    return {"loss": net.loss(), "reduction": net.spec.reduction, "samples": samples,
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
    if net.spec.samples:
        return batch_gradients_text(net)
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
