"""The graph: names from the notation presets, defining equations, numbering of parameters."""

import sympy as sp

import derive


def names(net):
    return list(net.graph.nodes)


def test_net_out_names_file_000(examples):
    g = derive.load(examples / "mazur_2_2_2.toml").graph
    for name in ["i1", "i2", "net_h1", "out_h1", "net_o2", "out_o2", "target_o1", "E_o1", "E_total", "b1", "b2"]:
        assert name in g.nodes
    i1, i2, w1, w2, b1 = sp.symbols("i1 i2 w1 w2 b1", real=True)
    assert sp.simplify(g.nodes["net_h1"].definition - (w1 * i1 + w2 * i2 + b1)) == 0
    assert g.nodes["net_h2"].local["b1"] == 1          # one hidden bias shared by both neurons
    assert g.nodes["net_o1"].local["out_h2"] == sp.Symbol("w6", real=True)


def test_error_letter_f_writes_f_o1_and_f_t():
    net = derive.network([2, 2, 2], ["sigmoid", "sigmoid"], inputs=[0.05, 0.1], targets=[0.01, 0.99],
                         weights=[0.1] * 8, biases=[0.35, 0.6], bias="shared", error_letter="F")
    assert {"F_o1", "F_o2", "F_t"} <= set(net.graph.nodes)


def test_z_h_o_numbers_pre_activations_across_layers(examples):
    g = derive.load(examples / "wikidocs_2_2_2.toml").graph
    assert [n.name for layer in g.layers for n in layer.nets] == ["z1", "z2", "z3", "z4"]
    assert [n.name for layer in g.layers for n in layer.outs] == ["h1", "h2", "o1", "o2"]
    assert [t.name for t in g.targets] == ["t1", "t2"] and g.total.name == "E_total"


def test_seven_drops_single_indices_and_fuses_linear_neurons(examples):
    g = derive.load(examples / "seven_1_1.toml").graph
    assert set(g.nodes) == {"x", "w", "b", "y", "yT", "E"}
    assert [p.canonical for p in g.params] == ["w1", "b1"]
    g2 = derive.load(examples / "seven_2_1.toml").graph
    assert {"x1", "x2", "w1", "w2", "b", "y", "yT", "E"} == set(g2.nodes)


def test_deeper_nets_name_hidden_layers():
    net = derive.network([2, 3, 2, 1], ["tanh", "relu", "sigmoid"], inputs=[1, 2], targets=[1],
                         weights=[0.1] * 14, biases=[0.0] * 6)
    assert "out_h1_3" in net.graph.nodes and "net_h2_2" in net.graph.nodes and "out_o1" in net.graph.nodes


def test_weights_numbered_by_destination_then_source(examples):
    g = derive.load(examples / "mazur_2_2_2.toml").graph
    # w3: i1 -> h2, w7: h1 -> o2
    assert g.nodes["net_h2"].local["w3"] == sp.Symbol("i1", real=True)
    assert g.nodes["net_o2"].local["w7"] == sp.Symbol("out_h1", real=True)
