"""scripts/chaos.py without breaking anything: which scenarios a command line runs, how lost and
duplicated are counted, when the run fails, the table it prints and what it reads from a bot's
log. The scenarios themselves (processes, PostgreSQL, SIGKILL) run with `make chaos`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pythonjsonlogger.json import JsonFormatter

from scripts import chaos
from scripts.chaos import (
    SCENARIOS,
    Row,
    exit_status,
    log_errors,
    pick,
    scenario_failed,
    table,
    tally,
)


def test_no_names_run_every_scenario_and_names_run_those_in_their_order() -> None:
    assert pick([]) == (list(SCENARIOS), [])
    chosen, unknown = pick(["postgres_outage", "flaky_connector"])
    assert [s.__name__ for s in chosen] == ["postgres_outage", "flaky_connector"]
    assert unknown == []


async def test_an_unknown_name_stops_the_run_before_anything_starts(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pick(["flaky_connector", "power_cut"])[1] == ["power_cut"]
    with caplog.at_level(logging.ERROR, logger="chaos"):
        assert await chaos.main(["flaky_connector", "power_cut"]) == 2
    [record] = caplog.records
    said = record.getMessage()
    assert "power_cut" in said
    assert all(scenario.__name__ in said for scenario in SCENARIOS), "it lists what there is"
    assert capsys.readouterr().out == "", "no table: nothing ran"


def test_a_message_without_an_answer_is_lost_and_every_extra_answer_is_a_duplicate() -> None:
    assert tally([1, 1, 1], baseline=1) == (0, 0)
    assert tally([1, 0, 3, 0], baseline=1) == (2, 2)
    # A message the bot answers twice when delivered once: two answers are no duplicate.
    assert tally([2, 2, 3], baseline=2) == (0, 1)
    assert tally([], baseline=1) == (0, 0)


def test_the_run_fails_when_a_scenario_lost_or_doubled_anything() -> None:
    clean = Row("connector refuses 30% (429/503)", 120, 30, 0, 0, "all shown")
    assert exit_status([clean]) == 0
    assert exit_status([clean, Row("SIGKILL mid-burst, restart", 90, 0, 1, 0)]) == 1
    assert exit_status([clean, Row("2 replicas, 50 Accepts at once", 50, 0, 0, 2)]) == 1


def test_a_scenario_that_broke_fails_the_run_and_says_why_in_a_line() -> None:
    row = scenario_failed("postgres_outage", ConnectionRefusedError("port 5432 " * 40))
    assert exit_status([row]) == 1, "a scenario that could not count never passes"
    assert row.note.startswith("FAILED: port 5432")
    assert len(row.note) == 200
    assert (row.requests, row.failures) == (0, 1)


def test_the_table_lines_up_its_columns_under_the_header() -> None:
    rows = [
        Row("connector refuses 30% (429/503)", 120, 30, 0, 0, "100 shown"),
        Row("2 replicas, 50 Accepts at once", 50, 0, 1, 12345, ""),
    ]
    head, rule, *lines = table(rows).split("\n")
    assert head.split() == ["scenario", "requests", "failures", "lost", "duplicated", "notes"]
    assert len(lines) == len(rows)
    starts = [head.index(name) for name in ("requests", "failures", "lost", "duplicated")]
    for line, row in zip(lines, rows, strict=True):
        assert line.startswith(row.scenario)
        cells = (row.requests, row.failures, row.lost, row.duplicated)
        for start, value in zip(starts, cells, strict=True):
            assert line[start:].startswith(str(value)), line
        assert line == line.rstrip(), "no trailing spaces when a row has no note"
    assert lines[0].endswith("100 shown")
    # Under the header, a run of dashes as wide as the widest cell of each column.
    assert set(rule) == {"-", " "}
    assert [len(part) for part in rule.split("  ")] == [
        max(len("scenario"), *(len(r.scenario) for r in rows)),
        len("requests"),
        len("failures"),
        len("lost"),
        len("duplicated"),
        max(len("notes"), *(len(r.note) for r in rows)),
    ]


def _bot_log(path: Path) -> logging.Logger:
    """A logger writing JSON lines to `path` as the bot writes its log (teams/server_log.py)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}", style="{", rename_fields={"levelname": "level"}
        )
    )
    logger = logging.getLogger(f"chaos-test-{path.stem}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger


def test_the_log_is_read_for_errors_and_tracebacks_per_logger(tmp_path: Path) -> None:
    path = tmp_path / "bot.log"
    writer = _bot_log(path)
    name = writer.name
    writer.info("turn served")
    writer.error("send failed")
    writer.critical("cannot start")
    try:
        raise ConnectionResetError("database went away")
    except ConnectionResetError:
        writer.warning("retrying", exc_info=True)
        writer.exception("gave up")
    for handler in writer.handlers:
        handler.close()
    with path.open("a", encoding="utf-8") as log:
        # A crash's plain traceback, a JSON line that is no record, and noise.
        log.write("Traceback (most recent call last):\n  File 'app.py'\n[1, 2]\nnot json\n")
    found = log_errors(path)
    assert found.errors == {name: 3, "(not JSON)": 1}
    assert found.tracebacks == {name: 2, "(not JSON)": 1}
    assert str(found) == (
        f"ERROR lines 4 ({name} 3, (not JSON) 1), lines with a traceback 3 ({name} 2, (not JSON) 1)"
    )


def test_a_clean_log_reads_as_nothing_found(tmp_path: Path) -> None:
    path = tmp_path / "quiet.log"
    writer = _bot_log(path)
    writer.info("turn served")
    for handler in writer.handlers:
        handler.close()
    assert str(log_errors(path)) == "ERROR lines 0 (), lines with a traceback 0 ()"
