"""Refusing vague hand-over notes (R-QUALITY), with the fields each severity requires (R-NOTES).

The next engineer must be able to continue without asking anyone (seed 003: "assume another
technician will continue where you left off"), so each problem names the field and says exactly
what to add.

Required fields by case (spec R-NOTES says "required unless marked"; the table below narrows it
where a field cannot exist for every case):

=========================  ===========  ===========  ===========  ==============
field                      Sev A 24x7   Sev A        Sev B        Sev C
=========================  ===========  ===========  ===========  ==============
summary                    required     required     required     required
next_steps_us              required     required     required     required
next_steps_customer        required     required     required     optional
next_customer_contact      required     required     required     if 24x7
steps_tried                required     required     if 24x7      if 24x7
checklist.critsit_reason   required     optional     optional     optional
checklist.customer_reach.  required     optional     optional     optional
=========================  ===========  ===========  ===========  ==============

- Sev A or any 24x7 case ("critical" for steps tried, per the issue) must list steps tried: the
  next region picks it up within hours and must not repeat them.
- A Sev C case may have nothing for the customer to do and no agreed contact time; requiring
  them would make engineers type filler, which is the vagueness we refuse.
- Research and the ICM / partner ticket stay optional: not every case has references, and the
  template itself says to leave the ICM section out when there is none.

Vague text is matched on normalised text (lower case, punctuation and spaces collapsed) against
whole phrases, so "see above" is refused but "See above the firewall log excerpt: port 443 is
blocked" is not. A summary must also have at least ``MIN_SUMMARY_WORDS`` words and
``MIN_SUMMARY_CHARS`` characters: a shorter text cannot say the issue, what was done and the
current conclusion. Past that, it must say each of the three, as seed 000's template asks
("Issue with Spark. Still looking into it." says none); summary_parts.py reads them from the
words, and the problem names the parts missing and what to add for each. A reason for the
critsit, wherever one is given, must say in real words why the case is critical ("x" or "Sev
A" does not).

Owner heuristic for "next steps — us": each line must say who acts. A line passes when it
starts with an actor, optionally followed by ":", "-", "to", "will" or "should" ("We will ...",
"I'll ...", "US SE: ...", "Next SE to ...", "PG - ...", "Owner: ..."), or when it names an owner
anywhere with "owner:", "(owner ...)", "assigned to" or an @mention. Actors: we/I (and their
contractions), MSFT/Microsoft, a region code or an upper-case team tag before SE/SEs/engineer/
team/SME ("EMEA SE", "IST team"), next/receiving/current/new SE/engineer/owner, case owner,
owner, SE, PG, CSS, TA, TL, TM, DM, SME, EEE, team lead(er), escalation/product/network team,
product group, collaborator(s). A bare imperative ("Check the logs") is refused: at a handoff it
is exactly the step nobody does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from i18n import _

from ..models import Case, HandoffNotes, Severity
from .summary_parts import is_real_reason, missing_parts

MIN_SUMMARY_WORDS = 5
MIN_SUMMARY_CHARS = 30


@dataclass(frozen=True)
class NoteProblem:
    """One thing wrong with the notes: ``field`` is the HandoffNotes field to fix."""

    field: str
    message: str


def normalise(text: str) -> str:
    """Lower case, apostrophes dropped, other punctuation and runs of spaces made one space."""
    without_quotes = text.replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", without_quotes.lower()).split())


_VAGUE_PHRASES = (
    "troubleshooting ongoing",
    "ongoing troubleshooting",
    "troubleshooting in progress",
    "investigation ongoing",
    "investigating",
    "still investigating",
    "see above",
    "see below",
    "see notes",
    "see previous notes",
    "see case notes",
    "see email",
    "as discussed",
    "as above",
    "same as above",
    "same as before",
    "same as yesterday",
    "no change",
    "no changes",
    "no update",
    "tbd",
    "tba",
    "to be determined",
    "todo",
    "n a",
    "na",
    "none",
    "nothing",
    "unknown",
    "pending",
    "in progress",
    "wip",
    "working on it",
    "still working on it",
    "work in progress",
    "follow up",
    "continue troubleshooting",
    "continue",
    "check",
    "ok",
    "done",
    "x",
)
VAGUE = frozenset(normalise(phrase) for phrase in _VAGUE_PHRASES)


# An outcome may honestly be "no change" or "none" (the step did not help); only these say
# nothing about what happened.
_VAGUE_OUTCOMES = frozenset(
    normalise(phrase)
    for phrase in (
        "tbd",
        "tba",
        "to be determined",
        "todo",
        "n a",
        "na",
        "unknown",
        "pending",
        "in progress",
        "wip",
        "see above",
        "see below",
        "see notes",
        "x",
        "?",
    )
)


def is_vague_outcome(text: str) -> bool:
    normal = normalise(text)
    return not normal or normal in _VAGUE_OUTCOMES


def is_vague(text: str) -> bool:
    """Whether the whole text is one of the known non-answers (or has no letters or digits)."""
    normal = normalise(text)
    return not normal or normal in VAGUE


_ACTOR = (
    r"(?:we|we ll|well|i|i ll|ill|i will|msft|microsoft|us|our team|"
    r"(?:next|receiving|current|new|incoming|outgoing)\s+(?:se|engineer|owner|region|shift)|"
    r"case owner|owner|se|ses|pg|css|ta|tl|tm|dm|dms|sme|smes|eee|ee|"
    r"team lead|team leader|escalation team|product team|product group|network team|"
    r"collaborator|collaborators|collab team)"
)
_STARTS_WITH_ACTOR = re.compile(rf"^{_ACTOR}\b")
# A region code or team tag written in capitals before a role: "EMEA SE", "IST team".
_TEAM_TAG = re.compile(r"^[A-Z][A-Z0-9]{1,7}\s+(?:SEs?|[Ee]ngineers?|[Tt]eam|SMEs?)\b")
_OWNER_MARK = re.compile(r"\bowner\s*:|\(\s*owner\b|\bassigned to\b|(?:^|\s)@\w", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u00b7]|\d{1,3}[.)])\s+")


def names_an_owner(step: str) -> bool:
    """Whether a next step for us says who does it (see the module doc for the heuristic)."""
    line = _BULLET.sub("", step, count=1).strip().strip("*_")
    return bool(
        _TEAM_TAG.match(line)
        or _STARTS_WITH_ACTOR.match(normalise(line))
        or _OWNER_MARK.search(line)
    )


def _requires_customer_steps(case: Case) -> bool:
    return case.severity is not Severity.C


def _requires_next_contact(case: Case) -> bool:
    return case.severity is not Severity.C or case.is_24x7


def _requires_steps_tried(case: Case) -> bool:
    return case.severity is Severity.A or case.is_24x7


def _summary_part(part: str) -> tuple[str, str]:
    """What a part of seed 000's summary is called ({part1} in "The summary … does not say
    {part1}"), and what to add for it ({add1} in "Add {add1}")."""
    parts = {
        "issue": (
            # Translators: completes "The summary … does not say …".
            _("what the issue is"),
            # Translators: completes "Add …".
            _(
                "the issue at a glance: what fails, with which error, since when (e.g. 'Spark "
                "jobs fail with OutOfMemory on the executors since Monday')"
            ),
        ),
        "done": (
            # Translators: completes "The summary … does not say …".
            _("what was just done"),
            # Translators: completes "Add …".
            _("what you or the customer just did (e.g. 'we raised the executor memory to 8 GB')"),
        ),
        "conclusion": (
            # Translators: completes "The summary … does not say …".
            _("your current conclusion"),
            # Translators: completes "Add …".
            _("where it stands now (e.g. 'it did not help, so we suspect the shuffle partitions')"),
        ),
    }
    return parts[part]


def _summary_lacks(summary: str, lacks: tuple[str, ...]) -> str:
    said: dict[str, str] = {"summary": repr(summary[:60])}
    for index, part in enumerate(lacks[:3], start=1):
        said[f"part{index}"], said[f"add{index}"] = _summary_part(part)
    if len(lacks) == 1:
        return _("The summary {summary} does not say {part1}. Add {add1}.").format(**said)
    if len(lacks) == 2:
        return _(
            "The summary {summary} does not say {part1} or {part2}. Add {add1} and {add2}."
        ).format(**said)
    return _(
        "The summary {summary} does not say {part1}, {part2} or {part3}. Add {add1}, {add2} "
        "and {add3}."
    ).format(**said)


def check_notes(
    notes: HandoffNotes, case: Case, *, reason_required: bool = False
) -> list[NoteProblem]:
    """Every problem with ``notes`` for ``case``; empty when the notes may be handed over.
    ``reason_required``: the handoff needs its justification in the notes (R-NON24x7)."""
    problems: list[NoteProblem] = []
    if reason_required and (not notes.reason or is_vague(notes.reason)):
        problems.append(
            NoteProblem(
                "reason",
                _(
                    "Say why this case needs a handoff: the customer did not ask for it and the "
                    "reason is not one of the accepted ones."
                ),
            )
        )

    summary = notes.summary.strip()
    if not summary:
        problems.append(
            NoteProblem(
                "summary",
                _(
                    "Add a summary: the issue at a glance, what you and the customer just did, "
                    "and your current conclusion."
                ),
            )
        )
    elif is_vague(summary):
        problems.append(
            NoteProblem(
                "summary",
                _(
                    "The summary {summary} does not tell the next engineer anything. Write the "
                    "issue at a glance, what was just done, and the current conclusion."
                ).format(summary=repr(summary)),
            )
        )
    elif len(normalise(summary).split()) < MIN_SUMMARY_WORDS or len(summary) < MIN_SUMMARY_CHARS:
        problems.append(
            NoteProblem(
                "summary",
                _(
                    "The summary is too short (at least {words} words and {characters} "
                    "characters). Add what was just done and the current conclusion."
                ).format(words=MIN_SUMMARY_WORDS, characters=MIN_SUMMARY_CHARS),
            )
        )
    elif lacks := missing_parts(summary):
        problems.append(NoteProblem("summary", _summary_lacks(summary, lacks)))

    if not notes.next_steps_us:
        problems.append(
            NoteProblem(
                "next_steps_us",
                _(
                    "Add the next steps for us, each saying who does it, e.g. 'US SE: review "
                    "the gateway logs the customer uploads'."
                ),
            )
        )
    for number, step in enumerate(notes.next_steps_us, start=1):
        if is_vague(step):
            problems.append(
                NoteProblem(
                    "next_steps_us",
                    _(
                        "Next step for us {number} ({step}) is vague: say what exactly is to be "
                        "done and who does it."
                    ).format(number=number, step=repr(step)),
                )
            )
        elif not names_an_owner(step):
            problems.append(
                NoteProblem(
                    "next_steps_us",
                    # Translators: the examples are how engineers write the owner in English
                    # notes; the check reads those words only.
                    _(
                        "Next step for us {number} ({step}) has no owner: start it with who "
                        "does it, e.g. 'We will …', 'US SE: …', 'PG to …', or add 'owner: …'."
                    ).format(number=number, step=repr(step)),
                )
            )

    if _requires_customer_steps(case) and not notes.next_steps_customer:
        problems.append(
            NoteProblem(
                "next_steps_customer",
                _(
                    "Add the customer's next steps (what they will do or send), or write that "
                    "they have nothing to do and are waiting for us."
                ),
            )
        )
    for number, step in enumerate(notes.next_steps_customer, start=1):
        if is_vague(step):
            problems.append(
                NoteProblem(
                    "next_steps_customer",
                    _(
                        "Customer next step {number} ({step}) is vague: say what the customer "
                        "will do or send."
                    ).format(number=number, step=repr(step)),
                )
            )

    if _requires_next_contact(case) and notes.next_customer_contact is None:
        problems.append(
            NoteProblem(
                "next_customer_contact",
                _(
                    "Add the next customer contact: when (in the customer's time zone) and who "
                    "is waiting for whom."
                ),
            )
        )
    elif notes.next_customer_contact is not None and is_vague(
        notes.next_customer_contact.who_waits
    ):
        problems.append(
            NoteProblem(
                "next_customer_contact",
                _(
                    "Say who is waiting for whom at the next contact, e.g. 'customer waits for "
                    "our analysis of the logs'."
                ),
            )
        )

    if _requires_steps_tried(case) and not notes.steps_tried:
        needs_steps = (
            # Translators: {severity} is a letter, A to C.
            _(
                "A Sev {severity} 24x7 case needs the steps already tried, each with its "
                "outcome, so the next engineer does not repeat them."
            )
            if case.is_24x7
            else _(
                "A Sev {severity} case needs the steps already tried, each with its outcome, so "
                "the next engineer does not repeat them."
            )
        )
        problems.append(
            NoteProblem("steps_tried", needs_steps.format(severity=case.severity.value))
        )
    for number, tried in enumerate(notes.steps_tried, start=1):
        if is_vague(tried.step):
            problems.append(
                NoteProblem(
                    "steps_tried",
                    _(
                        "Step tried {number} ({step}) is vague: say what was done (command, "
                        "test, change)."
                    ).format(number=number, step=repr(tried.step)),
                )
            )
        if is_vague_outcome(tried.outcome):
            problems.append(
                NoteProblem(
                    "steps_tried",
                    _(
                        "Step tried {number} ({step}) has no outcome: add what happened (error "
                        "text, result of the test)."
                    ).format(number=number, step=repr(tried.step.strip())),
                )
            )

    critsit_reason = (notes.checklist.critsit_reason or "").strip()
    if case.is_critical and not critsit_reason:
        problems.append(
            NoteProblem(
                "checklist",
                _("Add the reason for the critsit to the checklist: this is a Sev A 24x7 case."),
            )
        )
    elif critsit_reason and not is_real_reason(critsit_reason):
        # Checked on any case that gives one: it is written into the notes all the same.
        problems.append(
            NoteProblem(
                "checklist",
                _(
                    "The reason for the critsit ({reason}) does not say why the case is "
                    "critical: write it in a few words, e.g. 'Production loads blocked for all "
                    "stores'."
                ).format(reason=repr(critsit_reason[:60])),
            )
        )
    if case.is_critical:
        checklist = notes.checklist
        if checklist.customer_reachable is None:
            problems.append(
                NoteProblem(
                    "checklist",
                    _(
                        "Answer 'Customer reachable?' in the checklist: the next region must "
                        "know whether it can call the customer."
                    ),
                )
            )
    return problems
