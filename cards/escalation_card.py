"""R-ESC: the Team Leader's approval card for an escalation to the vendor."""

from __future__ import annotations

from handoff.escalation import Escalation, EscalationState

from .elements import Json, card, heading, open_case, safe, text, text_input
from .transfer_card import local_time

DECISION_TITLES = {
    "esc_approve": "Approve",
    "esc_more": "Suggest more steps",
    "esc_reject": "Reject",
}


def _execute(verb: str, escalation: Escalation) -> Json:
    data = {"escalation_id": escalation.id, "version": escalation.version}
    title = DECISION_TITLES[verb]
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": data,
        "fallback": {"type": "Action.Submit", "title": title, "data": {"verb": verb, **data}},
    }


def approval_card(
    escalation: Escalation, *, notice: str | None = None, case_url_template: str | None = None
) -> Json:
    body: list[Json] = []
    if notice:
        body.append({"type": "Container", "style": "attention", "items": [text(notice)]})
    who = safe(escalation.requester.name or escalation.requester.id)
    body += [
        heading(f"Escalate case {escalation.case_number} to the vendor?"),
        text(f"Requested by {who} · {local_time(escalation.created_at)}"),
        text("Summary", weight="Bolder"),
        text(safe(escalation.summary)),
        text("L1/L2 steps tried", weight="Bolder"),
        text("\n".join(f"- {safe(step)}" for step in escalation.steps_tried)),
        text("Logs and screenshots", weight="Bolder"),
        text("\n".join(f"- {safe(link)}" for link in escalation.research)),
    ]
    if escalation.state is EscalationState.PENDING:
        body.append(
            text_input(
                "comment",
                "Comment (required to suggest steps or reject)",
                multiline=True,
                max_length=2000,
            )
        )
        actions = [_execute(verb, escalation) for verb in DECISION_TITLES]
        return card(body, [*actions, *open_case(escalation.case_number, case_url_template)])
    decided = escalation.state.value.replace("-", " ").capitalize()
    by = safe(escalation.decided_by.name) if escalation.decided_by else "someone"
    when = local_time(escalation.decided_at) if escalation.decided_at else ""
    body.append(
        {
            "type": "TextBlock",
            "text": f"{decided} by {by} · {when}",
            "weight": "Bolder",
            "wrap": True,
        }
    )
    if escalation.comment:
        body.append(text(safe(escalation.comment)))
    return card(body, open_case(escalation.case_number, case_url_template))
