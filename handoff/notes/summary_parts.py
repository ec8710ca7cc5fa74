"""What a useful summary and critsit reason hold, read from the words (R-QUALITY).

Seed 000's General Template asks the summary for three things: "a short description that outlines
the full issue at a glance", "a brief outline of what you and/or the customer have just done" and
"your current conclusions". "Issue with Spark. Still looking into it." has none of them: no
symptom, nothing done, no conclusion. Its checklist's "<Reason for Critsit:>" is a reason, in
words. This module tells which of those parts a text lacks; quality.py says what to add.

It reads words, not meaning, so each test is generous and errs towards letting a summary pass:

- **The issue**: at least ``MIN_ISSUE_WORDS`` words that say something of their own: not filler
  ("the", "with", "it"), nor the words every case has ("issue", "problem", "customer", "case"),
  nor "still looking into it" and its kin.
- **What was done**: a verb in the past ("we raised", "the customer rebuilt", "ran", "sent"), an
  action after "after"/"by" ("after restarting"), or a result that only follows an action
  ("did not help", "made no difference", "works again"). Past forms that describe the symptom
  rather than an action ("failed", "stopped", "crashed", "blocked") do not count.
- **The current conclusion**: a word of judgement or state ("suspect", "probably", "points to",
  "because", "root cause", "ruled out", "confirmed"), a result ("still slow", "no change", "now
  fails", "works again"), or where it waits ("waiting for the customer", "PG is checking").
- **A critsit reason** needs ``MIN_CRITSIT_WORDS`` real word beyond ones that only restate the
  severity ("Sev A", "critical", "urgent", "high priority"): "Outage" passes, "x" does not.

Filler phrases are taken out before the last two tests, so "still looking into it" is neither an
action nor a state.
"""

from __future__ import annotations

import re

MIN_ISSUE_WORDS = 3
MIN_CRITSIT_WORDS = 1
# A summary is refused only when it says at most one of the three parts: reading words, not
# meaning, a test misses a part now and then in good notes ("we set the memory to 8g but it
# still fails"), and a refusal nobody can get past costs more than a thin summary.
MIN_PARTS_SAID = 2


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Lower case, apostrophes dropped, other punctuation made a space: "didn't" reads "didnt".
_WORD = re.compile(r"[a-z0-9]+")

_STOPWORDS = _word_set(
    "a an the and or but if of to in on at by for from with without into onto over under about "
    "as is are was were be been being am do does did done has have had having it its it's this "
    "that these those there here we i you he she they them our my your their us me him her "
    "not no so very too also just only then than now still all any some more most much many "
    "can could will would should may might must shall one two which who whom what when where "
    "why how since until while after before again per via"
)
# Words every case has: alone they say nothing of this one.
_GENERIC = _word_set(
    "issue issues problem problems trouble something stuff thing things case ticket customer "
    "customers cx client user users request question query update help support looking look "
    "investigate investigating investigation checking check checked working work ongoing "
    "progress troubleshooting troubleshoot"
)
# Said instead of a status; taken out before looking for an action or a conclusion.
_FILLER = re.compile(
    r"\b(?:still )?(?:looking into (?:it|this|that)|investigating|checking|troubleshooting"
    r"|working on (?:it|this|that)|in progress|ongoing|no update|to be continued|tbd)\b"
)

# Past forms that describe the symptom, or are adjectives: not something someone did.
_NOT_ACTIONS = _word_set(
    "failed crashed stopped stalled errored timed dropped degraded throttled blocked corrupted "
    "disconnected exceeded affected impacted related based called named needed used expected "
    "caused limited delayed started reported occurred happened returned denied rejected refused "
    "scheduled queued missed seemed appeared red bed need feed seed speed indeed proceed succeed "
    "exceed embed hundred shed locked hosted located licensed managed supported required "
    "unexpected unresolved unsupported undefined"
)
_IRREGULAR_PAST = _word_set(
    "ran reran sent resent took made did redid undid found saw got gave built rebuilt wrote "
    "rewrote kept brought caught told spoke met went began drove reset set put cut read reread "
    "rolled applied engaged analysed analyzed collected reproduced"
)
_RESULT_OF_AN_ACTION = re.compile(
    r"\b(?:did ?n[o']?t (?:help|work|change)|didnt (?:help|work|change)|no (?:effect|difference)"
    r"|made no difference|without (?:effect|success|luck)|helped|fixed|works again|worked)\b"
)
_ACTION_AFTER = re.compile(r"\b(?:after|by) [a-z]+ing\b")

_CONCLUSION = re.compile(
    r"\b(?:suspect\w*|suspicion|likely|unlikely|probabl\w*|possibl\w*|perhaps|seems?|seemed"
    r"|appears?|appeared|looks? like|points? to|pointing to|indicat\w*|shows?|showed|shown"
    r"|reveal\w*|because|due to|caused by|root cause|rca|confirm\w*|ruled out|rules out"
    r"|excluded|narrowed|isolated|identified|found|believe\w*|think|thought|hypothes\w*"
    r"|theory|conclu\w*|so|therefore|thus|hence|means|workaround|fixed|resolved|mitigated"
    r"|works|worked|helped|did ?n[o']?t help|didnt help|no (?:effect|change|difference)"
    r"|made no difference|same (?:error|failure|result|issue|timeout|behaviou?r)|still|now"
    r"|moved|persists?|persisted|remains?|remained|unchanged|not the cause"
    r"|waiting (?:for|on)|awaiting|pending|is checking|are checking|to confirm|next|need to"
    r"|will|plan\w*|wrong|fine|healthy|grows?|unbounded)\b"
)

_RESTATES_SEVERITY = _word_set(
    "sev severity a b c critical critsit crit sit urgent urgency high priority important asap "
    "p1 p0 escalation escalated"
)
# Words typed to get past a required box.
_PLACEHOLDERS = _word_set("tbd tba na none unknown asdf qwerty test todo xxx xx yyy abc foo")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))


def _without_filler(text: str) -> str:
    return _FILLER.sub(" ", " ".join(_words(text)))


def issue_words(text: str) -> list[str]:
    """The words of ``text`` that say something of this case."""
    return [w for w in _words(text) if w not in _STOPWORDS and w not in _GENERIC]


def says_what_was_done(text: str) -> bool:
    plain = _without_filler(text)
    if _RESULT_OF_AN_ACTION.search(plain) or _ACTION_AFTER.search(plain):
        return True
    return any(
        word in _IRREGULAR_PAST
        or (len(word) > 4 and word.endswith("ed") and word not in _NOT_ACTIONS)
        for word in plain.split()
    )


def says_a_conclusion(text: str) -> bool:
    return _CONCLUSION.search(_without_filler(text)) is not None


def missing_parts(summary: str) -> tuple[str, ...]:
    """Which of "issue", "done" and "conclusion" the summary does not say, in that order;
    empty when it says enough of them (``MIN_PARTS_SAID``)."""
    missing = []
    if len(issue_words(summary)) < MIN_ISSUE_WORDS:
        missing.append("issue")
    if not says_what_was_done(summary):
        missing.append("done")
    if not says_a_conclusion(summary):
        missing.append("conclusion")
    return tuple(missing) if 3 - len(missing) < MIN_PARTS_SAID else ()


def is_real_reason(text: str) -> bool:
    """Whether a critsit reason says, in words, why the case is critical."""
    words = [
        w
        for w in _words(text)
        if len(w) > 1
        and w not in _STOPWORDS
        and w not in _RESTATES_SEVERITY
        and w not in _PLACEHOLDERS
    ]
    return len(words) >= MIN_CRITSIT_WORDS
