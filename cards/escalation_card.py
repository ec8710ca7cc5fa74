"""R-ESC: the Team Leader's approval card for an escalation to the vendor."""

from __future__ import annotations

from handoff.escalation import Escalation, EscalationState
from i18n import N_, _

from .elements import Json, card, heading, name_text, open_case, safe, text, text_input
from .handoff_words import local_time

# The Team Leader's buttons by verb, titled where shown.
DECISION_TITLES = {
    "esc_approve": N_("Approve"),
    "esc_more": N_("Suggest more steps"),
    "esc_reject": N_("Reject"),
}
# How a decided escalation stands, by its state.
_DECIDED_WORDS = {
    EscalationState.APPROVED: N_("Approved by {name} · {time}"),
    EscalationState.MORE_STEPS: N_("More steps suggested by {name} · {time}"),
    EscalationState.REJECTED: N_("Rejected by {name} · {time}"),
}


def _execute(verb: str, escalation: Escalation) -> Json:
    data = {"escalation_id": escalation.id, "version": escalation.version}
    title = _(DECISION_TITLES[verb])
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
    who = name_text(escalation.requester.name or escalation.requester.id)
    body += [
        heading(_("Escalate case {number} to the vendor?").format(number=escalation.case_number)),
        text(
            _("Requested by {name} · {time}").format(
                name=who, time=local_time(escalation.created_at)
            )
        ),
        text(_("Summary"), weight="Bolder"),
        text(safe(escalation.summary)),
        text(_("L1/L2 steps tried"), weight="Bolder"),
        text("\n".join(f"- {safe(step)}" for step in escalation.steps_tried)),
        text(_("Logs and screenshots"), weight="Bolder"),
        text("\n".join(f"- {safe(link)}" for link in escalation.research)),
    ]
    if escalation.state is EscalationState.PENDING:
        body.append(
            text_input(
                "comment",
                _("Comment (required to suggest steps or reject)"),
                multiline=True,
                max_length=2000,
            )
        )
        actions = [_execute(verb, escalation) for verb in DECISION_TITLES]
        return card(body, [*actions, *open_case(escalation.case_number, case_url_template)])
    by = name_text(escalation.decided_by.name) if escalation.decided_by else _("someone")
    when = local_time(escalation.decided_at) if escalation.decided_at else ""
    decided = _(_DECIDED_WORDS[escalation.state]).format(name=by, time=when)
    body.append(
        {
            "type": "TextBlock",
            "text": decided,
            "weight": "Bolder",
            "wrap": True,
        }
    )
    if escalation.comment:
        body.append(text(safe(escalation.comment)))
    return card(body, open_case(escalation.case_number, case_url_template))
