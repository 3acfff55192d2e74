"""Print the project's app-to-app import graph and fail on a cycle or a hidden import.

Usage: ``python tools/import_graph.py`` (from the repository root). Every ``*.py`` of every
project app is parsed with ``ast`` (nothing is imported or executed); an edge ``a -> b``
means some module of app ``a`` imports something from app ``b``. Exit status 1 when the
app graph has a cycle, or when a module imports a project app inside a function or class
body: such an import is how a cycle used to be hidden (DESIGN §2: dependencies point one
way, no imports inside functions to hide one). Migrations are left out: Django loads
them in dependency order, and they name other apps by string anyway. ``config`` is the
composition root (settings, urls, the Celery app): apps may use its helpers
(``config.memo``), and what it imports to wire the apps together is not an app edge.
"""

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project's own apps, in the order their dependencies point (each may import only
# apps listed before it, plus config); the graph is checked, this is only for display.
ROOT_PACKAGE = "config"
APPS = (
    "accounts",
    "evidence",
    "webhooks",
    "consent",
    "experiments",
    "conversations",
    "retention",
    "training",
    "api",
    "demo",
)
SKIPPED_PARTS = {"migrations", "__pycache__"}


def app_of(module: str) -> str | None:
    top = module.split(".", 1)[0]
    return top if top in APPS else None


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(node: ast.AST, module: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:  # relative: resolve against this module's package
            package = module.split(".")[: -node.level] if node.level else []
            base = ".".join(package + ([node.module] if node.module else []))
            return [base]
        return [node.module or ""]
    return []


class _Imports(ast.NodeVisitor):
    """Every import of a module, and whether it sits inside a function or class body."""

    def __init__(self, module: str):
        self.module = module
        self.depth = 0
        self.found: list[tuple[str, int, bool]] = []  # (imported module, line, nested)

    def _nested(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _nested

    def visit_If(self, node: ast.If):
        # ``if TYPE_CHECKING:`` imports never run: they cannot form a cycle at import time,
        # but they still say which way the dependency points, so they count as edges.
        self.generic_visit(node)

    def generic_visit(self, node):
        for imported in _imported_modules(node, self.module):
            self.found.append((imported, node.lineno, self.depth > 0))
        super().generic_visit(node)


def scan(root: Path = ROOT):
    """(edges, hidden): edges[a][b] lists 'module:line' that import b from a."""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    hidden: list[str] = []
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if SKIPPED_PARTS & set(path.relative_to(root).parts):
                continue
            module = _module_name(path, root)
            visitor = _Imports(module)
            visitor.visit(ast.parse(path.read_text(), filename=str(path)))
            for imported, line, nested in visitor.found:
                target = app_of(imported)
                if target is None or target == app:
                    continue
                where = f"{path.relative_to(root)}:{line}"
                edges[app][target].append(where)
                if nested:
                    hidden.append(f"{where} imports {imported} inside a function or class")
    return edges, hidden


def find_cycles(edges) -> list[list[str]]:
    """Every elementary cycle's app list, found from each strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(app: str) -> None:
        index[app] = low[app] = len(index)
        stack.append(app)
        on_stack.add(app)
        for target in edges.get(app, {}):
            if target not in index:
                visit(target)
                low[app] = min(low[app], low[target])
            elif target in on_stack:
                low[app] = min(low[app], index[target])
        if low[app] == index[app]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == app:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for app in sorted(edges):
        if app not in index:
            visit(app)
    return components


def main() -> int:
    edges, hidden = scan()
    for app in APPS:
        targets = edges.get(app, {})
        if targets:
            print(f"{app} -> {', '.join(sorted(targets, key=APPS.index))}")
    cycles = find_cycles(edges)
    for component in cycles:
        print(f"CYCLE between apps: {' <-> '.join(component)}", file=sys.stderr)
        for a in component:
            for b in component:
                for where in edges.get(a, {}).get(b, []):
                    print(f"  {a} -> {b}: {where}", file=sys.stderr)
    for line in hidden:
        print(f"HIDDEN IMPORT: {line}", file=sys.stderr)
    print(
        f"{len(APPS)} apps, {sum(len(t) for t in edges.values())} app-to-app edges, "
        f"{len(cycles)} cycle(s), {len(hidden)} import(s) inside functions"
    )
    return 1 if cycles or hidden else 0


if __name__ == "__main__":
    sys.exit(main())
