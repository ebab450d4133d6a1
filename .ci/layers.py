"""The import graph's rules: dependencies point one way down the layers, and nothing imports in
a circle (an import inside a function counts: a lazy import must not hide a circle).

    db  <-  render  <-  scheduler  <-  handlers  <-  bot

A module may import its own layer and the layers to its left; nothing imports `bot`.

python .ci/layers.py          (exit 1 and a list of what breaks the rules)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["db", "render", "scheduler", "handlers", "bot"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "versions" in path.parts:  # migrations are frozen history
                continue
            found[module_name(path)] = path
    return found


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The project's modules `path` imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def layer(name: str) -> int:
    return LAYERS.index(name.split(".")[0])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    found = modules()
    known = set(found)
    graph = {name: imports(path, name, known) for name, path in found.items()}
    # A package's __init__ is reached through its modules; it must not count as an edge of
    # its own package's modules back to themselves.
    problems = [
        f"{name} imports {target}: {LAYERS[layer(name)]} may not use {LAYERS[layer(target)]}"
        for name, targets in sorted(graph.items())
        for target in sorted(targets)
        if layer(target) > layer(name)
    ]
    problems += [f"a circle: {' -> '.join(circle)}" for circle in cycles(graph)]
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} import rule(s) broken (see .ci/layers.py)")
        return 1
    print(f"import layers: {len(graph)} modules, one direction, no circles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
