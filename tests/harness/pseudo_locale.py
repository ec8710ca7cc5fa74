"""The pseudo-localized run (`pytest --pseudo-localize`): every catalog text comes out between
⟦ and ⟧ (i18n/pseudo.py), and everything the tests see the bot show is read here. English left
outside the brackets that is a text of our code is a text that is not in a catalog.

A text of our code is any prose-like string literal of the product's modules: what a person
could read, not an identifier, a key or a format. The modules whose texts tools read (the notes
template, the internal title and the DM subject) stay English by design and are left out, as
are the configuration's defaults (data) and the storage layer (SQL)."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from i18n.pseudo import CLOSE, OPEN, outside_brackets

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("app.py", "application", "cards", "dialogs", "handoff", "teams", "outbox", "i18n")
# English on purpose: tools read these texts, whatever the reader's language.
ENGLISH_BY_DESIGN = (
    "handoff/notes/template.py",
    "handoff/notes/parser.py",
    "handoff/notes/outputs.py",
)

# Names, not words: the support plans' product names and each language's own name (which
# the language list shows as the language writes it).
NAMES = frozenset({"Premier", "Professional", "Unified"})
NAMED_IN = ("i18n/languages.py",)

_ACTIVE = False


def activate() -> None:
    global _ACTIVE
    from i18n.catalogs import use_pseudo

    use_pseudo()
    _ACTIVE = True


def active() -> bool:
    return _ACTIVE


_WORD = re.compile(r"[A-Za-z][a-z]+")


def _prose(text: str) -> bool:
    stripped = text.strip()
    if not stripped or any(mark in stripped for mark in ("_", "/", "{", "=", "%(", "\\")):
        return False
    words = _WORD.findall(stripped)
    if len(words) >= 2 and " " in stripped:
        return True
    # One word: a label ("Accept", "Summary"); short ones ("Case") too often start data.
    return len(words) == 1 and stripped == words[0] and stripped[0].isupper() and len(words[0]) >= 6


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def code_texts() -> set[str]:
    """Every prose-like literal of the product's code (outside the English-by-design modules)."""
    texts: set[str] = set()
    for entry in SOURCES:
        path = ROOT / entry
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            if file.relative_to(ROOT).as_posix() in (*ENGLISH_BY_DESIGN, *NAMED_IN):
                continue
            tree = ast.parse(file.read_text(encoding="utf-8"))
            skip = _docstrings(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in skip
                    and _prose(node.value)
                ):
                    texts.add(node.value.strip())
    return texts - NAMES


@functools.cache
def _pattern() -> re.Pattern[str]:
    texts = sorted(code_texts(), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(text) for text in texts) + r")(?!\w)")


def untranslated_in(strings: Iterable[str]) -> list[str]:
    """The texts of our code shown outside the brackets, with what is around each."""
    found = []
    for text in strings:
        rest = outside_brackets(text)
        match = _pattern().search(rest)
        if match:
            found.append(f"{match.group(0)!r} in {rest[:160]!r}")
    return found


def unmarked(node: Any) -> Any:
    """``node`` (an activity's JSON, a text) as the tests read it: the brackets taken out, so a
    test that expects a text word for word reads it as in English. The checks read it raw."""
    if not _ACTIVE:
        return node
    if isinstance(node, str):
        return node.replace(OPEN, "").replace(CLOSE, "")
    if isinstance(node, dict):
        return {key: unmarked(value) for key, value in node.items()}
    if isinstance(node, list):
        return [unmarked(item) for item in node]
    return node


def assert_translated(strings: Iterable[str], where: str) -> None:
    if not _ACTIVE:
        return
    found = untranslated_in(strings)
    assert not found, f"{where} shows texts that are in no catalog: {found[:5]}"
