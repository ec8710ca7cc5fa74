"""No module of the product imports itself back, however indirectly.

The packages are found on disk (every top-level folder with an __init__.py, and the top-level
modules such as app.py) rather than listed, because they are being moved and renamed. Imports
are read with `ast`, including those inside functions and `if TYPE_CHECKING:` blocks: a lazy
import only hides a circle until someone moves it to the top of the file.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ImportGraph = dict[str, set[str]]


def product_modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for the product's packages and top-level modules."""
    modules: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and (entry / "__init__.py").is_file():
            for path in sorted(entry.rglob("*.py")):
                parts = path.relative_to(root).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                modules[".".join(parts)] = path
        elif entry.is_file() and entry.suffix == ".py":
            modules[entry.stem] = entry
    return modules


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of `name` that is one of our modules (`storage.database.Session`
    is the module storage.database); None for a third-party or standard-library name."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _base_of(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    anchor = package[: len(package) - (node.level - 1)]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that `module` imports, anywhere in its file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base_of(node, module, is_package)
            # `from pkg import mod` imports the submodule when there is one, else a name of pkg.
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for name in names if (target := _known(name, modules)) is not None)
    found.discard(module)
    return found


def import_graph(root: Path) -> ImportGraph:
    modules = product_modules(root)
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


def find_cycle(graph: ImportGraph) -> list[str] | None:
    """One import circle as the modules along it, first repeated at the end; None if none."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        # Iterative depth-first search: `path` is the chain being followed from `start`.
        path: list[str] = [start]
        on_path = {start}
        pending = [iter(sorted(graph[start]))]
        while pending:
            following = next(pending[-1], None)
            if following is None:
                pending.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
                continue
            if following in on_path:
                return [*path[path.index(following) :], following]
            if following in done or following not in graph:
                continue
            path.append(following)
            on_path.add(following)
            pending.append(iter(sorted(graph[following])))
    return None


def test_the_product_has_no_import_circle() -> None:
    cycle = find_cycle(import_graph(ROOT))
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_scan_sees_the_storage_imports_it_checks() -> None:
    graph = import_graph(ROOT)
    assert {"storage.sqlite_driver", "storage.postgres_driver"} <= graph["storage.database"]
    assert "storage.sql_store" in graph["storage"]


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_circle_through_a_lazy_import_is_reported_along_its_modules(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/orders.py": "from .billing import invoice\n",
            "shop/billing.py": "def invoice():\n    from shop import orders\n",
            "app.py": "import shop.orders\n",
        },
    )
    graph = import_graph(tmp_path)
    assert find_cycle(graph) == ["shop.orders", "shop.billing", "shop.orders"]


def test_a_package_that_re_exports_its_modules_is_no_circle(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "shop/__init__.py": "from .orders import Order\nfrom . import billing\n",
            "shop/orders.py": "import json\nfrom shop.billing import invoice\n",
            "shop/billing.py": "from ..elsewhere import nothing\n",
            "shop/sub/__init__.py": "",
            "shop/sub/tax.py": "from .. import orders\nfrom ..billing import invoice\n",
        },
    )
    graph = import_graph(tmp_path)
    assert graph == {
        "shop": {"shop.orders", "shop.billing"},
        "shop.orders": {"shop.billing"},
        "shop.billing": set(),
        "shop.sub": set(),
        "shop.sub.tax": {"shop.orders", "shop.billing"},
    }
    assert find_cycle(graph) is None
