"""Exercise sheets and marking: the key's values against an independent computation (tests/reference.py),
values reproducible, readable and different per student, and follow-through marking (propagated)."""

import json

import pytest

from derive.check.exercise import PRE_LIMIT, draw_students, key_json
from derive.check.grade import grade
from derive.core.reading import read_toml
from derive.errors import SpecError
from reference import forward, gradients

LAYERS, ACTS = [2, 2, 2], ["sigmoid", "sigmoid"]


@pytest.fixture(scope="module")
def key():
    from conftest import EXAMPLES
    base = read_toml(EXAMPLES / "mazur_2_2_2.toml")
    return key_json(base, draw_students(base, 4, seed=12, digits=4), seed=12, digits=4)


def expected_answers(values):
    """Every key of file 000's network computed by the reference implementation, not by derive."""
    w, b, x, t = values["weights"], values["biases"], values["inputs"], values["targets"]
    nets, outs = forward(LAYERS, ACTS, w, b, "shared", x)
    E, o, gw, _ = gradients(LAYERS, ACTS, "half_sse", w, b, "shared", x, t)
    out = {"net_h1": nets[0][0], "net_h2": nets[0][1], "out_h1": outs[1][0], "out_h2": outs[1][1],
           "net_o1": nets[1][0], "net_o2": nets[1][1], "out_o1": o[0], "out_o2": o[1],
           "E_o1": 0.5 * (t[0] - o[0]) ** 2, "E_o2": 0.5 * (t[1] - o[1]) ** 2, "E_total": E}
    for i, g in enumerate(gw, start=1):
        out[f"dE_total/dw{i}"] = g
        out[f"w{i}+"] = w[i - 1] - values["learning_rate"] * g
    return out


def test_every_key_value_matches_an_independent_computation(key):
    for s in key["students"]:
        want = expected_answers(s["values"])
        assert set(s["answers"]) == set(want)
        for k, v in want.items():
            assert s["answers"][k] == pytest.approx(v, rel=1e-12, abs=1e-15), (s["id"], k)


def test_values_differ_between_students_and_are_readable(key):
    values = [json.dumps(s["values"], sort_keys=True) for s in key["students"]]
    assert len(set(values)) == len(values) == 4
    for s in key["students"]:
        a = s["answers"]
        assert all(abs(a[n]) <= PRE_LIMIT for n in ("net_h1", "net_h2", "net_o1", "net_o2"))
        assert all(abs(a[f"dE_total/dw{i}"]) >= 1e-3 for i in range(1, 9))    # none rounds to 0 at 4 decimals
        assert s["values"]["learning_rate"] == 0.5


def test_the_same_seed_draws_the_same_values(key, examples):
    base = read_toml(examples / "mazur_2_2_2.toml")
    again = key_json(base, draw_students(base, 4, seed=12, digits=4), seed=12, digits=4)
    other = key_json(base, draw_students(base, 4, seed=13, digits=4), seed=13, digits=4)
    assert again == key and other["students"][0]["values"] != key["students"][0]["values"]


def test_follow_through_marks_a_later_answer_right_and_the_wrong_one_wrong(key):
    s = key["students"][0]
    v, a = s["values"], expected_answers(s["values"])
    wrong_h1 = round(a["out_h1"] + 0.05, 4)                       # the student's slip
    h2 = round(a["out_h2"], 4)
    carried = v["weights"][4] * wrong_h1 + v["weights"][5] * h2 + v["biases"][1]   # net_o1 from their numbers
    rows = [(s["id"], "out_h1", f"{wrong_h1:.4f}"), (s["id"], "out_h2", f"{h2:.4f}"),
            (s["id"], "net_o1", f"{carried:.4f}")]
    assert f"{carried:.4f}" != f"{a['net_o1']:.4f}"
    [marks] = grade(key, rows)
    verdicts = {m.key: m.verdict for m in marks.marks}
    assert verdicts == {"out_h1": "mismatch", "out_h2": "rounded", "net_o1": "propagated"}
    net_o1 = marks.marks[2]
    assert "out_h1" in net_o1.formula and net_o1.propagated_from["out_h1"] == f"{wrong_h1:.4f}"
    assert marks.score == 2


def test_a_wrong_answer_not_computed_from_anything_printed_is_a_mismatch(key):
    s = key["students"][1]
    [marks] = grade(key, [(s["id"], "dE_total/dw5", "0.1234"), (s["id"], "E_total", "nonsense")])
    assert [m.verdict for m in marks.marks] == ["mismatch", "mismatch"]


def test_too_few_decimals_earn_no_mark(key):
    s = key["students"][0]
    short = f"{s['answers']['out_h1']:.1f}"
    [marks] = grade(key, [(s["id"], "out_h1", short)])
    assert marks.marks[0].verdict == "mismatch" and "asks for 4" in marks.marks[0].explanation


def test_hand_key_forms_are_accepted(key):
    s = key["students"][2]
    a = s["answers"]
    [marks] = grade(key, [(s["id"], "dE_total/dw1", f"{a['dE_total/dw1']:.4f}"), (s["id"], "w8+", f"{a['w8+']:.4f}")])
    assert [m.verdict for m in marks.marks] == ["rounded", "rounded"]


@pytest.mark.parametrize("row, key_name", [(("99", "out_h1", "0.5"), "student"), (("01", "out_h9", "0.5"), "key"),
                                           (("01", "i1", "0.5"), "key")])
def test_unknown_students_and_keys_are_named(key, row, key_name):
    with pytest.raises(SpecError) as err:
        grade(key, [row])
    assert err.value.key == key_name
