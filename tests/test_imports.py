"""No import cycles among paperfeed's modules, counting imports inside functions and under
TYPE_CHECKING: a cycle hidden in a function still ties the two modules' plans together."""

from __future__ import annotations

import grimp

PACKAGE = "paperfeed"


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One shortest cycle through each module that is on one, each cycle reported once, as
    the modules in import order with the first repeated at the end."""
    cycles: dict[frozenset[str], list[str]] = {}
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycle = [module, *back]
                cycles.setdefault(frozenset(cycle), cycle)
    return list(cycles.values())


def test_no_module_is_on_an_import_cycle() -> None:
    graph = grimp.build_graph(PACKAGE, cache_dir=None)  # a stale cache once hid a change
    assert len(graph.modules) > 100  # the whole package, not an empty graph
    found = import_cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_a_cycle_hidden_in_a_function_is_found() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.app", "pkg.cards", "pkg.store"):
        graph.add_module(name)
    graph.add_import(importer="pkg.app", imported="pkg.cards")
    # cards imports app inside a function: still an edge, so still a cycle.
    graph.add_import(importer="pkg.cards", imported="pkg.app")
    graph.add_import(importer="pkg.app", imported="pkg.store")
    assert import_cycles(graph) == [["pkg.app", "pkg.cards", "pkg.app"]]


def test_grimp_counts_imports_inside_functions() -> None:
    """What the first test stands on, checked on our own code: cli/app.py imports
    `httpx` only inside `_check_web_app`, and grimp still sees the import."""
    graph = grimp.build_graph(PACKAGE, include_external_packages=True, cache_dir=None)
    assert graph.direct_import_exists(importer="paperfeed.cli.app", imported="httpx")
