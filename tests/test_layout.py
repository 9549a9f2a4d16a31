"""The package is its pipeline: imports flow one way, down the stages, with no circles.

The stage order is written once, here. A module may import its own stage and the stages below it,
never one above; the core imports no NumPy; no module imports inside a function (optional
dependencies go through `derive.extras.require`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "derive"

# lowest first: each stage may import only the stages at or before its own position
STAGES = [
    ("base", ["derive.errors", "derive.extras"]),
    ("core", ["derive.core"]),
    ("numeric", ["derive.numeric"]),
    ("check", ["derive.check"]),
    ("render", ["derive.render"]),
    ("facade", ["derive", "derive.testing", "derive.strategies"]),
    ("cli", ["derive.cli", "derive.__main__"]),
]
NO_NUMPY = ("derive.core", "derive.errors", "derive.extras")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def stage_of(module: str) -> int:
    """The index of the most specific stage prefix that names `module`."""
    best, length = None, -1
    for index, (_, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > length:
                best, length = index, len(prefix)
    assert best is not None, f"{module} belongs to no stage: add it to STAGES"
    return best


def resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function or class) for every import of `module`'s file."""
    tree = ast.parse(MODULES[module].read_text())
    found = []

    def visit(node, nested):
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, nested) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = resolve(module, child)
                for alias in child.names:   # `from derive.cli import chain` imports the module derive.cli.chain
                    sub = f"{target}.{alias.name}"
                    found.append((sub if sub in MODULES else target, child.lineno, nested))
            visit(child, inner)

    visit(tree, False)
    return found


def internal_edges() -> dict[str, set[str]]:
    return {m: {t for t, _, _ in imports(m) if t in MODULES and t != m} for m in MODULES}


def test_every_module_has_a_stage():
    for module in MODULES:
        stage_of(module)


def test_no_module_imports_a_stage_above_its_own():
    upward = [f"{m} ({STAGES[stage_of(m)][0]}) imports {t} ({STAGES[stage_of(t)][0]}), line {line}"
              for m in MODULES for t, line, _ in imports(m) if t in MODULES and stage_of(t) > stage_of(m)]
    assert upward == []


def test_no_circles():
    edges, state, circles = internal_edges(), {}, []

    def walk(node, stack):
        state[node] = "open"
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                circles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                walk(target, stack + [target])
        state[node] = "done"

    for module in sorted(MODULES):
        if module not in state:
            walk(module, [module])
    assert circles == []


def test_no_imports_inside_functions():
    nested = [f"{m}: line {line} imports {t}" for m in MODULES for t, line, inside in imports(m) if inside]
    assert nested == []


@pytest.mark.parametrize("prefix", NO_NUMPY)
def test_the_core_imports_no_numpy_rendering_or_cli(prefix):
    bad = [f"{m} imports {t}" for m in MODULES if m == prefix or m.startswith(prefix + ".")
           for t, _, _ in imports(m) if t.split(".")[0] in ("numpy", "matplotlib", "numba", "sklearn", "tqdm")]
    assert bad == []


def test_the_checker_sees_an_upward_import(tmp_path):
    """The walker itself can fail: a core module importing the cli is an upward edge."""
    fake = ast.parse("from derive.cli import main\n")
    node = fake.body[0]
    assert resolve("derive.core.graph", node) == "derive.cli"
    assert stage_of("derive.cli") > stage_of("derive.core.graph")
