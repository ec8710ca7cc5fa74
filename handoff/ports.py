"""What the domain needs from the outside world, as Protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from pydantic import Field

from .errors import AlreadyHandled as AlreadyHandled
from .errors import ChangedMeanwhile as ChangedMeanwhile
from .errors import DuplicateOpenHandoff as DuplicateOpenHandoff
from .escalation import Escalation
from .insights import HandoffFact, PeriodRollup, RollupQuery
from .long_running import GroupChat, GroupChatState
from .models import (
    AuditEntry,
    AuditEvent,
    AuditKind,
    Frozen,
    Handoff,
    HandoffState,
    Person,
    UtcDatetime,
)
from .user_settings import UserSettings


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OutboxMessage(Frozen):
    """Work to do after a change is stored (a post, a card update, a DM), written in the same
    transaction as the change so that neither is ever stored without the other."""

    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    not_before: UtcDatetime
    # Messages of one lane (one conversation) are sent one at a time, in the order enqueued;
    # a failed one holds the rest of its lane back until it is sent or given up.
    lane: str | None = None


class CardRef(Frozen):
    """Where a handoff's card was posted, to update it in place."""

    conversation_id: str
    activity_id: str


class Clicked(Frozen):
    """All a click on a card needs, in one query (HandoffRepository.clicked): the handoff,
    whose card the clicked message is, whether the click's key was recorded (handled before),
    the clicker's settings and, when asked, the case's handoffs, oldest first, this one too."""

    handoff: Handoff
    card_of_message: str | None = None
    pressed: bool = False
    actor_settings: UserSettings | None = None
    case: tuple[Handoff, ...] = ()


# Outbox messages made once the change they go with is known to win (inside its transaction,
# so quick and without I/O): nothing is made for a change that is not written.
MakeOutbox = Callable[[], Sequence[OutboxMessage]]


class HandoffRepository(Protocol):
    """Handoffs with optimistic versions, and their append-only audit trail."""

    async def add(
        self,
        handoff: Handoff,
        events: Sequence[AuditEvent],
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        """Stores a new handoff; DuplicateOpenHandoff if its case already has an open one."""

    async def get(self, handoff_id: str) -> Handoff:
        """The handoff, or NotFound."""

    async def save(
        self,
        handoff: Handoff,
        expected_version: int,
        events: Sequence[AuditEvent],
        outbox: Sequence[OutboxMessage] | MakeOutbox = (),
        claim: str | None = None,
    ) -> None:
        """Writes a changed handoff, its events and its outbox messages in one transaction;
        ChangedMeanwhile when the stored version is no longer expected_version (nothing
        written). `claim`, an idempotency key (see HandledKeys), is recorded in the same
        transaction; AlreadyHandled (nothing written) when it was recorded before, also by a
        twin that won the race (a redelivery in flight: the same change, not another's)."""

    async def open_for_case(self, case_number: str) -> Handoff | None: ...

    async def list_open(
        self, target_region: str | None = None, limit: int = 100, after: Handoff | None = None
    ) -> list[Handoff]: ...  # Open ones, oldest first; with `after`, the page after it.

    async def history(self, handoff_id: str) -> list[AuditEvent]:
        """The handoff's events in the order they happened."""

    async def latest_for_case(self, case_number: str) -> Handoff | None:
        """The case's open handoff, or else its most recent one."""

    async def for_case(self, case_number: str) -> list[Handoff]:
        """Every handoff the case has had, oldest first."""

    async def involving(self, person_id: str, limit: int = 20) -> list[Handoff]:
        """Handoffs the person requested or took, most recently changed first."""

    async def set_card(self, handoff_id: str, card: CardRef) -> None: ...

    async def card_of(self, handoff_id: str) -> CardRef | None: ...

    async def with_card(self, handoff_id: str) -> tuple[Handoff, CardRef | None]:
        """The handoff and the card it was posted as (None: not posted), in one query: all a
        refresh of the card reads. Raises NotFound."""

    async def handoff_of_card(self, activity_id: str) -> str | None:
        """The handoff whose Case Transfer card is the message `activity_id`, if any."""

    async def clicked(
        self,
        handoff_id: str,
        message_id: str | None,
        key: str | None,
        actor_id: str,
        *,
        whole_case: bool = False,
    ) -> Clicked:
        """All a click on the handoff's card reads (see Clicked), in one query; the whole case
        along when asked. Raises NotFound."""

    async def handoff_counts(self) -> dict[tuple[HandoffState, str], int]:
        """How many handoffs there are in each state, per target region (only the pairs that
        have any), in one query: what an operator's /metrics shows."""

    async def purge_closed_cases(self, closed_before: datetime, limit: int) -> dict[str, int]:
        """Retention: deletes up to `limit` handoffs, with their events and cards, oldest
        first, in one transaction. A handoff goes only with its whole case: when none of the
        case's handoffs is open or was changed since `closed_before`, and none of its
        escalations is pending or was decided since. Rows deleted, per table."""


class HandoffSearch(Frozen):
    """What the compose box's search asks for (application/compose/search.py)."""

    # Digits the case number holds, anywhere in it ("" for any case).
    case_digits: str = Field("", pattern=r"^\d*$", max_length=20)
    # Words each of which the case's title or the handoff's internal title holds, in any
    # letter case (() for any title).
    words: tuple[str, ...] = Field((), max_length=8)
    # Closed handoffs count when changed since then; open ones always.
    changed_since: UtcDatetime
    limit: int = Field(ge=1, le=100)


class HandoffFinder(Protocol):
    async def find_handoffs(self, search: HandoffSearch) -> list[Handoff]:
        """The handoffs that match, open ones first, then the latest changed; `search.limit`."""


class InsightsReader(Protocol):
    """The rows of handoff facts behind `insights` (handoff/insights.py), one per handoff, kept
    by HandoffRepository in the same transaction as each change."""

    async def rollup(self, query: RollupQuery) -> PeriodRollup:
        """The period's handoffs added up as the figures need them (handoff.insights.compute),
        in a few aggregate queries whatever their number."""

    async def facts_requested(
        self, since: datetime, until: datetime, target_region: str | None = None
    ) -> list[HandoffFact]:
        """The handoffs requested within [since, until), to `target_region` if given."""

    async def case_facts(
        self, since: datetime, until: datetime, target_region: str | None = None
    ) -> list[HandoffFact]:
        """The other handoffs (requested before or after the period, or to another region)
        of the cases that had one requested within [since, until) (to `target_region` if
        given): with facts_requested, the cases' whole journeys."""

    async def owner_names(
        self, since: datetime, until: datetime, target_region: str | None = None
    ) -> dict[str, str]:
        """The owners' names (by handoff id) of the handoffs requested within [since,
        until) that have an owner with a name."""

    async def critical_open(
        self, target_region: str | None = None, limit: int = 50
    ) -> list[HandoffFact]:
        """Critical (Sev A, 24x7) handoffs open now, so without an owner, oldest first."""


class GroupChatStore(Protocol):
    """R-LONG group chats: planned before Graph is asked, with the chat id kept at once."""

    async def plan_group_chat(self, chat: GroupChat) -> bool: ...

    async def group_chat(self, case_number: str) -> GroupChat | None: ...

    async def group_chat_by_id(self, chat_id: str) -> GroupChat | None: ...

    async def retry_group_chat(self, case_number: str) -> GroupChat | None:
        """Puts a failed chat back where it stopped (created if Graph gave it an id, else
        requested); None unless it was failed, so only one of two retries at once wins."""

    async def update_group_chat(
        self,
        case_number: str,
        state: GroupChatState,
        *,
        chat_id: str | None = None,
        error: str | None = None,
    ) -> None: ...

    async def purge_group_chats(self, before: datetime, limit: int) -> dict[str, int]:
        """Retention: forgets up to `limit` chats unchanged since `before` whose case has no
        handoff left, with the finished outbox steps that made them; the Teams chats stay.
        Rows deleted, per table."""


class EscalationStore(Protocol):
    async def add_escalation(
        self,
        escalation: Escalation,
        outbox: Sequence[OutboxMessage] = (),
        events: Sequence[AuditEvent] = (),
    ) -> None:
        """Stores a new escalation with its outbox messages and its events in the case's
        history, in one transaction."""

    async def get_escalation(self, escalation_id: str) -> Escalation: ...

    async def pending_escalation(self, case_number: str) -> Escalation | None: ...

    async def save_escalation(
        self,
        escalation: Escalation,
        expected_version: int,
        outbox: Sequence[OutboxMessage] = (),
        claim: str | None = None,
        events: Sequence[AuditEvent] = (),
    ) -> None:
        """ConcurrencyConflict when decided meanwhile; `claim` as in HandoffRepository.save;
        `events` go into the case's history in the same transaction."""

    async def add_escalation_card(self, escalation_id: str, card: CardRef) -> None: ...

    async def escalation_cards(self, escalation_id: str) -> list[CardRef]: ...

    async def escalation_of_card(self, activity_id: str) -> str | None:
        """The escalation whose approval card is the message `activity_id`, if any."""

    async def purge_escalations(self, decided_before: datetime, limit: int) -> dict[str, int]:
        """Retention: deletes up to `limit` escalations decided before `decided_before` whose
        case has no handoff left, with their approval cards' places. Rows deleted, per table."""


class StoredDocument(Frozen):
    """A document of the bot's own state as stored under its key: its e-tag and its text,
    both None when nothing is stored under the key."""

    e_tag: str | None = None
    doc: str | None = None


class KeysClaimed(Frozen):
    """What HandledKeys.claim_keys did. With `repeated` set, nothing was claimed: that key is
    handled, or being handled, by another turn. Otherwise every key is now this claim's;
    `taken_over` names those a turn had claimed before without finishing in time."""

    repeated: str | None = None
    in_progress: bool = False
    """With `repeated`: that key's claim is still pending (its turn may be running, or its
    process died less than the bound ago), not done."""
    taken_over: frozenset[str] = frozenset()
    read_along: StoredDocument | None = None
    """When the claim was asked to read a document along and won: that document as stored."""


class HandledKeys(Protocol):
    """Idempotency keys of the deliveries and card clicks already handled, shared by every
    replica: whoever records a key first does the work, a repeat finds it recorded.

    A card click's key is done when written (it is written with its change). A delivery's keys
    are claimed before its turn runs and stay pending until the turn finishes them: a pending
    claim older than the turn's bound was abandoned (its process died mid-turn), and the next
    claim of those keys takes it over, so that Teams' redelivery is not lost."""

    async def claim_key(self, key: str) -> bool:
        """Records the key, done; False (and nothing changed) when it was recorded before."""

    async def claim_keys(
        self,
        keys: Sequence[str],
        claimant: str,
        abandoned_after: timedelta,
        read_along: str | None = None,
    ) -> KeysClaimed:
        """Claims all the keys for `claimant` (one value per claim), pending, together in one
        statement that need not wait for the disk (a claim lost to a power cut only lets a
        redelivery be handled again). A key that is done, or pending for less than
        `abandoned_after`, is a repeat: then nothing stays claimed. Of claims racing for the
        same keys on any replicas, at most one wins, takeovers included. `read_along` names
        a document of the bot's state that the same statement reads (the turn's dialog
        state), so that a turn's first round trip to the database is its only one."""

    async def finish_claims(self, claims: Sequence[tuple[Sequence[str], str]]) -> None:
        """Marks each claim's (keys, claimant) done, to block repeats for good: one statement
        that need not wait for the disk either. A key another claimant took over stays so."""

    async def key_claimed(self, key: str) -> bool: ...

    async def release_keys(self, keys: Sequence[str], claimant: str) -> None:
        """Forgets a pending claim whose work failed, so that a redelivery is handled again; a
        key another claimant took over meanwhile is left alone."""

    async def forget_keys_before(self, cutoff: datetime) -> int:
        """Drops keys claimed before the cutoff (redeliveries come within minutes)."""


class UserSettingsStore(Protocol):
    async def user_settings(self, user_id: str) -> UserSettings | None: ...

    async def save_user_settings(self, settings: UserSettings, audit: AuditEntry) -> None:
        """Saves a person's settings and the audit entry of the change, in one transaction."""

    async def reminded_users(self) -> list[UserSettings]: ...


class SettingsStore(Protocol):
    """Settings given at run time, such as the Case Transfer channel bound with `setup`."""

    async def get_setting(self, key: str) -> str | None: ...

    async def set_setting(self, key: str, value: str, audit: AuditEntry) -> None:
        """Saves a setting and the audit entry of the change, in one transaction."""


class AuditLog(Protocol):
    async def audit_entries(self, limit: int = 20) -> list[AuditEntry]:
        """The latest audited changes outside the handoffs, newest first."""

    async def add_audit_entry(self, entry: AuditEntry) -> None:
        """Records an entry that goes with no other change (a refusal, say)."""

    async def audit_entries_between(
        self, kind: AuditKind, since: datetime, until: datetime, limit: int = 10_000
    ) -> list[AuditEntry]:
        """The entries of `kind` made within [since, until), oldest first."""

    async def purge_audit_entries(self, before: datetime, limit: int) -> int:
        """Retention: deletes up to `limit` of the oldest entries made before `before`; of
        the kinds that say what is in force (AuditKind.explains_what_is_in_force) only those a
        later entry superseded."""


class ConversationKind(StrEnum):
    PERSONAL = "personal"
    CHANNEL = "channel"
    GROUP_CHAT = "groupChat"


class ConversationAddress(Frozen):
    """Where the bot can speak again later: a personal chat, a channel or a group chat.
    `reference` is the channel SDK's own serialized reference, opaque to the domain."""

    conversation_id: str = Field(min_length=1)
    kind: ConversationKind
    service_url: str = Field(min_length=1)
    tenant_id: str | None = None
    user: Person | None = None
    team_id: str | None = None
    channel_id: str | None = None
    reference: dict[str, Any]
    updated_at: UtcDatetime


class ConversationStore(Protocol):
    async def save_conversation(self, address: ConversationAddress) -> None:
        """Inserts or replaces the address of that conversation."""

    async def get_conversation(self, conversation_id: str) -> ConversationAddress | None: ...

    async def personal_conversation(self, user_id: str) -> ConversationAddress | None:
        """The 1:1 chat with a user, found by Teams user id or AAD object id."""

    async def channel_conversation(self, channel_id: str) -> ConversationAddress | None: ...

    async def team_of_bound_channel(self, setting: str, configured_channel: str) -> str | None:
        """The team of the channel the setting names (else `configured_channel`), in one query."""

    async def purge_idle_dialogs(self, before: datetime, limit: int) -> int:
        """Retention: forgets up to `limit` conversations' dialog state (an unfinished
        handoff's answers) untouched since `before`; the addresses stay."""


class OutboxState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class OutboxItem(Frozen):
    id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    state: OutboxState
    attempts: int
    not_before: UtcDatetime
    last_error: str | None = None
    lane: str | None = None
    sent_steps: tuple[str, ...] = ()
    """What the item's sends returned so far (across attempts), so a retry skips them."""
    sending: str | None = None
    """The send begun and not recorded as done ("client activity id@attempt@began at"): set
    when a crash came between the two, and then that send may have reached Teams already."""
    turn_id: str | None = None
    """The request whose turn enqueued the item, if one did (handoff/turn_ids.py)."""


class Outbox(Protocol):
    """Work to do later, durably: sends, card updates, Graph calls."""

    async def enqueue(
        self, kind: str, payload: dict[str, Any], dedupe_key: str, not_before: datetime
    ) -> bool:
        """Adds an item; False (and nothing added) when dedupe_key was enqueued before."""

    async def enqueue_message(self, message: OutboxMessage) -> bool:
        """`enqueue` of a message built by handoff/effects.py."""

    async def claim(
        self, now: datetime, limit: int, lease: timedelta, *, expected: bool = False
    ) -> list[OutboxItem]:
        """Due pending items, each leased to one caller until now + lease (a crashed worker's
        lease runs out); `expected`: something is known to be due, so no look first."""

    async def complete(self, item_id: int) -> None: ...

    async def retry_later(self, item_id: int, at: datetime, error: str) -> None: ...

    async def give_up(self, item_id: int, error: str) -> None:
        """Moves the item to the dead letters an admin can see and retry."""

    async def dead_letters(self, limit: int = 100) -> list[OutboxItem]: ...

    async def begin_send(self, item_id: int, sending: str) -> None:
        """Notes, before it goes out, the send a claimed item makes (OutboxItem.sending)."""

    async def record_steps(self, item_id: int, steps: Sequence[str]) -> None:
        """Remembers the sends a claimed item has made so far; the begun one is done."""

    async def sent_in_lane(self, lane: str, since: datetime) -> set[str]:
        """The activity ids that the lane's items recorded as sent since `since`."""

    async def defer(self, item_id: int, at: datetime) -> None:
        """Puts a claimed item and its lane's next items back until `at` (no attempt counted)."""

    async def revive(self, item_id: int) -> bool:
        """A dead letter is pending again, due now, with fresh attempts; False if none has it."""

    async def outbox_counts(self) -> dict[str, int]:
        """How many items are in each state."""

    async def outbox_states(self, dedupe_keys: Sequence[str]) -> dict[str, OutboxState]:
        """The state of each of these items that was ever enqueued, by key."""

    async def purge_finished(self, before: datetime, limit: int) -> int:
        """Retention: deletes up to `limit` done or dead items last changed before `before`,
        oldest first (their keys can then be enqueued again); a pending item is never
        deleted."""


class Notifier(Protocol):
    """Tells a person something in their personal chat."""

    async def notify(self, person: Person, text: str) -> None: ...


class ChatGateway(Protocol):
    """Creates group chats for long-running cases (R-LONG)."""

    async def create_group_chat(self, topic: str, member_ids: Sequence[str]) -> str: ...

    async def install_app(self, chat_id: str) -> None: ...
