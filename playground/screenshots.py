"""`make screenshots`: the README's pictures of the real cards, taken in the playground.

Starts the bot and the playground, runs scripts/screenshots.mjs (playwright-core driving
Debian's chromium) against them, and stops both by PID whatever happens.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

from playground.launch import ROOT, LaunchError, free_port, playground_people, start

log = logging.getLogger(__name__)

OUTPUT = ROOT / "docs" / "screenshots"
SCRIPT_TIMEOUT_SECONDS = 120


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory(prefix="handoff-screenshots-") as workdir:
        people = Path(workdir) / "people.json"
        people.write_text(json.dumps(playground_people()), encoding="utf-8")
        try:
            stack = start(Path(workdir), bot_port=free_port(), playground_port=0)
        except LaunchError as error:
            log.error("cannot start the playground: %s", error)
            return 2
        try:
            done = subprocess.run(
                [
                    "node",
                    str(ROOT / "scripts" / "screenshots.mjs"),
                    stack.playground_url,
                    str(OUTPUT),
                    str(people),
                    stack.waiting.case,
                ],
                cwd=ROOT,
                timeout=SCRIPT_TIMEOUT_SECONDS,
                check=False,
            )
        finally:
            stack.stop()
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
