"""The cards of the compose box (the app's message extension): each search result's preview,
the line that says more handoffs matched, and the dialog of "Hand off this case" on a message.
The card a result inserts is the case's own (transfer_card.handoff_card)."""

from __future__ import annotations

from collections.abc import Sequence

from handoff.models import Handoff, HandoffState

from .elements import Json, card, clip, heading, problems_block, text, text_input

THUMBNAIL_CONTENT_TYPE = "application/vnd.microsoft.card.thumbnail"
# The dialog's form, as its Submit says (the submitAction's data carries it back).
HAND_OFF_FORM = "hand_off_message"
CASE_INPUT = "case"


def case_preview(handoff: Handoff) -> Json:
    """A result in the search list: the case, its severity, its route and its state; its skill
    and title beneath. Thumbnail cards take no Adaptive Card markup: plain text."""
    case = handoff.case
    badge = f"Sev {case.severity.value}" + (" · 24x7" if case.is_24x7 else "")
    state = handoff.state.value.replace("-", " ")
    if handoff.state is HandoffState.ACCEPTED and handoff.owner is not None:
        state += f" by {handoff.owner.name or handoff.owner.id}"
    about = " · ".join(part for part in (case.product_skill, case.title) if part)
    return {
        "title": f"Case {case.number} · {badge}",
        "subtitle": f"{handoff.from_region} → {handoff.target_region} · {state}",
        "text": clip(about, 120),
    }


def more_found(shown: int) -> Json:
    """The last line of a list cut short: more handoffs match than are shown."""
    return {
        "title": f"More handoffs match: these are the first {shown}",
        "text": "Type more of the case number, or more words of its title.",
    }


def hand_off_form(case: str | None, found: Sequence[str], problems: Sequence[str] = ()) -> Json:
    """The dialog of "Hand off this case" on a message: the case number the message names
    (to confirm or type), and what of the team's notes template it holds."""
    if case is not None:
        about = text(f"Case **{case}**: its handoff opens in our personal chat.")
    else:
        about = text(
            "This message names no case number. Type it here, or leave it empty and the form "
            "in our personal chat asks for it.",
            weight="Bolder",
        )
    if found:
        taken = text("From the message I fill in: " + ", ".join(found) + ".", subtle=True)
    else:
        taken = text(
            "The message holds no notes in the team's template: I fill in its text as the summary.",
            subtle=True,
        )
    return card(
        [
            heading("Hand off this case"),
            *problems_block(problems),
            about,
            text_input(CASE_INPUT, "Case number", case or "", max_length=40),
            taken,
        ],
        [
            {
                "type": "Action.Submit",
                "title": "Open the handoff in our chat",
                "data": {"form": HAND_OFF_FORM},
            }
        ],
    )
