"""
The package's import graph, read from its source with `ast` (nothing is imported).

These tests hold the layout to its rules:

- no import cycles among the package's modules (module-level imports);
- `sunpy_magnetogan.nn` stays torch-only: nothing it imports, directly or through the
  package's other modules, imports sunpy or astropy;
- the inference modules import nothing from `sunpy_magnetogan.training`;
- the tracking library imports neither the synthetic Sun nor the generator;
- an import of the package's own modules inside a function says why, with a
  ``# lazy: reason`` comment in its run of imports or in the comment lines just above it;
- no module imports another module's private (underscored) names.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = "sunpy_magnetogan"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

#: Modules on the path from a Map to a generated magnetogram (and their packages).
INFERENCE = (
    "sunpy_magnetogan.architecture",
    "sunpy_magnetogan.generate",
    "sunpy_magnetogan.grid",
    "sunpy_magnetogan.mapsource",
    "sunpy_magnetogan.nn",
    "sunpy_magnetogan.normalization",
    "sunpy_magnetogan.output",
    "sunpy_magnetogan.polarity",
    "sunpy_magnetogan.preprocess",
    "sunpy_magnetogan.prior",
    "sunpy_magnetogan.weights",
)


def _module_name(path, root=ROOT):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node):
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    """Collects ``(target, lineno, in_function)`` of each import of a module."""

    def __init__(self, module, is_package, modules):
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.modules = modules
        self.depth = 0
        self.found = []
        self.private = []

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node):
        if _is_type_checking(node):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _add(self, target, node, name=None):
        if name is not None:
            self.private.append((target, name, node.lineno))
        entry = (target, node.lineno, self.depth > 0)
        if entry not in self.found:
            self.found.append(entry)

    def visit_Import(self, node):
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module
        for alias in node.names:
            candidate = f"{source}.{alias.name}"
            if candidate in self.modules:
                self._add(candidate, node)
            else:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                self._add(source, node, alias.name if private else None)


def _import_runs(tree):
    """Line of each import statement -> first line of the run of imports it stands in."""
    runs = {}
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            statements = getattr(node, name, None)
            if not isinstance(statements, list):
                continue
            start = None
            for statement in statements:
                if isinstance(statement, ast.Import | ast.ImportFrom):
                    start = statement.lineno if start is None else start
                    runs[statement.lineno] = start
                else:
                    start = None
    return runs


def scan(root=ROOT):
    """
    Read every module of the package under ``root``.

    Returns
    -------
    imports : dict
        Module name -> list of ``(target, (first, line), in_function)``: ``line`` is the
        import's line, ``first`` the first line of the run of import statements it stands in.
    sources : dict
        Module name -> list of the file's lines.
    """
    paths = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    imports, sources = {}, {}
    scan.private = {}
    for module, path in paths.items():
        text = path.read_text()
        tree = ast.parse(text, filename=str(path))
        visitor = _Imports(module, path.name == "__init__.py", set(paths))
        visitor.visit(tree)
        runs = _import_runs(tree)
        imports[module] = [
            (target, (runs.get(lineno, lineno), lineno), f) for target, lineno, f in visitor.found
        ]
        sources[module] = text.splitlines()
        scan.private[module] = visitor.private
    return imports, sources


def _own(target):
    return target == PACKAGE or target.startswith(PACKAGE + ".")


def graph(imports, *, function_level=False):
    """The package-internal import graph: module -> set of imported package modules."""
    return {
        module: {t for t, _, in_function in found if _own(t) and (function_level or not in_function)}
        for module, found in imports.items()
    }


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan), sorted."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                result.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(result)


def reachable(edges, start):
    """Modules reachable from ``start`` (itself included)."""
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(edges.get(module, ()))
    return seen


def _within(module, prefixes):
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def unexplained_lazy_imports(imports, sources):
    """
    Function-level imports of the package's modules without a ``# lazy:`` comment in their
    run of import statements (up to their own line) or in the comment lines just above it.
    """
    bad = []
    for module, found in imports.items():
        lines = sources[module]
        for target, (first, lineno), in_function in found:
            if not (in_function and _own(target)):
                continue
            i = first - 1
            explained = any("# lazy:" in line for line in lines[i:lineno])
            while not explained and i > 0 and lines[i - 1].strip().startswith("#"):
                i -= 1
                explained = "# lazy:" in lines[i]
            if not explained:
                bad.append(f"{module}:{lineno} imports {target}")
    return sorted(bad)


def offending_imports(imports, sources_from, forbidden, *, function_level=True):
    """
    Imports of ``forbidden`` (module prefixes, package or third-party) by the modules under
    ``sources_from``, directly or through the package's other modules.

    Returns
    -------
    list of str
        ``"module imports target"`` for each offending edge.
    """
    edges = graph(imports, function_level=function_level)
    start = [m for m in imports if _within(m, sources_from)]
    seen = set()
    for module in start:
        seen |= reachable(edges, module)
    bad = []
    for module in sorted(seen):
        if _within(module, forbidden):
            continue
        for target, _, in_function in imports.get(module, ()):
            if in_function and not function_level:
                continue
            if _within(target, forbidden):
                bad.append(f"{module} imports {target}")
    return sorted(set(bad))


def private_imports(root=ROOT):
    """``from other_module import _name`` between the package's modules."""
    scan(root)
    return sorted(
        f"{module}:{lineno} imports {name} from {target}"
        for module, found in scan.private.items()
        for target, name, lineno in found
        if _own(target) and target != module
    )


@pytest.fixture(scope="module")
def package():
    return scan()


def test_scan_finds_the_package(package):
    imports, _ = package
    assert "sunpy_magnetogan.generate" in imports
    assert "sunpy_magnetogan.nn" in imports
    # ``from sunpy_magnetogan.nn.registry import X`` is an edge to the module, not the package.
    assert "sunpy_magnetogan.nn.registry" in graph(imports)["sunpy_magnetogan.nn.generators"]


def test_cycle_detection_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles(package):
    imports, _ = package
    assert cycles(graph(imports)) == []
    # Nor through imports placed inside functions: a lazy import defers a cycle, it does not
    # remove it.
    assert cycles(graph(imports, function_level=True)) == []


def test_no_unexplained_function_level_imports(package):
    assert unexplained_lazy_imports(*package) == []


def test_nn_imports_no_sunpy_or_astropy(package):
    imports, _ = package
    # Module level: importing sunpy_magnetogan.nn never loads sunpy or astropy.
    assert (
        offending_imports(imports, ["sunpy_magnetogan.nn"], ["sunpy", "astropy"], function_level=False) == []
    )
    # Nor does any function of nn, lazily.
    assert offending_imports(imports, ["sunpy_magnetogan.nn"], ["sunpy", "astropy"]) == []


def test_inference_imports_nothing_from_training(package):
    imports, _ = package
    assert offending_imports(imports, INFERENCE, ["sunpy_magnetogan.training"]) == []


def test_tracking_imports_neither_synthetic_nor_generate(package):
    imports, _ = package
    forbidden = ["sunpy_magnetogan.synthetic", "sunpy_magnetogan.generate"]
    assert offending_imports(imports, ["sunpy_magnetogan.tracking"], forbidden) == []


def test_no_private_names_across_modules():
    assert private_imports() == []
