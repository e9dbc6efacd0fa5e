"""No import cycle anywhere in the package, counting ``TYPE_CHECKING`` and function imports.

import-linter's layers contract (pyproject.toml) fixes the order of the core layers; this test
covers every module, tools included (sandbox, CLI, events, testing).
"""

from __future__ import annotations

import grimp


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the cycles of the graph, as groups of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_the_package_has_no_import_cycle() -> None:
    graph = grimp.build_graph("kartra_async", cache_dir=None)
    modules = set(graph.modules)
    edges = {
        module: set(graph.find_modules_directly_imported_by(module)) & modules
        for module in modules
    }
    assert strongly_connected(edges) == []
    # The test sees the whole package, private engine modules included.
    assert {"kartra_async._settle", "kartra_async._pool", "kartra_async.cli"} <= modules
