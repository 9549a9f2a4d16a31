"""The `derive` command line: a thin shell over the library. Each command lives in its own module.

    derive gradients SPEC [--json]      forward values, loss, gradients, one update
    derive chain SPEC PARAM [--json]    the chain-rule paths for one parameter
    derive check SPEC [--json] [--numeric [--richardson] [--dtype D]]
                                        printed hand values (and gradients) against exact ones
    derive check-code SPEC FILE.py:FUNC [--json] [--points N] [--rtol X]
                                        a user's gradient function against the derivation
    derive fit SPEC [SPEC ...] [--plot PNG] [--json]
                                        train on a data set (file 001), the notes' numbers checked
    derive latex SPEC [PARAM] [--steps chain,closed,numbers,update] [--digits N] [--sheet]
                                        LaTeX of a derivation as the notes write it, with numbers
    derive notes SPEC -o FILE.tex|FILE.md [--force] [--pdf]
                                        a whole document for lecture notes (pdflatex compiles it)
    derive exercise SPEC --students N --seed S -o DIR [--digits D]
                                        a problem sheet and worked solution per student, and key.json
    derive grade DIR/key.json ANSWERS.csv [--json]
                                        students' answers marked with follow-through (propagated)

Bad input (a malformed spec, an unknown name) prints one line and exits 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from derive import __version__
from derive.errors import DeriveError, clip
from derive.cli import chain, check, check_code, exercise, fit, gradients, grade, latex, notes, sweep, train
from derive.cli.common import warn_unusual_pair

__all__ = ["main"]

MESSAGE_CHARS = 600   # an error line's length at most (values inside it are clipped to 80 characters already)

# one module per command: each has add_parser(subparsers) and run(args) -> exit status
COMMANDS = [gradients, chain, check, check_code, train, sweep, latex, notes, fit, exercise, grade]


class Parser(argparse.ArgumentParser):
    """argparse, with its error line (which quotes the bad value) clipped and escaped like derive's own."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {clip(message, MESSAGE_CHARS)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="derive", description="Check backpropagation by deriving it.")
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    for action in sub._choices_actions:          # each command's --help opens with its one-line summary
        page = sub.choices[action.dest]
        if not page.description and action.help:
            page.description = action.help[0].upper() + action.help[1:] + "."
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for spec in ([args.spec] if isinstance(getattr(args, "spec", None), str) else getattr(args, "spec", None) or []):
        warn_unusual_pair(spec)
    try:
        return args.run(args)
    except DeriveError as exc:
        print(f"derive: {clip(str(exc), MESSAGE_CHARS)}", file=sys.stderr)   # one line, never a megabyte
        return 2
    except BrokenPipeError:
        return 0
