"""NumPy code that writes every intermediate into a buffer allocated once, with ufuncs' `out=`.

For many copies at once (derive sweep), an epoch is a few dozen passes over arrays of one value per
copy. Written as plain expressions, each pass allocates a fresh array, and at 100,000 copies the
allocator hands back memory the kernel must fault in again: the loop ran at half the speed of a
hand-written one. Here each assignment of the program (forward, δ terms, gradients) evaluates its
SymPy expression with ufunc calls into a buffer; buffers are handed out by liveness, like registers,
so a dozen of them, warm in the cache, serve the whole epoch; one scratch buffer per nesting depth.
"""

from __future__ import annotations

import ast
import re

import sympy as sp

from derive.core.primitives import ACTIVATIONS

__all__ = ["buffered_lines"]

UFUNC = {sp.Add: ("np.add", "np.subtract"), sp.Mul: ("np.multiply", "np.divide")}


class _Emitter:
    """Turns `name = expr` into ufunc calls writing into `name`; collects the scratch buffers used."""

    def __init__(self):
        self.depth_used = 0

    def atom(self, expr) -> str | None:
        """A name or a number as it can stand as a ufunc operand, or None for a compound expression."""
        if expr.is_Symbol:
            return expr.name
        if expr.is_Number:
            return repr(float(expr))
        return None

    def emit(self, expr, out: str, depth: int = 0) -> list[str]:
        if self.atom(expr) is not None:
            return [f"np.copyto({out}, {self.atom(expr)})"]
        if isinstance(expr, (sp.Add, sp.Mul)):
            return self.chain(expr, out, depth)
        if isinstance(expr, sp.Pow) and expr.exp == 2:
            base = self.atom(expr.base)
            if base is not None:
                return [f"np.multiply({base}, {base}, out={out})"]
            return self.emit(expr.base, out, depth) + [f"np.multiply({out}, {out}, out={out})"]
        if isinstance(expr, sp.Pow) and expr.exp == -1:
            return self.binary("np.divide", sp.S.One, expr.base, out, depth)
        raise NotImplementedError(type(expr).__name__)

    def operand(self, expr, depth: int) -> tuple[str, list[str]]:
        """(operand text, lines computing it): an atom as is, anything else into scratch `_s{depth}`."""
        if self.atom(expr) is not None:
            return self.atom(expr), []
        self.depth_used = max(self.depth_used, depth + 1)
        return f"_s{depth}", self.emit(expr, f"_s{depth}", depth + 1)

    def binary(self, ufunc: str, a, b, out: str, depth: int) -> list[str]:
        """out = a ∘ b; a compound `a` is computed in out itself (no expression reads its own target)."""
        left, lines = self.atom(a), []
        if left is None:
            lines, left = self.emit(a, out, depth), out
        right, more = self.operand(b, depth)
        return lines + more + [f"{ufunc}({left}, {right}, out={out})"]

    def chain(self, expr, out: str, depth: int) -> list[str]:
        """a ± b ± c … (or a·b/c …): the first two in one call, then each further term into out."""
        plus, minus = UFUNC[type(expr)]
        terms = [(t, False) for t in expr.args]
        if isinstance(expr, sp.Add):
            terms = [(-t, True) if t.could_extract_minus_sign() else (t, False) for t in expr.args]
        elif isinstance(expr, sp.Mul):
            terms = [(1 / t, True) if isinstance(t, sp.Pow) and t.exp == -1 else (t, False) for t in expr.args]
        terms.sort(key=lambda tv: tv[1])              # positive (or numerator) terms first
        (first, neg0), rest = terms[0], terms[1:]
        if neg0:                                      # −a − b …: 0 − a, then the rest
            first, rest = (sp.S.Zero if plus == "np.add" else sp.S.One), terms
        (second, neg1), rest = rest[0], rest[1:]
        lines = self.binary(minus if neg1 else plus, first, second, out, depth)
        for term, negative in rest:
            right, more = self.operand(term, depth)
            lines += more + [f"{minus if negative else plus}({out}, {right}, out={out})"]
        return lines


ACTIVATION = re.compile(r"^(\w+) = _act_(\w+)\((\w+)\)$")   # `out = f(x)` lines of the NumPy dialect
UPDATE = re.compile(r"^(\w+) -= _lr\*(\w+)$")


def buffered_lines(lines: list[str], exprs: dict[str, sp.Expr]):
    """(setup lines, loop lines): each `name = …` line whose expression is known becomes ufunc calls
    into a buffer bound to `name`; activations and updates likewise; a bare alias stays an alias;
    other lines (the loss, indented under `if`) are kept as written. Buffers are handed out by
    liveness, like registers: a value's buffer is reused once its last reader has run, so a few
    buffers, warm in the cache, serve the whole epoch."""
    emitter, out = _Emitter(), []
    emitter.depth_used = 1                        # _s0 serves the updates
    statements = _statements(lines)
    last = _last_uses(statements)
    pool: list[str] = []
    free: list[str] = []
    holder: dict[str, str] = {}                   # value name -> buffer it lives in
    for i, st in enumerate(statements):
        code, target = _translate(st, exprs, emitter)
        alias = _alias(st[0], exprs)
        if alias in holder:                       # `_g_b1 = delta_net_o1`: one buffer, two names
            holder[st[0].split(" = ", 1)[0]] = holder[alias]
        if target is not None:
            buffer = free.pop() if free else f"_b{len(pool)}"
            if buffer not in pool:
                pool.append(buffer)
            holder[target] = buffer
            out.append(f"{target} = {buffer}")
        out += code
        for name in [n for n, j in last.items() if j == i and n in holder]:
            buffer = holder.pop(name)
            if buffer not in holder.values():
                free.append(buffer)
    setup = [f"{name} = np.empty(_shape, _dtype)" for name in pool]
    setup += [f"_s{d} = np.empty(_shape, _dtype)" for d in range(emitter.depth_used)]
    return setup, out


def _statements(lines: list[str]) -> list[list[str]]:
    """Lines grouped into statements: an indented line belongs to the statement above it."""
    statements: list[list[str]] = []
    for line in lines:
        if line.startswith(" ") and statements:
            statements[-1].append(line)
        else:
            statements.append([line])
    return statements


def _last_uses(statements) -> dict[str, int]:
    """For every name read, the index of the last statement that reads it."""
    last: dict[str, int] = {}
    for i, st in enumerate(statements):
        tree = ast.parse("\n".join(st))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                last[node.id] = i
    return last


ALIAS = re.compile(r"^(\w+) = (\w+)$")


def _alias(line: str, exprs) -> str | None:
    """The name a `name = other` line (identity activation, bias gradient) makes `name` stand for."""
    m = ALIAS.match(line)
    if m:
        return m.group(2)
    expr = exprs.get(line.split(" = ", 1)[0]) if " = " in line and not line.startswith(" ") else None
    return expr.name if expr is not None and expr.is_Symbol else None


def _translate(st: list[str], exprs, emitter) -> tuple[list[str], str | None]:
    """(code, the value that needs a buffer or None) for one statement."""
    line = st[0]
    if len(st) > 1 or (" = " not in line and " -= " not in line):
        return st, None
    special = _special(line)
    if special is not None:
        target, code = special
        return [code], target
    target = line.split(" = ", 1)[0]
    expr = exprs.get(target)
    if expr is None:
        return [line], None
    if expr.is_Symbol:
        return [f"{target} = {expr.name}"], None
    try:
        return emitter.emit(expr, target), target
    except NotImplementedError:
        return [line], None


def _special(line: str):
    """(buffer or None, code) for an activation or an update line, None for anything else."""
    m = ACTIVATION.match(line)
    if m:   # written into its buffer by the registry's in-place kernel, or computed and copied there
        out, name, x = m.groups()
        into = ACTIVATIONS[name].into is not None
        return out, f"_into_{name}({x}, {out})" if into else f"np.copyto({out}, _act_{name}({x}))"
    m = UPDATE.match(line)
    if m:
        return None, f"np.multiply({m.group(2)}, _lr, out=_s0); {m.group(1)} -= _s0"
    return None
