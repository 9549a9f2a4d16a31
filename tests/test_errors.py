"""Error lines (issue 14): a megabyte key or value is cut with an ellipsis and its length, control
characters are written repr-style, so every error is one short line (derive.errors, the CLI's one place)."""

import pytest

from derive.cli import main
from derive.errors import SHOWN_CHARS, SpecError, clip, shown

MAZUR = """
[network]
layers = [2, 2, 2]
activations = ["sigmoid", "sigmoid"]
loss = "half_sse"
bias = "per_layer"
train_biases = false
[values]
inputs = [0.05, 0.10]
targets = [0.01, 0.99]
weights = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
biases = [0.35, 0.60]
learning_rate = 0.5
"""


def test_a_long_text_is_cut_with_its_length():
    line = clip("x" * 1_000_000)
    assert len(line) <= SHOWN_CHARS and line.endswith("… (1000000 characters)") and line.startswith("xxxx")
    assert clip("short") == "short"


def test_control_characters_are_written_repr_style():
    assert clip("a\nb\tc\rd") == r"a\nb\tc\rd"
    assert clip("red \x1b[31m") == r"red \x1b[31m"                   # no terminal escape reaches the user
    assert clip("a\u2028b\u202ec") == r"a\u2028b\u202ec"               # line separator, right-to-left override
    assert clip("가중치 w1 = \\alpha") == "가중치 w1 = \\alpha"          # printable text stays as written


def test_a_long_value_shows_its_repr_and_length():
    line = shown("v\n" * 500_000)
    assert len(line) <= SHOWN_CHARS and "\n" not in line and line.startswith("'v\\n") and "1000000 characters" in line


def test_spec_error_with_a_megabyte_key_holding_newlines_is_one_short_line():
    err = SpecError("hand." + "k\n" * 500_000, "a known key", got="x" * 10**6, source="spec.toml")
    assert "\n" not in str(err) and len(str(err)) < 400 and "characters" in str(err)


@pytest.mark.parametrize("key", ["a\nb\nc", "q" * 1_000_000, "x\x1b[2Jy" * 1000])
def test_the_cli_prints_a_bad_key_on_one_short_line(tmp_path, capsys, key):
    quoted = key.replace("\\", "\\\\").replace("\n", "\\n").replace("\x1b", "\\u001b")
    spec = tmp_path / "s.toml"
    spec.write_text(MAZUR.replace("[values]", f'"{quoted}" = 1\n[values]'))
    assert main(["gradients", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("derive: ") and len(err) < 700 and "\x1b" not in err
    if len(key) > 100:
        assert f"({len('network.' + key)} characters)" in err     # the dotted key's length


def test_argparse_errors_are_clipped_and_escaped(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "spec.toml", "--epochs", "1\n" * 100_000])
    assert stop.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("derive train: error: argument --epochs") and len(last) < 700 and "characters)" in last
