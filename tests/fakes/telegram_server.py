"""aiohttp transport of the fake Telegram Bot API: HTTP routes, long polling and webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from tests.fakes.telegram_models import ApiError, UploadedFile
from tests.fakes.telegram_state import Pending, PollTicket

if TYPE_CHECKING:
    from tests.fakes.telegram_api import FakeTelegram

log = logging.getLogger(__name__)
CONTROL_ACTIONS = frozenset(
    [
        "user_sends",
        "user_sends_photo",
        "user_sends_video",
        "user_sends_document",
        "user_presses",
        "redeliver",
        "block_chat",
        "unblock_chat",
        "fail_next",
        "add_latency",
        "set_rate_limits",
        "create_topic",
        "clear_records",
    ]
)


class FakeTelegramServer:
    def __init__(self, fake: FakeTelegram, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self.host = host
        self.port = port
        self._waiters: set[asyncio.Event] = set()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._retry_delay = 0.0
        self._retry_at = 0.0

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> int:
        self._loop = asyncio.get_running_loop()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method:[^/]*}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/_fake/{action}", self._handle_control)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.fake._wake = self._wake_threadsafe
        self._webhook_task = asyncio.create_task(self._webhook_loop())
        return self.port

    async def stop(self) -> None:
        self._stopping.set()
        self.fake._wake = None
        self._wake_all()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._runner is not None:
            await self._runner.cleanup()

    def _wake_threadsafe(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for ev in list(self._waiters):
            ev.set()

    async def _wait_change(self, ev: asyncio.Event, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await ev.wait()

    # ----------------------------------------------------------------- Bot API
    async def _parse(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: invalid JSON body")
            params.update(body)
            return params, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(value.filename, value.file.read(), value.content_type)
            else:
                params[key] = value
        return params, files

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.fake.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        method = request.match_info["method"]
        try:
            params, files = await self._parse(request)
            delay = self.fake.latency_for(method)
            if delay > 0:
                await asyncio.sleep(delay)
            result = self.fake.call(method, params, files)
            if isinstance(result, PollTicket):
                result = await self._long_poll(result)
        except ApiError as e:
            return web.json_response(e.body(), status=e.status)
        except ValueError as e:
            return web.json_response(ApiError(400, f"Bad Request: {e}").body(), status=400)
        except Exception as e:  # a bug in the fake: keep it visible (fake.internal_errors) and answer like Telegram
            log.exception("fake Telegram failed on %s", method)
            self.fake.internal_errors.append(f"{method}: {type(e).__name__}: {e}")
            return web.json_response(ApiError(500, "Internal Server Error").body(), status=500)
        return web.json_response({"ok": True, "result": result})

    async def _long_poll(self, ticket: PollTicket) -> list[dict[str, Any]]:
        assert self._loop is not None
        deadline = self._loop.time() + ticket.timeout
        while True:
            ev = asyncio.Event()
            self._waiters.add(ev)
            try:
                updates = self.fake.poll_take(ticket)
                remaining = deadline - self._loop.time()
                if updates or remaining <= 0 or self._stopping.is_set():
                    return updates
                await self._wait_change(ev, remaining)
            finally:
                self._waiters.discard(ev)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.fake.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        content = self.fake.file_content(request.match_info["path"])
        if content is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        return web.Response(body=content, content_type="application/octet-stream")

    async def _handle_control(self, request: web.Request) -> web.Response:
        """Driving API over HTTP for standalone use: POST /_fake/user_sends {json kwargs}, GET /_fake/sent."""
        action = request.match_info["action"]
        if action == "sent":
            chat = request.query.get("chat_id")
            rows = self.fake.messages_to(int(chat)) if chat else self.fake.sent_messages()
            return web.json_response([dataclasses.asdict(m) for m in rows])
        if action == "stats":
            return web.json_response(self.fake.stats())
        if action not in CONTROL_ACTIONS:
            return web.json_response({"ok": False, "description": "unknown action"}, status=404)
        kwargs = await request.json() if request.can_read_body else {}
        try:
            result = getattr(self.fake, action)(**kwargs)
        except (TypeError, ValueError, KeyError, ApiError) as e:
            return web.json_response({"ok": False, "description": str(e)}, status=400)
        return web.json_response({"ok": True, "result": result})

    # ----------------------------------------------------------------- webhook
    async def _webhook_loop(self) -> None:
        """Up to max_connections POSTs at once (1 by default in the fake); after a failed
        one, no new POST until the backoff (doubling up to webhook_retry_max) has passed."""
        assert self._loop is not None
        self._retry_delay = self.fake.webhook_retry_initial
        self._retry_at = 0.0
        posts: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            try:
                while not self._stopping.is_set():
                    ev = asyncio.Event()
                    self._waiters.add(ev)
                    try:
                        pause = self._retry_at - self._loop.time()
                        target = self.fake.webhook_next() if pause <= 0 else None
                        if target is None:
                            await self._wait_change(ev, pause if pause > 0 else None)
                            continue
                    finally:
                        self._waiters.discard(ev)
                    post = asyncio.create_task(self._deliver(session, *target))
                    posts.add(post)
                    post.add_done_callback(posts.discard)
            finally:
                for post in list(posts):
                    post.cancel()
                await asyncio.gather(*posts, return_exceptions=True)

    async def _deliver(self, session: aiohttp.ClientSession, entry: Pending, url: str, secret: str | None) -> None:
        assert self._loop is not None
        status, error = await self._post_update(session, url, secret, entry.update)
        if self.fake.webhook_done(entry, url, status, error):
            self._retry_delay = self.fake.webhook_retry_initial
        else:
            self._retry_at = self._loop.time() + self._retry_delay
            self._retry_delay = min(self._retry_delay * 2, self.fake.webhook_retry_max)

    async def _post_update(
        self, session: aiohttp.ClientSession, url: str, secret: str | None, update: dict[str, Any]
    ) -> tuple[int | None, str | None]:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        timeout = aiohttp.ClientTimeout(total=self.fake.webhook_timeout)
        try:
            async with session.post(url, json=update, headers=headers, timeout=timeout) as resp:
                if not 200 <= resp.status < 300:
                    return resp.status, f"Wrong response from the webhook: {resp.status} {resp.reason}"
                await self._run_reply_method(resp)
                return resp.status, None
        except TimeoutError:
            return None, "Read timeout expired"
        except aiohttp.ClientError as e:
            return None, f"Connection failed: {e}"

    async def _run_reply_method(self, resp: aiohttp.ClientResponse) -> None:
        """Telegram executes a Bot API method given in the webhook response body (errors are ignored)."""
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        try:
            if resp.content_type.startswith("multipart/"):
                reader = aiohttp.MultipartReader.from_response(resp)
                while (part := await reader.next()) is not None:
                    if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                        continue
                    if part.filename:
                        files[part.name] = UploadedFile(part.filename, bytes(await part.read()))
                    else:
                        params[part.name] = await part.text()
            elif resp.content_type == "application/json":
                body = await resp.json()
                params = body if isinstance(body, dict) else {}
            method = params.pop("method", None)
            if method:
                self.fake.call(str(method), params, files)
        except ApiError as e:
            log.info("webhook reply method failed: %s", e)
        except (aiohttp.ClientError, ValueError) as e:
            log.warning("cannot parse webhook reply: %s", e)
