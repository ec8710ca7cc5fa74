"""Asked when someone types `handoff` while a handoff is in progress: keep the draft, or drop
it for the new one. Nothing already answered is lost without that choice."""

from __future__ import annotations

from cards.elements import Json, card, heading, submit, text

RESTART_FORM = "restart_handoff"
KEEP, DROP = "keep", "drop"


def restart_card(in_progress: str | None, new_case: str | None) -> Json:
    """`new_case` is the case number typed with the command, if any."""
    draft = f"case {in_progress}" if in_progress else "a case"
    new = f"case {new_case}" if new_case else "a new one"
    # The draft it is about: a press on an old card must not drop a newer draft.
    data = {"command": RESTART_FORM, "case": new_case or "", "draft": in_progress or ""}
    return card(
        [
            heading("A handoff is in progress"),
            text(
                f"You were handing off {draft}; your answers so far are kept. Carry on with it, "
                f"or drop it and start {new}?"
            ),
        ],
        [
            submit(f"Keep {draft}", {**data, "choice": KEEP}, style="positive", validate=False),
            submit(f"Drop it, start {new}", {**data, "choice": DROP}, validate=False),
        ],
    )
