"""The composition root: builds store, engine, runtime, channels, sender and
scheduler from settings, and the FastAPI app around them. Nothing runs at
import time."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from bot.api.body_limits import BodyLimits
from bot.api.chat import WebChat, chat_router
from bot.api.chat_feed import feed_router
from bot.api.chat_upload import upload_router
from bot.api.console_setup import mount_console
from bot.api.events import event_router
from bot.api.link_requests import link_request_router
from bot.api.operations import mount_operations
from bot.api.surface import harden
from bot.channels.webchat import ChatHub, WebChatChannel
from bot.cluster import Cluster, process_name
from bot.config import Settings
from bot.media import MediaFiles, UploadRules
from bot.ratelimit import ChannelLimits, LocalLimits
from bot.rendering import Renderer
from bot.runtime import Runtime
from bot.secrets_file import private_token
from bot.sender import Sender
from bot.storage import open_store
from bot.storage.redis import RedisStore
from bot.storage.sqlite_lock import hold_single_process, release_single_process
from bot.tuning import tune_gc
from dialogs.catalog import all_dialogs
from dialogs.engine import DialogEngine
from dialogs.intent_model import SECOND_OPINION
from dialogs.policy import Policy, load_policy
from dialogs.ports import Channel, Clock, Store, SystemClock
from scheduler.runtime import FollowUpScheduler

if TYPE_CHECKING:
    from bot.channels.telegram import TelegramDoor

log = logging.getLogger("buyerbot")
#: builds the Telegram door around the runtime (bot/integrations: a store's own bot's)
TelegramDoorFactory = Callable[[Runtime], "TelegramDoor"]


def channel_limits(policy: Policy, name: str) -> ChannelLimits:
    section: dict[str, Any] = policy.raw.get("limits", {}).get(name, {})
    defaults = {
        "webchat": (1000.0, 1000.0, 1000.0),
        "telegram": (30.0, 1.0, 3.0),
        "whatsapp": (80.0, 1 / 6, 2.0),
    }
    rate, per_chat, burst = defaults.get(name, (30.0, 1.0, 3.0))
    per_group = section.get("per_group_rate", 20 / 60 if name == "telegram" else None)
    return ChannelLimits(
        rate=float(section.get("rate", rate)),
        per_chat_rate=float(section.get("per_chat_rate", per_chat)),
        per_chat_burst=float(section.get("per_chat_burst", burst)),
        per_group_rate=float(per_group) if per_group is not None else None,
    )


@dataclass
class Services:
    settings: Settings
    policy: Policy
    store: Store
    runtime: Runtime
    sender: Sender
    scheduler: FollowUpScheduler
    channels: dict[str, Channel]
    cluster: Cluster
    hub: ChatHub = field(default_factory=ChatHub)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extras: list[Any] = field(default_factory=list)

    async def close(self) -> None:
        await self.cluster.stop()  # a standby takes over at once
        self.scheduler.shutdown()
        for extra in reversed(self.extras):
            await extra.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.sender.close()
        await self.runtime.close()
        await self.store.close()
        if self.settings.store_url.startswith("sqlite:///"):
            release_single_process(self.settings.store_url[len("sqlite:///") :])


async def start_services(
    settings: Settings,
    policy: Policy | None = None,
    clock: Clock | None = None,
    *,
    telegram_door: TelegramDoorFactory | None = None,
) -> Services:
    """Everything `buyerbot run` runs, started; `Services.close` stops it
    all. `telegram_door` replaces the door that polls with
    BUYERBOT_TELEGRAM_TOKEN (BuyerBot inside a store's bot). On SQLite this
    process must be the only one on the file (else `AlreadyRunning`)."""
    policy = policy or load_policy(settings.policy)
    clock = clock or SystemClock()
    if settings.store_url.startswith("sqlite:///"):
        hold_single_process(settings.store_url[len("sqlite:///") :])
    # the intent model loads in the background: the first buyer's message must not wait for it
    # (after the single-process check: a second process on the file loads nothing)
    SECOND_OPINION.configure(settings.intent_model)
    threading.Thread(target=SECOND_OPINION.available, name="intent-model-load", daemon=True).start()
    store = await open_store(settings.store_url)
    await store.ping()
    if isinstance(store, RedisStore):
        store.owner = process_name(settings.http_port)
    runtime = Runtime(store, DialogEngine(all_dialogs(), policy, clock), clock)
    hub = ChatHub()
    runtime.on_commit.append(hub.on_commit)
    channels: dict[str, Channel] = {"webchat": WebChatChannel(hub)}
    extras: list[Any] = []
    poller: Any = None
    if telegram_door is not None or settings.telegram_token:
        from bot.channels.telegram import TelegramDoor

        door = telegram_door(runtime) if telegram_door is not None else TelegramDoor(settings, runtime)
        # the door that polls Telegram itself (an embedded door polls nothing: its host does)
        poller = door if telegram_door is None and not door.webhook else None
        channels["telegram"] = door.channel
        extras.append(door)
        if settings.agent_chat_id:
            from bot.channels.agents import AgentDesk

            desk = AgentDesk(settings, runtime, policy, door.bot)
            door.intake.group_handler = desk.on_group_update
            extras.append(desk)  # after the door: started after it, stopped before its Bot closes
    if settings.whatsapp_enabled:
        from bot.channels.whatsapp import WhatsAppDoor

        wa_door = WhatsAppDoor(settings, runtime, policy)
        channels["whatsapp"] = wa_door.channel
        extras.append(wa_door)
    renderer = Renderer(settings.templates)
    per_channel = {name: channel_limits(policy, name) for name in channels}
    limits = store.shared_limits(per_channel) if isinstance(store, RedisStore) else LocalLimits(per_channel)
    sender = Sender(store, channels, renderer, limits, clock, on_unreachable=runtime.mark_unreachable)
    runtime.sender = sender
    scheduler = FollowUpScheduler(asyncio.get_running_loop(), runtime.fire_timer)
    runtime.timer_sink = scheduler.apply
    cluster = Cluster(store, runtime, sender, scheduler, clock)
    if poller is not None and isinstance(store, RedisStore):  # one poller among several processes: the leader
        poller.poll_when_leading = True
        cluster.on_lead.append(poller.lead)
        cluster.on_stand_by.append(poller.stand_by)
    services = Services(settings, policy, store, runtime, sender, scheduler, channels, cluster, hub, extras=extras)
    services.tasks.append(asyncio.create_task(sender.run(), name="sender"))
    scheduler.start(())
    for extra in extras:
        await extra.start()
    await cluster.start()  # presence, then the lease: follow-ups from the store when leading
    await runtime.start()
    await sender.recover()
    cluster.start_sweeping()
    tune_gc()  # everything is loaded: freeze it, so GC passes stop rescanning it
    return services


def api_token(settings: Settings) -> str:
    """The configured token, or one generated once and kept under var/."""
    if settings.api_token:
        return settings.api_token
    return private_token(Path("var/api_token"))


KIB = 1024
MIB = 1024 * KIB
#: seconds a buyer's upload may take to arrive (a phone on a slow network)
UPLOAD_SECONDS = 600.0


def body_limits(settings: Settings) -> BodyLimits:
    """Every route's request-body limit in one place (README, Security); a
    route not named here gets BUYERBOT_MAX_BODY_BYTES. Checked before parsing."""
    limits = BodyLimits(settings.max_body_bytes, settings.http_body_timeout)
    limits.declare("/api/v1/events", settings.max_event_bytes)
    limits.declare("/chat/api/", 32 * KIB, prefix=True)
    limits.declare("/api/v1/conversations/", 32 * KIB, prefix=True)
    limits.declare("/console/", 32 * KIB, prefix=True)
    limits.declare("/login", 8 * KIB)
    limits.declare("/telegram/webhook", MIB)
    limits.declare("/whatsapp/webhook", MIB)
    return limits


def create_app(
    settings: Settings, policy: Policy | None = None, clock: Clock | None = None, *, running: Services | None = None
) -> FastAPI:
    """The HTTP surface; its lifespan starts and stops the services, or
    serves `running` ones that their owner stops (BuyerBot inside a store's bot)."""
    holder: dict[str, Services] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = running if running is not None else await start_services(settings, policy, clock)
        holder["services"] = services
        app.state.services = services
        app.include_router(event_router(services.runtime, api_token(settings), settings.max_event_bytes))
        files = MediaFiles(settings.media_root)
        files.prepare()
        store_name = str(services.policy.raw.get("store", {}).get("name", ""))
        rules = UploadRules.from_policy(services.policy.raw)
        chat = WebChat(services.runtime, settings.templates, services.hub, files, rules, store_name)
        # an upload is the one large body a buyer sends: the policy's largest file, minutes to arrive
        app.state.body_limits.declare("/chat/api/upload", rules.largest, read_timeout=UPLOAD_SECONDS)
        app.include_router(chat_router(chat))
        app.include_router(feed_router(chat))
        app.include_router(link_request_router(services.runtime, api_token(settings)))
        console = await mount_console(app, services, api_token(settings))
        app.include_router(upload_router(chat, files, console.auth.api()))
        operations = mount_operations(app, services, api_token(settings))
        for extra in services.extras:
            router = getattr(extra, "router", None)
            if router is not None:
                app.include_router(router)
        app.openapi_schema = None
        log.info("BuyerBot ready on %s (web chat at %s/chat)", settings.base_url, settings.base_url)
        try:
            yield
        finally:
            await operations.close()
            await console.close(services)
            if running is None:
                await services.close()

    app = FastAPI(title="BuyerBot", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    harden(app, settings, body_limits(settings))

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, Any]:
        services = holder.get("services")
        if services is None:
            return {"ok": False, "pending_follow_ups": 0, "scheduler": "standby"}
        try:
            pending: int | None = await services.store.count_timers()
        except Exception:  # the store is down: say so, without a 500
            pending = None
        return {"ok": pending is not None, "pending_follow_ups": pending, "scheduler": services.cluster.role}

    return app
