"""design.md's layers, checked on the source as it is: what each package may import, the Bot
Framework SDK only at the edge, small modules in small folders, and a test module for every
module big enough to need one."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The product: what ships in the package and runs the bot (bench/, scripts/, tests/ do not).
PRODUCT = (
    "app.py",
    "application",
    "caches",
    "cards",
    "config",
    "dialogs",
    "graph",
    "handoff",
    "i18n",
    "manifest",
    "outbox",
    "playground",
    "storage",
    "teams",
)
# Our top-level modules, as an import names them.
OURS = {name.removesuffix(".py") for name in PRODUCT}
BOT_FRAMEWORK = {"botbuilder", "botframework", "msrest"}
IO_LIBRARIES = {"aiohttp", "aiosqlite", "asyncpg", "msal", "requests", "yaml", "sqlite3"}
EDGE = {"app", "teams", "dialogs", "playground"}

# package -> top-level modules it must not import. Lower layers never import higher ones;
# the use cases know no Teams, no SDK, no database driver and no web framework.
FORBIDDEN: dict[str, set[str]] = {
    "handoff": (OURS - {"handoff", "i18n"}) | BOT_FRAMEWORK | IO_LIBRARIES,
    # The words in every language: below everything, so the domain's own messages can use it.
    "i18n": (OURS - {"i18n"}) | BOT_FRAMEWORK | IO_LIBRARIES,
    # The process's compact memory of recent things: as low, for every layer to use.
    "caches": (OURS - {"caches"}) | BOT_FRAMEWORK | IO_LIBRARIES,
    "cards": EDGE | {"application", "outbox", "storage", "graph", "config"} | BOT_FRAMEWORK,
    "config": EDGE | {"application", "outbox", "storage", "graph", "cards"} | BOT_FRAMEWORK,
    "graph": EDGE | {"application", "outbox", "storage", "cards", "config"} | BOT_FRAMEWORK,
    "storage": EDGE | {"application", "outbox", "graph", "cards", "config"} | BOT_FRAMEWORK,
    "outbox": EDGE | {"application", "storage", "cards", "config"} | BOT_FRAMEWORK,
    "application": EDGE | {"storage"} | BOT_FRAMEWORK | {"aiohttp", "aiosqlite", "asyncpg"},
    "manifest": EDGE - {"playground"} | {"storage", "outbox"} | BOT_FRAMEWORK,
    "teams": {"app"},
    "dialogs": {"app"},
}
# The dialog-state adapter is the one storage module that speaks botbuilder's Storage API.
ALLOWED_EXCEPTIONS = {("storage/bot_state.py", "botbuilder")}
# Where the SDK may be imported at all, and by how many files at most.
SDK_PLACES = ("app.py", "teams/", "dialogs/", "storage/bot_state.py")
MAX_SDK_FILES = 14
MAX_MODULE_LINES = 500
MAX_FOLDER_MODULES = 20
NEEDS_TEST_MODULE = 100


def product_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for entry in PRODUCT:
        path = root / entry
        files += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return [f for f in files if f.exists()]


def relative(path: Path, root: Path = ROOT) -> str:
    return path.relative_to(root).as_posix()


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def violations(root: Path = ROOT) -> list[str]:
    problems = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            name = relative(path, root)
            for module in sorted(imported_modules(path) & forbidden):
                if (name, module) not in ALLOWED_EXCEPTIONS:
                    problems.append(f"{name} imports {module}")
    return problems


def sdk_files(root: Path = ROOT) -> list[str]:
    return [
        relative(path, root)
        for path in product_files(root)
        if imported_modules(path) & BOT_FRAMEWORK
    ]


def test_layers_keep_the_dependency_rule() -> None:
    assert violations() == []


def test_the_scan_sees_a_violation(tmp_path: Path) -> None:
    (tmp_path / "application").mkdir()
    (tmp_path / "application" / "bad.py").write_text(
        "from botbuilder.core import TurnContext\nfrom teams import handlers\n"
    )
    assert violations(tmp_path) == [
        "application/bad.py imports botbuilder",
        "application/bad.py imports teams",
    ]


def test_the_sdk_is_imported_only_at_the_edge_and_by_few_files() -> None:
    found = sdk_files()
    assert [name for name in found if not name.startswith(SDK_PLACES)] == []
    assert len(found) <= MAX_SDK_FILES, found


def test_no_module_is_too_long_and_no_folder_too_full() -> None:
    too_long = {
        relative(path): lines
        for path in product_files()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}
    folders: dict[str, int] = {}
    for path in product_files():
        if path.name != "__init__.py":
            folder = relative(path.parent)
            folders[folder] = folders.get(folder, 0) + 1
    assert {f: n for f, n in folders.items() if n > MAX_FOLDER_MODULES} == {}


def test_every_module_of_a_hundred_lines_has_its_own_test_module() -> None:
    missing = []
    for path in product_files():
        if len(path.read_text(encoding="utf-8").splitlines()) < NEEDS_TEST_MODULE:
            continue
        name = relative(path)
        folder, _, file = name.rpartition("/")
        test = ROOT / "tests" / folder / f"test_{file}"
        if not test.exists():
            missing.append(name)
    assert missing == []
