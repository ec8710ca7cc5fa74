"""The use cases put together over one store: what the Teams edge routes to, and what the
scenario tests drive without a server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from application.group_membership import GroupMembership
from cards.long_running_card import CHAT_OWNERS
from cards.oof_card import OOF_FORM
from config.process import ProcessConfig
from graph.client import GraphClient
from handoff.access import AccessPolicy, listed
from handoff.ports import AuditLog, Clock, HandoffFinder, InsightsReader
from handoff.request import Queue
from handoff.schedule import Schedule
from handoff.service import HandoffService

from .access import RequestAccess
from .audit_trail import AuditTrail
from .channel import ChannelBinding, case_transfer_team
from .compose.hand_off import HandOffMessage
from .compose.search import CaseSearch
from .escalations import Escalations
from .insights import FileUploads, InsightsView
from .long_running import LongRunning
from .out_of_office import OutOfOffice
from .outbox_admin import OutboxAdmin
from .outbox_steps import follow_ups
from .personal_settings import PersonalSettings
from .read_views import ReadViews
from .router import HELP, Router
from .team_membership import TeamMembership
from .transfers import CardActions, TypedAnswers


class Store(follow_ups.Store, AuditLog, InsightsReader, HandoffFinder, Protocol):
    """All the storage the use cases need (one SqlStore provides it)."""


@dataclass(frozen=True)
class UseCases:
    router: Router
    card_actions: CardActions
    typed_answers: TypedAnswers
    escalations: Escalations
    access: RequestAccess
    membership: TeamMembership
    service: HandoffService
    schedule: Schedule
    insights: InsightsView
    case_search: CaseSearch
    hand_off: HandOffMessage


def build_service(store: Store, process: ProcessConfig, clock: Clock) -> HandoffService:
    return HandoffService(
        store,
        clock,
        stay_interval=timedelta(minutes=process.reminders.stay_interval_minutes),
        smes=process.sme_people(),
        commitment_notice=process.reminders.commitment_notice,
    )


def build_use_cases(
    store: Store,
    process: ProcessConfig,
    clock: Clock,
    wake_outbox: Callable[[], None] = lambda: None,
    graph: GraphClient | None = None,
    admin_ids: Sequence[str] = (),
    group_chats_missing: Sequence[str] = (),
    uploads: FileUploads | None = None,
) -> UseCases:
    service = build_service(store, process, clock)
    schedule = process.schedule()
    is_lead = listed(process.lead_ids())
    is_admin = listed([*process.lead_ids(), *admin_ids])
    queue = Queue(process.queue.address, process.queue.subject_prefix)
    groups = process.case_transfer.allowed_groups
    policy = AccessPolicy(
        is_lead,
        case_transfer_team(store, process.case_transfer.team_id, process.case_transfer.channel_id),
        # Leads listed without a teams_id still mean "leads decide", though none can act yet.
        leads_configured=bool(process.leads),
        allowed_teams=process.case_transfer.allowed_teams,
        # create_app refuses to start with groups but no Graph (check_groups_have_graph).
        in_allowed_groups=(
            GroupMembership(graph, groups, clock).in_any if groups and graph is not None else None
        ),
    )
    access = RequestAccess(policy, store)
    case_url_template = process.case_system.url_template
    views = ReadViews(store, store, schedule, clock, access, case_url_template)
    long_running = LongRunning(
        store,
        schedule,
        clock,
        service=service,
        queue=queue,
        access=access,
        wake_outbox=wake_outbox,
        graph=graph,
        group_chats_missing=group_chats_missing,
    )
    escalations = Escalations(
        store,
        clock,
        process.lead_people(),
        is_lead,
        wake_outbox,
        service,
        access,
        case_url_template,
    )
    oof = OutOfOffice(
        store,
        service,
        clock,
        queue=queue,
        leads=process.lead_people(),
        phone_numbers=process.phone_numbers,
    )
    insights = InsightsView(store, schedule, clock, access, process.insights.targets(), uploads)
    router = Router(
        commands={
            "status": views.status,
            "list": views.list_open,
            "mine": views.mine,
            "agenda": views.agenda,
            "shifts": views.shifts,
            "insights": insights.insights,
            "settings": PersonalSettings(store, schedule, clock, is_lead).settings,
            "setup": ChannelBinding(store, clock, access, wake_outbox).setup,
            "escalate": escalations.escalate,
            "longrunning": long_running.long_running,
            "shiftend": long_running.shift_end,
            "oof": oof.oof,
            "outbox": OutboxAdmin(store, is_admin, wake_outbox).outbox,
            "audit": AuditTrail(store, is_admin).audit,
            "help": HELP,
        },
        forms={OOF_FORM: oof.submitted, CHAT_OWNERS: long_running.chat_owners_submitted},
    )
    card_actions = CardActions(
        service, store, policy, clock, case_url_template, process.case_transfer.language
    )

    return UseCases(
        router=router,
        card_actions=card_actions,
        typed_answers=TypedAnswers(store, card_actions),
        escalations=escalations,
        access=access,
        membership=TeamMembership(clock),
        service=service,
        schedule=schedule,
        insights=insights,
        case_search=CaseSearch(store, access, clock, case_url_template),
        hand_off=HandOffMessage(store, access, clock, wake_outbox, case_url_template),
    )
