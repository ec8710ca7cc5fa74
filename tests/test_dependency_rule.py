"""design.md's one dependency rule, checked on the source as it is."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUR_PACKAGES = {
    "app",
    "application",
    "cards",
    "config",
    "dialogs",
    "graph",
    "handoff",
    "outbox",
    "storage",
    "teams",
}
BOT_FRAMEWORK = {"botbuilder", "botframework", "msrest"}
IO_LIBRARIES = {"aiohttp", "aiosqlite", "asyncpg", "msal", "requests", "yaml", "sqlite3"}

# package -> top-level modules it must not import
FORBIDDEN: dict[str, set[str]] = {
    "handoff": (OUR_PACKAGES - {"handoff"}) | BOT_FRAMEWORK | IO_LIBRARIES,
    "storage": {"app", "bot", "cards", "config", "dialogs", "graph"} | BOT_FRAMEWORK,
    "graph": {"app", "bot", "cards", "config", "dialogs", "storage"} | BOT_FRAMEWORK,
    "cards": {"app", "bot", "config", "dialogs", "graph", "storage"} | BOT_FRAMEWORK,
    "config": {"app", "bot", "cards", "dialogs", "graph", "storage"} | BOT_FRAMEWORK,
    "bot": {"app"},
    "dialogs": {"app"},
}
# The dialog-state adapter is the one storage module that speaks botbuilder's Storage API.
ALLOWED_EXCEPTIONS = {("storage/bot_state.py", "botbuilder")}


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
            relative = path.relative_to(root).as_posix()
            for module in sorted(imported_modules(path) & forbidden):
                if (relative, module) not in ALLOWED_EXCEPTIONS:
                    problems.append(f"{relative} imports {module}")
    return problems


def test_layers_keep_the_dependency_rule() -> None:
    assert violations() == []


def test_the_scan_sees_a_violation(tmp_path: Path) -> None:
    (tmp_path / "handoff").mkdir()
    (tmp_path / "handoff" / "bad.py").write_text("import aiohttp\nfrom bot import x\n")
    assert violations(tmp_path) == ["handoff/bad.py imports aiohttp", "handoff/bad.py imports bot"]
