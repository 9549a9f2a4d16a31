"""The main job: every worked example of the notes derived, checked and rendered into --out.

Each step runs the `derive` command line as a user would, shows what it printed, and keeps its
output under --out; the job fails (exit 1) if any step fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "worked_examples").glob("*.toml"))


def steps(example: Path, out: Path) -> list[tuple[list[str], Path | None]]:
    """The commands run for one example, with the file each one's output is kept in."""
    stem = out / example.stem
    if _is_fit_spec(example):
        return _fit_steps(example, out)
    return [
        (["gradients", str(example)], stem.with_suffix(".gradients.txt")),
        (["gradients", str(example), "--json"], stem.with_suffix(".gradients.json")),
    ] + ([(["check", str(example)], stem.with_suffix(".check.txt"))] if _has_hand(example) else []) \
      + _notes(example, out) + _train(example, out)


def _train(example: Path, out: Path) -> list[tuple[list[str], Path | None]]:
    """The notes' training loop with the spec's [train] defaults (file 004's nets, file 000's net), its
    loss curve, and for the 1-1 neuron the notes' comparison of learning rates as one sweep."""
    if not example.stem.startswith(("seven_", "mazur")):
        return []
    stem = out / example.stem
    runs = [(["train", str(example), "--plot", str(stem.with_suffix(".losses.png"))], stem.with_suffix(".train.txt")),
            (["train", str(example), "--json"], stem.with_suffix(".train.json"))]
    if example.stem == "seven_1_1":
        runs.append((["sweep", str(example), "--lr", "0.05,0.01,0.005", "--epochs", "2000",
                      "--plot", str(stem.with_suffix(".sweep.png"))], stem.with_suffix(".sweep.txt")))
    return runs


def _notes(example: Path, out: Path) -> list[tuple[list[str], Path | None]]:
    """The example as lecture notes: out/<example>.tex (and .pdf where pdflatex exists) and .md."""
    import shutil
    import tomllib
    if "data" in tomllib.loads(example.read_text(encoding="utf-8")):   # a fit spec, not a network
        return []
    tex, md = out / f"{example.stem}.tex", out / f"{example.stem}.md"
    pdf = ["--pdf"] if shutil.which("pdflatex") else []
    return [(["notes", str(example), "-o", str(tex), "--force", *pdf], None),
            (["notes", str(example), "-o", str(md), "--force"], None)]


def _is_fit_spec(example: Path) -> bool:
    """A spec with a [data] table trains on a data set (`derive fit`), it has no [values] to derive at."""
    import tomllib
    return "data" in tomllib.loads(example.read_text(encoding="utf-8"))


def _fit_steps(example: Path, out: Path) -> list[tuple[list[str], Path | None]]:
    """Train as file 001 does, check the notes' numbers; loss curves as PNG (Dual vs Random init together)."""
    stem = out / example.stem
    runs = [(["fit", str(example)], stem.with_suffix(".fit.txt")),
            (["fit", str(example), "--json"], stem.with_suffix(".fit.json"))]
    if example.stem == "file001_random_init":
        dual = example.with_name("file001_dual_layer.toml")
        runs.append((["fit", str(dual), str(example), "--plot", str(out / "file001_dual_vs_random.png"),
                      "--ymax", "0.6"], None))
    if example.stem == "file001_digits_multiclass":
        runs.append((["fit", str(example), "--plot", str(stem.with_suffix(".losses.png"))], None))
    return runs


def _has_hand(example: Path) -> bool:
    """Whether the example carries the notes' printed values (a [hand] table) to check."""
    import tomllib
    return bool(tomllib.loads(example.read_text(encoding="utf-8")).get("hand"))


# The notes' own NumPy code checked as user code: (spec, FILE.py:FUNC, the exit status expected).
# Exit 1 is expected: derive finds file 000's class and file 001's MultiClassNetwork wrong.
CODE_CHECKS = [
    ("mazur_2_2_2.toml", "notes_000_neural_network.py:gradients", 1),
    ("mazur_2_2_2.toml", "notes_000_neural_network_fixed.py:gradients", 0),
    ("dual_layer_2_2_1.toml", "notes_001_dual_layer.py:gradients", 0),
    ("multiclass_2_2_3.toml", "notes_001_multiclass.py:gradients", 1),
]


def code_steps(out: Path) -> list[tuple[list[str], Path, int]]:
    """`derive check-code` on the notes' code, each with its output file and expected exit status."""
    w = ROOT / "worked_examples"
    return [(["check-code", str(w / spec), str(w / target), "--points", "5"],
             out / f"{target.split('.')[0]}.check-code.txt", expect) for spec, target, expect in CODE_CHECKS]


def run(args: list[str], keep: Path | None, expect: int = 0) -> bool:
    print(f"$ derive {' '.join(args)}" + (f"   (expected exit {expect})" if expect else ""), flush=True)
    done = subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True)
    if keep is not None:
        keep.write_text(done.stdout)
    lines = done.stdout.splitlines()
    shown = lines if len(lines) <= 40 else lines[:40] + [f"… ({len(lines) - 40} more lines in {keep})"]
    print("\n".join(shown))
    if done.returncode != expect:
        print(done.stderr, file=sys.stderr)
        print(f"FAILED (exit {done.returncode}, expected {expect}): derive {' '.join(args)}", file=sys.stderr)
    return done.returncode == expect


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "out")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    failed = [args for example in EXAMPLES for args, keep in steps(example, out) if not run(args, keep)]
    failed += [args for args, keep, expect in code_steps(out) if not run(args, keep, expect)]
    print(f"\n{len(EXAMPLES)} worked examples; outputs in {out}; {len(failed)} step(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
