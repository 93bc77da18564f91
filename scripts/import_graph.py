"""Print the import graph of the project's own modules, and every cycle in it.

Counts every import statement the AST holds, at module level and inside functions alike
(a function-level import is still a dependency; it only runs later). Run from the top of
the checkout:

    python scripts/import_graph.py            # cycles (strongly connected components)
    python scripts/import_graph.py --edges    # every edge, importer -> imported
    python scripts/import_graph.py --sizes    # modules over 700 lines

Exit status 1 when there is a cycle.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOTS = ("orgdesign", "tiers", "roles", "staffing", "metrics", "demo")
ROOT = Path(__file__).resolve().parent.parent


def modules() -> dict[str, Path]:
    found = {}
    for top in ROOTS:
        for path in sorted((ROOT / top).rglob("*.py")) if (ROOT / top).is_dir() else []:
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest known module that `name` is or lies in."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def edges(known: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")
                    up = up[: len(up) - (node.level - 1)]
                    base = ".".join([*up, base] if base else up)
                # `from pkg import module` imports the module itself when there is one
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
                targets = [t if resolve(t, known) == t else base for t in targets]
            for target in targets:
                hit = resolve(target, known)
                if hit and hit != name and not name.startswith(hit + "."):
                    graph[name].add(hit)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(10000)

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main(argv: list[str]) -> int:
    known = modules()
    graph = edges(known)
    if "--edges" in argv:
        for name in sorted(graph):
            for target in sorted(graph[name]):
                print(f"{name} -> {target}")
        return 0
    if "--sizes" in argv:
        for name, path in sorted(known.items()):
            lines = len(path.read_text().splitlines())
            if lines > 700:
                print(f"{lines:6d}  {name}")
        return 0
    found = cycles(graph)
    for component in found:
        print("cycle:", " <-> ".join(component))
    print(f"{len(known)} modules, {sum(map(len, graph.values()))} imports, {len(found)} cycles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
