"""The layers and the storage interface, checked from the source.

The layer rules are the import-linter contracts of pyproject.toml ([tool.importlinter]), read
from there and checked here with the standard library (so CI needs no extra package): a module
of a contract's sources may not import a forbidden module, directly or through other modules,
counting imports inside functions too. And no two modules of src/ import each other, however
indirectly."""

from __future__ import annotations

import ast
import inspect
import pathlib
import tomllib

import pytest

from qconnect_local.storage import base

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in (SRC / "qconnect_local").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_only(tree: ast.Module) -> set[ast.AST]:
    """The imports under `if TYPE_CHECKING:`: annotations only, never run."""
    guarded = (n for n in ast.walk(tree) if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    return {node for block in guarded for stmt in block.body for node in ast.walk(stmt)}


def _graph(runtime_only: bool = False) -> dict[str, set[str]]:
    """module -> the modules of this project it imports (as import-linter counts them: `from
    package import name` is the submodule when `name` is one, else the package); with
    `runtime_only`, imports for annotations alone are left out."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_only(tree) if runtime_only else set()
        for node in ast.walk(tree):
            if node in skipped:
                continue
            if isinstance(node, ast.Import):
                graph[name].update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                origin = node.module or ""
                if node.level:
                    parent = package[: len(package) - node.level + 1]
                    origin = ".".join(parent + ([origin] if origin else []))
                for alias in node.names:
                    if f"{origin}.{alias.name}" in modules:
                        graph[name].add(f"{origin}.{alias.name}")
                    elif origin in modules:
                        graph[name].add(origin)
    return graph


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["importlinter"]["contracts"]


@pytest.mark.parametrize("contract", _contracts(), ids=lambda c: c["name"])
def test_a_layer_never_imports_what_its_contract_forbids(contract):
    assert contract["type"] == "forbidden"
    graph = _graph()
    sources = [m for m in graph if any(_within(m, s) for s in contract["source_modules"])]
    assert sources, "the contract names no module"
    broken = []
    for source in sources:
        # Every module reachable from `source`, with the chain that reaches it.
        chains = {source: [source]}
        todo = [source]
        while todo:
            here = todo.pop()
            for there in sorted(graph[here]):
                if there not in chains:
                    chains[there] = [*chains[here], there]
                    todo.append(there)
        for module, chain in chains.items():
            if any(_within(module, f) for f in contract["forbidden_modules"]):
                broken.append(" -> ".join(chain))
    assert broken == []


def test_no_module_imports_itself_through_others():
    # Annotation-only imports may name the composition root above (services.Services, server.App).
    graph = _graph(runtime_only=True)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    assert cycles == []


def test_no_module_is_much_over_500_lines():
    long = {name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > 550}
    assert long == {}


def _declared(protocol: type) -> set[str]:
    return {name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")}


def _stores() -> list[type]:
    from qconnect_local.storage.sqlite import SQLiteSession, SQLiteStore

    stores: list[type] = [SQLiteSession, SQLiteStore]
    try:
        from qconnect_local.storage.postgres import PostgresSession, PostgresStore
    except ImportError:  # psycopg not installed: nothing to check
        return stores
    return [*stores, PostgresSession, PostgresStore]


@pytest.mark.parametrize("implementation", _stores(), ids=lambda c: c.__name__)
def test_every_store_implements_every_declared_method(implementation):
    """Every method of the interface's concerns (sessions) or of Store, with the same parameters."""
    protocols = base.SESSION_CONCERNS if implementation.__name__.endswith("Session") else (base.Store,)
    missing, different = [], []
    for protocol in protocols:
        for name in sorted(_declared(protocol)):
            method = getattr(implementation, name, None)
            if method is None or getattr(method, "__isabstractmethod__", False):
                missing.append(f"{protocol.__name__}.{name}")
                continue
            declared = list(inspect.signature(getattr(protocol, name)).parameters)
            if list(inspect.signature(method).parameters) != declared:
                different.append(f"{protocol.__name__}.{name}")
            if inspect.getsource(method).rstrip().endswith("raise NotImplementedError"):
                missing.append(f"{protocol.__name__}.{name} (not implemented)")
    for attribute in ("kind", "reads_on_event_loop") if protocols == (base.Store,) else ():
        if not hasattr(implementation, attribute):
            missing.append(f"Store.{attribute}")
    assert (missing, different) == ([], [])


def test_the_session_interface_is_the_union_of_its_concerns():
    declared = set().union(*(_declared(p) for p in base.SESSION_CONCERNS))
    assert declared <= {name for name in dir(base.Session) if not name.startswith("_")}
    assert len(declared) >= 40  # every method operations, importing, the worker and health call
