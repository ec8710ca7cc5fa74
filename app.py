"""The handoff bot's web application: the only place where the parts are wired together."""

from __future__ import annotations

import gc

if __name__ == "__main__":
    # Start-up makes ~110,000 objects that live as long as the process, and next to no
    # garbage: the collector's passes over them while importing were ~80 ms of the start
    # (docs/performance.md). Enabled again once they are frozen (main, mark_started).
    gc.disable()

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import uvloop
from aiohttp import web
from botbuilder.core import BotAdapter, ConversationState, Middleware
from botbuilder.integration.aiohttp import CloudAdapter

from application.assembly import build_use_cases
from application.compose.hand_off import OpenHandoffStep
from application.outbox_steps.approval_cards import ApprovalCardHandlers
from application.outbox_steps.commitments import CommitmentReminders
from application.outbox_steps.dead_letters import DeadLetterReports
from application.outbox_steps.digest import DigestHandlers
from application.outbox_steps.follow_ups import EffectHandlers, StayPolicy
from application.outbox_steps.group_chats import GroupChatHandlers
from application.outbox_steps.reminders import ReminderHandlers
from application.outbox_steps.retention import RUN_BUDGET, RetentionHandlers, RetentionPolicy
from application.outbox_steps.undelivered import UndeliveredReports, chain
from config.process import ConfigError, ProcessConfig, check_groups_have_graph, load_process_config
from config.settings import ANY_TENANT, Settings, SettingsError, load_settings
from dialogs.form_flow import dialog_set
from dialogs.handoff_dialog import handoff_dialog
from dialogs.handoff_draft import HandoffDeps
from graph.client import GraphClient
from graph.managed_identity import GRAPH_RESOURCE, ManagedIdentityTokens
from graph.token_provider import CachedTokens, TokenProvider
from handoff import effects
from handoff.access import listed
from handoff.effects import OutboxKind
from handoff.models import Person
from handoff.ports import Clock, OutboxItem, SystemClock
from outbox.fault_log import FaultLog
from outbox.landed_sends import LandedSends
from outbox.worker import OutboxWorker, RetryPolicy
from storage.bot_state import SqlBotStorage
from storage.errors import StorageUnavailable
from storage.migrate import migrate_only
from storage.sql_store import SqlStore, open_store
from teams.allocator import keep_large_blocks_apart
from teams.compose_handlers import BeginHandoff, ComposeHandlers, HandoffStarter
from teams.connector_auth import build_connector_http, create_adapter
from teams.deliveries import Deliveries
from teams.endpoint import (
    ADAPTER,
    BOT,
    GRAPH_SESSION,
    MAX_BODY_BYTES,
    REQUEST_DEADLINE,
    STORE,
    MessagesEndpoint,
    healthz,
    readyz,
)
from teams.file_uploads import HttpFileUploads
from teams.handlers import HandoffBot
from teams.metrics import METRICS, METRICS_PATH, Metrics, served_apart
from teams.middleware import (
    AddressedOnly,
    ConversationMemory,
    DeliveredOnce,
    DialogStateAhead,
    ReplyPacing,
    SpokenLanguage,
    TenantGuard,
)
from teams.pacing import ConversationPacer
from teams.sending import OutboxSender
from teams.server_log import configure_logging, handler_args
from teams.signing_keys import SigningKeys

log = logging.getLogger("handoff.app")

SHUTDOWN_GRACE_SECONDS = 2.0
# The conversation state's property that holds the dialogs in progress.
DIALOG_STATE = "DialogState"


@dataclass(frozen=True)
class TurnPipeline:
    """The bot's handlers and the middleware every turn goes through before them."""

    bot: HandoffBot
    middleware: tuple[Middleware, ...]

    def attach(self, adapter: BotAdapter) -> None:
        for step in self.middleware:
            adapter.use(step)


def build_bot(
    store: SqlStore,
    process: ProcessConfig,
    clock: Clock,
    wake_outbox: Callable[[], None] = lambda: None,
    graph: GraphClient | None = None,
    admin_ids: Sequence[str] = (),
    tenant_id: str = "",
    *,
    delivery_abandoned_after: timedelta,
    group_chats_missing: Sequence[str] = (),
    uploads: HttpFileUploads | None = None,
) -> TurnPipeline:
    """The bot's handlers over the use cases and the handoff dialog, with dialog state on the
    same database as the handoffs; and the middleware of its turns."""
    use_cases = build_use_cases(
        store, process, clock, wake_outbox, graph, admin_ids, group_chats_missing, uploads
    )
    bot_storage = SqlBotStorage(store.database, clock)
    conversation_state = ConversationState(bot_storage)
    dialog_state = DialogStateAhead(conversation_state, bot_storage, DIALOG_STATE)
    deps = HandoffDeps(
        repository=store,
        service=use_cases.service,
        process=process,
        schedule=use_cases.schedule,
        clock=clock,
        audit_log=store,
    )
    dialogs = dialog_set(conversation_state.create_property(DIALOG_STATE), handoff_dialog(deps))

    async def group_chat_joined(chat_id: str) -> None:
        """Teams added the bot to a chat: if it is a long-running case's, post its summary."""
        chat = await store.group_chat_by_id(chat_id)
        if chat is not None:
            step = effects.group_chat_step(
                OutboxKind.POST_CHAT_SUMMARY, chat.case_number, clock.now()
            )
            await store.enqueue_message(step)

    bot = HandoffBot(
        router=use_cases.router,
        card_actions=use_cases.card_actions,
        typed_answers=use_cases.typed_answers,
        escalations=use_cases.escalations,
        access=use_cases.access,
        membership=use_cases.membership,
        file_consent=use_cases.insights.consent,
        repository=store,
        user_settings=store,
        conversation_state=conversation_state,
        dialog_state=dialog_state,
        dialogs=dialogs,
        compose=ComposeHandlers(use_cases.case_search, use_cases.hand_off, use_cases.membership),
    )
    middleware: tuple[Middleware, ...] = (
        # First: chatter is dropped before anything answers or logs it, even a refusal.
        AddressedOnly(),
        TenantGuard(tenant_id),
        DeliveredOnce(
            Deliveries(store, clock, delivery_abandoned_after),
            dialog_state,
            wake_outbox,
        ),
        ConversationMemory(store, clock, group_chat_joined),
        SpokenLanguage(store, process.case_transfer.language),
    )
    return TurnPipeline(bot, middleware)


def build_graph(
    settings: Settings,
    session: aiohttp.ClientSession,
    on_answer: Callable[[int | None], None] = lambda _status: None,
    seconds: Callable[[], float] = time.monotonic,
) -> GraphClient | None:
    """Graph with a client secret's tokens, or the managed identity's; None without either."""
    credentials, identity = settings.graph_credentials, settings.graph_managed_identity
    tokens: CachedTokens
    if identity is not None:
        tokens = ManagedIdentityTokens(identity, GRAPH_RESOURCE, seconds=seconds)
    elif credentials is not None:
        client_id, secret, authority = credentials
        # Instance discovery asks Microsoft's cloud about the authority; a private one
        # (tests, sovereign clouds) answers for itself.
        discover = settings.graph_authority_host == "https://login.microsoftonline.com"
        tokens = TokenProvider(
            client_id, secret, authority, instance_discovery=discover, seconds=seconds
        )
    else:
        return None
    return GraphClient(settings.graph_base_url, tokens, session, on_answer=on_answer)


def build_worker(
    store: SqlStore,
    process: ProcessConfig,
    clock: Clock,
    adapter: CloudAdapter,
    settings: Settings,
    open_handoff: BeginHandoff,
    graph: GraphClient | None = None,
    pacer: ConversationPacer | None = None,
    faults: FaultLog | None = None,
    died: Callable[[OutboxItem], None] = lambda _item: None,
) -> OutboxWorker:
    sender = OutboxSender(adapter, settings.app_id, pacer or ConversationPacer())
    links, team_language = process.case_system.url_template, process.case_transfer.language
    if graph is not None:
        sender.look_for_landed_sends(
            LandedSends(
                graph,
                store,
                sender.team_group_id,
                bot_app_id=settings.app_id,
                teams_app_id=settings.teams_app_id,
            )
        )
    app_id, schedule = settings.teams_app_id, process.schedule()
    chats = GroupChatHandlers(store, graph, sender, clock, app_id, schedule, links, team_language)
    handlers = EffectHandlers(
        store,
        sender,
        clock,
        configured_channel=process.case_transfer.channel_id,
        stay=StayPolicy(
            interval=timedelta(minutes=process.reminders.stay_interval_minutes),
            tell_smes_after=timedelta(minutes=process.reminders.tell_smes_after_minutes),
        ),
        smes=process.sme_people(),
        leads=process.lead_people(),
        case_url_template=links,
        team_language=team_language,
    )
    digest = DigestHandlers(store, sender, clock, process)
    reminders = ReminderHandlers(
        store,
        sender,
        clock,
        schedule,
        configured_channel=process.case_transfer.channel_id,
        also_plan=(digest.plan,),
        team_language=team_language,
    )
    approval_cards = ApprovalCardHandlers(store, sender, process.lead_people(), clock, links)
    commitments = CommitmentReminders(store, sender, clock, schedule)
    opened = OpenHandoffStep(store, HandoffStarter(sender, open_handoff))
    # A report of messages that reached nobody looks again after a few polls of the outbox.
    recheck = timedelta(seconds=settings.outbox_poll_seconds * 4)
    undelivered = UndeliveredReports(store, sender, clock, recheck=recheck)
    is_lead = listed(process.lead_ids())
    admins = [*process.lead_people()]
    admins += [Person(id=i) for i in settings.admin_ids if not is_lead(Person(id=i))]
    dead_letters = DeadLetterReports(store, sender, clock, admins)
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    retention = RetentionHandlers(
        store,
        clock,
        RetentionPolicy(settings.retention_days, settings.audit_retention_days),
        # A run hands over to its next part well before another replica could take it up.
        budget=min(RUN_BUDGET, lease / 4),
    )
    parts = [handlers.table(), chats.table(), reminders.table(), digest.table(), opened.table()]
    parts += [commitments.table(), approval_cards.table(), undelivered.table()]
    parts += [dead_letters.table(), retention.table()]
    tables = {kind: handler for part in parts for kind, handler in part.items()}
    unhandled = set(OutboxKind) - set(tables)
    if unhandled:
        # A kind nobody handles would only be found as dead letters, at night.
        raise ValueError(f"outbox kinds without a handler: {sorted(unhandled)}")
    return OutboxWorker(
        store,
        tables,
        clock,
        on_start=(reminders.start, retention.start),
        on_dead=chain(approval_cards.on_dead(), undelivered.on_dead(), dead_letters.on_dead()),
        lease=lease,
        idle_seconds=settings.outbox_poll_seconds,
        retry=RetryPolicy(
            max_attempts=settings.outbox_max_attempts,
            base_seconds=settings.outbox_backoff_seconds,
            cap_seconds=settings.outbox_backoff_cap_seconds,
        ),
        faults=faults,
        died=died,
    )


def create_app(settings: Settings, clock: Clock | None = None) -> web.Application:
    """The aiohttp application; storage opens when it starts and closes when it stops."""
    process = load_process_config(settings.handoff_config)
    check_groups_have_graph(settings, process)
    # An injected clock (tests) also renews tokens and measures the signing keys' refetch.
    injected = clock
    clock = clock or SystemClock()
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        # A request aiohttp cannot parse: one warning. An access log only with ACCESS_LOG.
        handler_args=handler_args(settings.access_log),
    )
    metrics = app[METRICS] = Metrics(process.region_codes)
    seconds = (lambda: injected.now().timestamp()) if injected else time.monotonic
    connector_http = build_connector_http(settings, metrics.connector_answered, seconds=seconds)
    uploads = HttpFileUploads(settings.file_upload_host_list)
    # One per process, for the turns and the outbox: both fail on the same outage.
    faults = FaultLog(clock)
    adapter = create_adapter(settings, connector_http, faults, seconds=seconds)
    # One pacer for the outbox's sends and the turns' replies: Teams counts both alike.
    pacer = ConversationPacer()
    adapter.use(ReplyPacing(pacer))
    app[ADAPTER] = adapter
    app[REQUEST_DEADLINE] = settings.request_deadline_seconds

    # One start-up/clean-up context per resource, cleaned up in the reverse order: the
    # outbox stops before the Graph session, the database and the connector it uses close.
    if not settings.local_mode:
        # /metrics never on the public port: on METRICS_PORT. First, so that a port taken
        # stops start-up before anything opens: aiohttp cleans up no context when a later
        # one fails to start, and an open database would keep the process from exiting.
        app.cleanup_ctx.append(
            served_apart(
                metrics, lambda: app.get(STORE), settings.listen_host, settings.metrics_port
            )
        )
        signing_keys = SigningKeys(
            settings.openid_metadata_url,
            refresh_seconds=settings.signing_keys_refresh_seconds,
            refetch_seconds=settings.signing_keys_refetch_seconds,
            seconds=seconds,
        )

        async def signing_keys_context(_app: web.Application) -> AsyncIterator[None]:
            # First, so that the keys are on their way while the database opens.
            await signing_keys.start()
            yield
            await signing_keys.close()

        app.cleanup_ctx.append(signing_keys_context)

    async def store_context(app: web.Application) -> AsyncIterator[None]:
        store = await open_store(
            settings.database_url, clock, timeout_seconds=settings.database_timeout_seconds
        )
        app[STORE] = store
        log.info("storage ready", extra={"backend": store.database.dialect})
        yield
        await store.close()

    async def connector_context(_app: web.Application) -> AsyncIterator[None]:
        await connector_http.start()
        yield
        await uploads.close()  # opened by the first file sent (insights export)
        await connector_http.close()

    async def graph_context(app: web.Application) -> AsyncIterator[None]:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app[GRAPH_SESSION] = session
        yield
        await session.close()

    async def bot_context(app: web.Application) -> AsyncIterator[None]:
        store = app[STORE]
        graph = build_graph(settings, app[GRAPH_SESSION], metrics.graph_answered, seconds)
        # The bot first: the outbox begins handoff dialogs through it; it wakes the worker.
        pipeline = build_bot(
            store,
            process,
            clock,
            lambda: worker.wake(),
            graph,
            settings.admin_ids,
            tenant_id=settings.allowed_tenant,
            delivery_abandoned_after=settings.delivery_abandoned_after,
            group_chats_missing=settings.group_chats_missing,
            uploads=uploads,
        )
        bot, died = pipeline.bot, metrics.dead_letter
        worker = build_worker(
            store, process, clock, adapter, settings, bot.open_handoff, graph, pacer, faults, died
        )
        pipeline.attach(adapter)
        app[BOT] = bot
        stop = asyncio.Event()
        draining = asyncio.create_task(worker.run(stop))
        yield
        stop.set()
        try:
            # A send in flight gets a moment to finish; an unfinished item keeps its lease
            # and is taken up again after a restart, so stopping never loses work.
            await asyncio.wait_for(draining, SHUTDOWN_GRACE_SECONDS)
        except TimeoutError:
            log.warning("outbox worker stopped mid-send; its item is retried after restart")
        else:
            # The line an operator looks for after SIGTERM (a redeploy, a scale-in).
            log.info("outbox worker stopped", extra={"grace_seconds": SHUTDOWN_GRACE_SECONDS})

    app.cleanup_ctx.extend([store_context, connector_context, graph_context, bot_context])
    endpoint = MessagesEndpoint(authenticated=not settings.local_mode)
    app.router.add_post("/api/messages", metrics.timed(endpoint))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if settings.local_mode:
        app.router.add_get(METRICS_PATH, metrics.handler(lambda: app.get(STORE)))
    if settings.tenant_id == ANY_TENANT:
        log.warning(
            "TENANT_ID=*: activities from every Azure AD tenant are served. Set TENANT_ID to "
            "your organization's tenant unless other organizations use this bot on purpose."
        )
    elif not settings.allowed_tenant:
        log.warning(
            "TENANT_ID and MicrosoftAppTenantId are not set: activities from any Azure AD "
            "tenant are served. Set TENANT_ID to your organization's tenant."
        )
    if settings.local_mode:
        log.warning(
            "LOCAL MODE: MicrosoftAppId is not set, so requests to /api/messages are NOT "
            "authenticated. Set MicrosoftAppId and MicrosoftAppPassword before exposing the bot."
        )
    return app


USAGE = "usage: python app.py [migrate]  (no argument: serve the bot on PORT)"


def main(argv: Sequence[str] = ()) -> int:
    configure_logging("INFO")
    keep_large_blocks_apart()
    if list(argv) not in ([], ["migrate"]):
        log.error("cannot start: %s", USAGE, extra={"error": USAGE})
        return 2
    # A ValueError while starting is a setting or file that validation let through; whoever
    # starts the bot needs its message on one line, not a traceback.
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        if argv:
            gc.enable()
            asyncio.run(migrate_only(settings.database_url, settings.database_timeout_seconds))
            return 0
        app = create_app(settings)
    except (SettingsError, ConfigError, ValueError) as error:
        log.error("cannot start: %s", error, extra={"error": str(error)})
        return 2
    except StorageUnavailable as error:
        log.error("cannot migrate: %s", error, extra={"error": str(error)})
        return 1
    started = False

    async def mark_started(_app: web.Application) -> None:
        nonlocal started
        started = True
        # Start-up's ~110,000 objects live as long as the process: frozen out of the
        # collector's passes, a full one takes ~1 ms, not ~60 ms in the middle of turns.
        gc.freeze()
        gc.enable()

    # Runs after the storage context has opened the database (on_startup handlers run in
    # order, and the cleanup contexts' is the first), so only errors while starting count.
    app.on_startup.append(mark_started)
    log.info(
        "serving the bot",
        extra={"url": f"http://{settings.listen_host}:{settings.port}/api/messages"},
    )
    try:
        # uvloop: 20% more turns a second on one CPU, and less memory under load (bench).
        loop = uvloop.new_event_loop()
        web.run_app(app, host=settings.listen_host, port=settings.port, print=None, loop=loop)
    except StorageUnavailable as error:
        log.error("cannot start: %s", error, extra={"error": str(error)})
        return 1
    except ValueError as error:
        # E.g. storage refusing DATABASE_URL as it opens the database. Once running, a
        # ValueError is a bug and keeps its traceback.
        if started:
            raise
        log.error("cannot start: %s", error, extra={"error": str(error)})
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
