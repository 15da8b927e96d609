"""The package's own import graph, read statically with ast: no module imports itself back through a chain of
imports, and no module imports another package's (or another CLI command's) private names."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "matcher"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted((SRC / ROOT).rglob("*.py"))}


def package_of(name: str) -> str:
    """The package a module's relative imports start from (a package's __init__ is in that package itself)."""
    return name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]


def imports(name: str) -> list[tuple[str, str | None, int]]:
    """Every import of one of our modules in module `name`, at any depth (module level, in functions, under
    TYPE_CHECKING): (imported module, the name taken from it or None, line). `from .x import y` gives module x.y
    when y is a submodule, else module x and the name y."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"), str(MODULES[name]))
    out: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names if a.name.split(".")[0] == ROOT]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_of(name).split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != ROOT:
                continue
            for a in node.names:
                sub = f"{source}.{a.name}"
                out.append((sub, None, node.lineno) if sub in MODULES else (source, a.name, node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    """module -> the modules it imports. Only explicit imports are edges: importing matcher.a.b also runs
    matcher/__init__.py and matcher/a/__init__.py, but those run first and hold no cycle unless they import
    back, which is then an explicit edge of its own."""
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _, line in imports(m):
            assert target in MODULES, f"{MODULES[m]}:{line} imports {target}, which is not a module of {ROOT}"
            if target != m:
                edges[m].add(target)
    return edges


def groups(edges: dict[str, set[str]]) -> list[list[str]]:
    """The modules that import each other, directly or not: each strongly connected component of more than one
    module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def cycle_in(group: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the group's first module (breadth first), as a path ending where it began."""
    component = set(group)
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component of two or more modules always has one


def describe(group: list[str], edges: dict[str, set[str]]) -> str:
    cycle = cycle_in(group, edges)
    others = sorted(set(group) - set(cycle))
    return "  " + " -> ".join(cycle) + (f" (and, in other cycles with it: {', '.join(others)})" if others else "")


def test_the_import_graph_has_no_cycle() -> None:
    edges = graph()
    found = groups(edges)
    assert not found, "import cycles:\n" + "\n".join(describe(g, edges) for g in found)


def test_cycles_are_found_and_printed() -> None:
    """The checker itself: each group of modules that import each other is found, and a cycle in it shown in order."""
    edges = {"a": {"b"}, "b": {"c", "e"}, "c": {"a", "d"}, "d": set(), "e": {"b"}, "f": {"g"}, "g": {"f"}}
    assert groups(edges) == [["a", "b", "c", "e"], ["f", "g"]]
    assert [describe(g, edges) for g in groups(edges)] == ["  a -> b -> c -> a (and, in other cycles with it: e)",
                                                           "  f -> g -> f"]


def owner(name: str) -> str:
    """Who may share private names: the modules of one package, except that each CLI module stands alone (what
    commands share is public, in cli/common.py)."""
    return name if name == f"{ROOT}.cli" or name.startswith(f"{ROOT}.cli.") else package_of(name)


def private_imports() -> list[tuple[str, str, str, int]]:
    """(importer, private name, the module it comes from, line) for each private name imported from a module of
    another owner. A private submodule counts as its own name; dunders (__version__) are not private."""
    out = []
    for m in MODULES:
        for target, what, line in imports(m):
            name = what or target.rpartition(".")[2]
            if name.startswith("_") and not name.startswith("__") and owner(target) != owner(m):
                out.append((m, name, target, line))
    return out


def test_no_private_name_is_imported_across_packages_or_commands() -> None:
    found = [f"{MODULES[m].relative_to(SRC)}:{line} imports {name} from {target}"
             for m, name, target, line in private_imports()]
    assert not found, "private names imported from another package or command:\n" + "\n".join(found)


def test_every_command_has_its_own_module() -> None:
    from matcher.cli import COMMANDS

    assert list(COMMANDS) == ["pair", "synth", "networks", "teams", "simulate", "serve", "keys", "db"]
    for name, module in COMMANDS.items():
        assert module.__name__ == f"{ROOT}.cli.{name}" and callable(module.add_parser) and callable(module.run)
