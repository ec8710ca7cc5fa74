"""The README and docs/ as a newcomer meets them: a short README with its two commands, Deploy
right after the walk-through, no link that leads nowhere, and no setting documented that the
code does not read (nor one the code reads that the configuration page leaves out)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

from config.settings import Settings
from manifest.package import PackageSettings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
MAX_README_WORDS = 2000
THE_TWO_COMMANDS = ["make playground", "make test"]

# Environment variables the docs name that are read outside the settings classes, and why.
READ_ELSEWHERE = {
    "REQUESTS_CA_BUNDLE": "teams/connector_client.py reads it itself, as requests did",
    "IDENTITY_ENDPOINT": "set by Azure for a managed identity; msal reads it itself",
    "IDENTITY_HEADER": "set by Azure for a managed identity; msal reads it itself",
    "PSEUDO_LOCALIZE": "i18n/catalogs.py reads it at import: a development aid, not a setting",
}

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)
_SETTING_LIKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|Microsoft[A-Z][A-Za-z]*")
_UPPER_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


def words(text: str) -> int:
    """Counted as `wc -w` counts: runs of bytes between ASCII whitespace."""
    return len(re.split(rb"[ \t\n\r\v\f]+", text.encode("utf-8").strip()))


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def without_code(markdown: str) -> str:
    """The text outside fenced blocks and code spans, where a link is a link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", markdown))


def links(markdown: str) -> list[str]:
    prose = without_code(markdown)
    return _INLINE_LINK.findall(prose) + _REFERENCE_LINK.findall(prose)


def section_titles(markdown: str, level: int = 2) -> list[str]:
    return [
        title
        for hashes, title in _HEADING.findall(_FENCE.sub("", markdown))
        if len(hashes) == level
    ]


def section(markdown: str, title: str) -> str:
    """The text of the level-2 section with this title, up to the next level-2 heading."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def anchors(markdown: str) -> set[str]:
    """The ids GitHub gives a page's headings: lower case, punctuation dropped, spaces to
    hyphens, a repeat numbered."""
    seen: dict[str, int] = {}
    found = set()
    for _hashes, title in _HEADING.findall(_FENCE.sub("", markdown)):
        text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", title)
        slug = "".join(
            ch for ch in text.strip().lower() if ch in " -_" or unicodedata.category(ch)[0] in "LN"
        ).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in links(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # https:, mailto: — not a file of this repository
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not resolved.is_relative_to(root):
            broken.append(f"{target} (outside the repository: a clone does not have it)")
        elif not resolved.exists():
            broken.append(f"{target} (no such file)")
        elif (
            fragment
            and resolved.suffix == ".md"
            and fragment.lower() not in anchors(resolved.read_text(encoding="utf-8"))
        ):
            broken.append(f"{target} (no heading #{fragment} in {resolved.name})")
    return broken


def documented_settings() -> set[str]:
    """Names that look like settings in the README and docs/configuration.md: in code spans
    (`NAME` or `NAME=value`), upper case with an underscore or Microsoft…, and any upper-case
    name in the first column of a table there (PORT, HOST)."""
    names: set[str] = set()
    for page in (README, CONFIGURATION):
        text = page.read_text(encoding="utf-8")
        for _ticks, span in _CODE_SPAN.findall(_FENCE.sub("", text)):
            name = span.strip().split("=", 1)[0]
            if _SETTING_LIKE.fullmatch(name):
                names.add(name)
        for line in text.splitlines():
            if line.startswith("|") and not line.startswith("|---"):
                first_cell = line.split("|")[1]
                for _ticks, span in _CODE_SPAN.findall(first_cell):
                    if _UPPER_NAME.fullmatch(span.strip()):
                        names.add(span.strip())
    return names


def code_aliases() -> set[str]:
    return {
        field.alias
        for model in (Settings, PackageSettings)
        for field in model.model_fields.values()
        if field.alias
    }


def test_the_readme_is_under_two_thousand_words() -> None:
    count = words(README.read_text(encoding="utf-8"))
    assert count < MAX_README_WORDS, (
        f"README.md has {count} words (wc -w); keep it under {MAX_README_WORDS} and move "
        "details to a page under docs/"
    )


def test_words_are_counted_as_wc_counts_them() -> None:
    # wc -w counts the dash too: any run of non-blank characters is a word.
    assert words("make  playground\n# the bot — on SQLite\n") == 8


def test_the_readme_gives_exactly_the_two_commands_in_one_code_block() -> None:
    blocks = [
        [line.split("#", 1)[0].strip() for line in block.group(0).splitlines()[1:-1]]
        for block in _FENCE.finditer(README.read_text(encoding="utf-8"))
    ]
    commands = [[line for line in block if line] for block in blocks]
    assert THE_TWO_COMMANDS in commands, (
        "README.md must show `make playground` and `make test`, and nothing else, in one "
        f"code block; its code blocks hold {commands}"
    )


def test_the_readme_starts_with_the_commands_and_deploy_follows_the_walk_through() -> None:
    titles = section_titles(README.read_text(encoding="utf-8"))
    assert titles[:2] == ["Two commands", "Try it"], titles
    assert "Deploy" in titles, titles
    assert titles[titles.index("Try it") + 1] == "Deploy", (
        f"Deploy must come right after Try it; the README's sections are {titles}"
    )
    assert titles[titles.index("Deploy") + 1] == "Before you deploy", titles


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_of_the_repository(page: Path) -> None:
    assert broken_links(page) == [], f"{page.relative_to(ROOT)} links nowhere"


def test_a_link_to_a_missing_file_or_heading_or_outside_the_clone_is_caught(
    tmp_path: Path,
) -> None:
    # The check itself must be able to fail: a clone of its own with one page of bad links.
    docs = tmp_path / "clone" / "docs"
    docs.mkdir(parents=True)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "spec.md").write_text("# Spec\n", encoding="utf-8")
    (docs / "index.md").write_text("# Index\n\n## Running it\n", encoding="utf-8")
    page = docs / "probe.md"
    page.write_text(
        "# Probe\n\n[gone](no-such-page.md) [up](../../shared/spec.md) "
        "[anchor](index.md#no-such-heading) [fine](index.md#running-it) "
        "[web](https://example.com) [here](#probe)\n"
        "`[code](not-a-link.md)`\n",
        encoding="utf-8",
    )
    found = broken_links(page, root=tmp_path / "clone")
    assert [entry.split(" ", 1)[0] for entry in found] == [
        "no-such-page.md",
        "../../shared/spec.md",
        "index.md#no-such-heading",
    ], found


def test_no_page_points_at_the_shared_folder_a_clone_does_not_have() -> None:
    for page in pages():
        assert "../shared" not in page.read_text(encoding="utf-8"), page.relative_to(ROOT)


def test_the_index_links_every_docs_page_and_the_readme_links_the_index() -> None:
    index = DOCS / "index.md"
    linked = {target.partition("#")[0] for target in links(index.read_text(encoding="utf-8"))}
    missing = sorted(
        page.name for page in DOCS.glob("*.md") if page != index and page.name not in linked
    )
    assert missing == [], f"docs/index.md does not link {missing}"
    assert "docs/index.md" in links(README.read_text(encoding="utf-8"))


def test_every_documented_setting_is_one_the_code_reads() -> None:
    allowed = code_aliases() | set(READ_ELSEWHERE)
    unknown = sorted(documented_settings() - allowed)
    assert unknown == [], (
        f"README.md or docs/configuration.md names {unknown}, which no alias in "
        "config.settings.Settings or manifest.package.PackageSettings has: fix the name, or "
        "list it in READ_ELSEWHERE with the reason"
    )


def test_every_setting_the_code_reads_is_in_the_configuration_page() -> None:
    documented = documented_settings()
    missing = sorted(code_aliases() - documented)
    assert missing == [], f"docs/configuration.md does not describe {missing}"


def test_the_settings_check_catches_a_made_up_setting() -> None:
    documented = documented_settings() | {"HANDOFF_MADE_UP_SETTING"}
    allowed = code_aliases() | set(READ_ELSEWHERE)
    assert sorted(documented - allowed) == ["HANDOFF_MADE_UP_SETTING"]
