"""The cards of the compose box (the app's message extension): each search result's preview,
the line that says more handoffs matched, and the dialog of "Hand off this case" on a message.
The card a result inserts is the case's own (transfer_card.handoff_card)."""

from __future__ import annotations

from collections.abc import Sequence

from handoff.models import Handoff
from i18n import _, formats

from .elements import Json, card, clip, heading, problems_block, severity_badge, text, text_input
from .handoff_words import state_inline

THUMBNAIL_CONTENT_TYPE = "application/vnd.microsoft.card.thumbnail"
# The dialog's form, as its Submit says (the submitAction's data carries it back).
HAND_OFF_FORM = "hand_off_message"
CASE_INPUT = "case"


def case_preview(handoff: Handoff) -> Json:
    """A result in the search list: the case, its severity, its route and its state; its skill
    and title beneath. Thumbnail cards take no Adaptive Card markup: plain text."""
    case = handoff.case
    about = " · ".join(part for part in (case.product_skill, case.title) if part)
    route = f"{handoff.from_region} → {handoff.target_region}"
    return {
        "title": _("Case {number} · {badge}").format(
            number=case.number, badge=severity_badge(case)
        ),
        "subtitle": f"{route} · {state_inline(handoff)}",
        "text": clip(about, 120),
    }


def more_found(shown: int) -> Json:
    """The last line of a list cut short: more handoffs match than are shown."""
    return {
        "title": _("More handoffs match: these are the first {count}").format(count=shown),
        "text": _("Type more of the case number, or more words of its title."),
    }


def hand_off_form(case: str | None, found: Sequence[str], problems: Sequence[str] = ()) -> Json:
    """The dialog of "Hand off this case" on a message: the case number the message names
    (to confirm or type), and what of the team's notes template it holds."""
    if case is not None:
        about = text(
            _("Case **{number}**: its handoff opens in our personal chat.").format(number=case)
        )
    else:
        about = text(
            _(
                "This message names no case number. Type it here, or leave it empty and the form "
                "in our personal chat asks for it."
            ),
            weight="Bolder",
        )
    if found:
        # Translators: {fields} lists the notes' fields the message fills in.
        said = _("From the message I fill in: {fields}.").format(fields=formats.listing(found))
        taken = text(said, subtle=True)
    else:
        taken = text(
            _(
                "The message holds no notes in the team's template: I fill in its text as the "
                "summary."
            ),
            subtle=True,
        )
    return card(
        [
            heading(_("Hand off this case")),
            *problems_block(problems),
            about,
            text_input(CASE_INPUT, _("Case number"), case or "", max_length=40),
            taken,
        ],
        [
            {
                "type": "Action.Submit",
                "title": _("Open the handoff in our chat"),
                "data": {"form": HAND_OFF_FORM},
            }
        ],
    )
