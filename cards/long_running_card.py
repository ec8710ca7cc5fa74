"""R-LONG: the card where the owner confirms or changes the regional owners of a long-running
case, and says what the customer prefers, before its group chat is made."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff.models import Person
from i18n import N_, _

from .elements import Json, card, choice_set, heading, problems_block, submit, text, text_input

CHAT_OWNERS = "chat_owners"
# What the customer may prefer, by the value the card sends back; titled where shown.
PREFERENCES: tuple[tuple[str, str], ...] = (
    ("global", N_("Global engineers: one owner per region, in a group chat")),
    ("regional", N_("One regional engineer keeps the case (high severity)")),
)


def owner_field(region: str) -> str:
    return f"owner_{region}"


def shown_owner(person: Person, email: str | None) -> str:
    """How a proposed owner is named to people: their name, and their e-mail when known.
    Never their directory object id, which means nothing to anyone."""
    name = person.name or _("someone")
    return f"{name} ({email})" if email else name


def owners_card(
    case_number: str,
    regions: Sequence[str],
    owners: Mapping[str, Person],
    raw: Mapping[str, Any],
    problems: Sequence[str],
    emails: Mapping[str, str] | None = None,
) -> Json:
    """`owners`: the proposed owner of each region (handoff.long_running.regional_owners);
    `emails`: their e-mail addresses by AAD object id, where Graph knew them. Each proposal
    is shown by name and e-mail; its object id travels only in the card's data, to tell a
    kept proposal from a typed name (and is checked against the case's history then)."""
    emails = emails or {}
    proposed: dict[str, dict[str, str]] = {}
    body: list[Json] = [
        heading(_("Case {number}: regional owners").format(number=case_number)),
        *problems_block(problems),
        choice_set(
            "preference",
            _("What does the customer prefer?"),
            [(value, _(title)) for value, title in PREFERENCES],
            str(raw.get("preference") or ""),
            expanded=True,
        ),
        text(
            _(
                "One owner per region, from who owned the case. Change anyone by typing their "
                "e-mail address; leave a region empty to have no owner there."
            ),
            subtle=True,
        ),
    ]
    for region in regions:
        person = owners.get(region)
        label, default = _("{region} owner").format(region=region), ""
        if person is not None and person.aad_object_id:
            default = shown_owner(person, emails.get(person.aad_object_id))
            proposed[region] = {"id": person.aad_object_id, "shown": default}
        elif person is not None:
            # Not known to the directory by id: they cannot be added as they are.
            label = _("{region} owner (proposed: {name}; type their e-mail address)").format(
                region=region, name=person.name or _("someone")
            )
        value = raw.get(owner_field(region), default)
        body.append(text_input(owner_field(region), label, str(value or ""), max_length=200))
    data = {"command": CHAT_OWNERS, "case": case_number, "proposed": proposed}
    return card(body, [submit(_("Make the group chat"), data, style="positive")])
