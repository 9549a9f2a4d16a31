"""The README-ready example of docs/property-testing.md, run as written: hypothesis finds its planted bug."""

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "property-testing.md"


def example_source() -> str:
    """The python block after the 'example: planted-bug' marker, exactly as the page shows it."""
    text = DOC.read_text()
    found = re.search(r"<!-- example: planted-bug.*?-->\s*```python\n(.*?)```", text, re.S)
    assert found, "docs/property-testing.md lost its planted-bug example"
    return found.group(1)


def run_example() -> dict:
    namespace: dict = {"__name__": "user_example"}
    exec(compile(example_source(), str(DOC), "exec"), namespace)
    return namespace


def test_hypothesis_finds_the_planted_bug_and_derive_names_it():
    example = run_example()   # the user's own property test, undecorated by us
    with pytest.raises(AssertionError) as caught:
        example["test_my_gradients_match_derive"]()
    message = str(caught.value)
    assert "gradients disagree with the derivation" in message
    assert re.search(r"\(b\d+(, b\d+)*\)", message), message       # only biases are wrong
    assert "diagnosis: bias-wrong-axis" in message and ";" not in message.split("diagnosis:")[1]   # only it


def test_the_same_property_passes_once_the_bug_is_fixed():
    source = example_source().replace("np.full_like(delta, np.sum(delta))", "delta")
    assert source != example_source()
    namespace: dict = {"__name__": "user_example_fixed"}
    exec(compile(source, str(DOC), "exec"), namespace)
    namespace["test_my_gradients_match_derive"]()    # 50 networks, every gradient as derived
