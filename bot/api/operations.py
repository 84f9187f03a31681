"""Operations on the app: `GET /metrics` (Prometheus text) behind the API
token, or without a token on BUYERBOT_METRICS_PORT; and the one log line per
handled input."""

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from bot.api.bearer import bearer_guard
from bot.logs import log_input
from bot.metrics import Metrics, serve_separately

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)
#: seconds between refreshes of the gauges served on the separate port
REFRESH_EVERY = 10.0


class Operations:
    def __init__(self, services: "Services", metrics: Metrics) -> None:
        self.services, self.metrics = services, metrics
        self.task: asyncio.Task[None] | None = None
        self.server: Any = None

    async def _refresh_forever(self) -> None:
        while True:
            try:
                await self.metrics.refresh()
            except Exception:
                log.exception("metrics refresh failed")
            await asyncio.sleep(REFRESH_EVERY)

    async def close(self) -> None:
        runtime = self.services.runtime
        for listener in (log_input, self.metrics.on_commit):
            if listener in runtime.on_commit:
                runtime.on_commit.remove(listener)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.server is not None:
            self.server[0].shutdown()


def mount_operations(app: FastAPI, services: "Services", api_token: str) -> Operations:
    metrics = Metrics(services)
    metrics.install()
    services.runtime.on_commit.append(log_input)
    operations = Operations(services, metrics)

    authorised = bearer_guard(api_token)

    router = APIRouter()

    @router.get("/metrics", dependencies=[Depends(authorised)], include_in_schema=False)
    async def get_metrics() -> Response:
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    settings = services.settings
    if settings.metrics_port:
        operations.server = serve_separately(metrics, settings.http_host, settings.metrics_port)
        operations.task = asyncio.create_task(operations._refresh_forever(), name="metrics-refresh")
    return operations
