"""Puts the web console together (accounts store, auth, pages, live hub, the
inbox, tasks and people routers) and onto the app; `close()` undoes it."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import FastAPI

from bot.agents_queue import HandoffRules
from bot.api.console import Console, console_router
from bot.api.console_admin import admin_router
from bot.api.console_auth import ConsoleAuth
from bot.api.console_pages import Pages
from bot.api.dashboard import dashboard_router
from bot.live import LiveHub
from bot.live_relay import RedisRelay
from bot.rendering import Renderer
from bot.storage.console_store import ConsoleStore, open_console_store
from bot.storage.redis import RedisStore

if TYPE_CHECKING:
    from bot.app import Services


class ConsoleParts:
    def __init__(self, store: ConsoleStore, auth: ConsoleAuth, pages: Pages, hub: LiveHub, console: Console) -> None:
        self.store, self.auth, self.pages, self.hub, self.console = store, auth, pages, hub, console

    async def close(self, services: Services) -> None:
        if self.hub.on_commit in services.runtime.on_commit:
            services.runtime.on_commit.remove(self.hub.on_commit)
        await self.hub.close()
        await self.store.close()


async def mount_console(app: FastAPI, services: Services, api_token: str) -> ConsoleParts:
    settings, runtime = services.settings, services.runtime
    store = await open_console_store(settings.store_url)
    await store.ping()
    lifetime = timedelta(hours=settings.console_session_hours)
    auth = ConsoleAuth(store, api_token, runtime.clock, lifetime, https=settings.base_url.startswith("https://"))
    rules = HandoffRules.from_policy(services.policy)
    pages = Pages(settings.templates, rules.hours.tz)
    # several processes on one Redis: a page learns of every process's commits
    hub = LiveHub(RedisRelay(settings.store_url) if isinstance(services.store, RedisStore) else None)
    runtime.on_commit.append(hub.on_commit)
    console = Console(runtime, auth, pages, rules, Renderer(settings.templates), hub)
    app.include_router(auth.router(pages))
    app.include_router(console_router(console))
    app.include_router(admin_router(runtime, auth, pages))
    app.include_router(dashboard_router(runtime, auth, pages, rules.hours.tz))
    return ConsoleParts(store, auth, pages, hub, console)
