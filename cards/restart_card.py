"""Asked when someone types `handoff` while a handoff is in progress: keep the draft, or drop
it for the new one. Nothing already answered is lost without that choice."""

from __future__ import annotations

from cards.elements import Json, card, heading, submit, text
from i18n import _

RESTART_FORM = "restart_handoff"
KEEP, DROP = "keep", "drop"


def restart_card(in_progress: str | None, new_case: str | None) -> Json:
    """`new_case` is the case number typed with the command, if any."""
    # The draft it is about: a press on an old card must not drop a newer draft.
    data = {"command": RESTART_FORM, "case": new_case or "", "draft": in_progress or ""}
    return card(
        [heading(_("A handoff is in progress")), text(_question(in_progress, new_case))],
        [
            submit(_keep(in_progress), {**data, "choice": KEEP}, style="positive", validate=False),
            submit(_drop(new_case), {**data, "choice": DROP}, validate=False),
        ],
    )


# Each variant a whole sentence, as the case numbers are known or not.
def _question(in_progress: str | None, new_case: str | None) -> str:
    if in_progress and new_case:
        said = _(
            "You were handing off case {draft}; your answers so far are kept. Carry on with "
            "it, or drop it and start case {new}?"
        )
    elif in_progress:
        said = _(
            "You were handing off case {draft}; your answers so far are kept. Carry on with "
            "it, or drop it and start a new one?"
        )
    elif new_case:
        said = _(
            "You were handing off a case; your answers so far are kept. Carry on with it, or "
            "drop it and start case {new}?"
        )
    else:
        said = _(
            "You were handing off a case; your answers so far are kept. Carry on with it, or "
            "drop it and start a new one?"
        )
    return said.format(draft=in_progress, new=new_case)


def _keep(in_progress: str | None) -> str:
    if in_progress:
        return _("Keep case {number}").format(number=in_progress)
    return _("Keep a case")


def _drop(new_case: str | None) -> str:
    if new_case:
        return _("Drop it, start case {number}").format(number=new_case)
    return _("Drop it, start a new one")
