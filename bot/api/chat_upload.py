"""Photos and videos from the buyer's phone: the raw file as the request body,
counted while it streams to disk (413 past the policy's limit for its kind),
judged by its first bytes (415 when it is not an allowed format), stored
under a name the server makes, and handed to the dialogs as media. Files are
served back only to a session bound to their order, and to agents
(`/api/v1/media/{id}`: the API token or a console login)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from bot.api.chat import CHANNEL, WebChat
from bot.api.chat_body import fail
from bot.media import FORMATS, SNIFF_BYTES, MediaFiles, StoredMedia, agent_url, media_id_of, sniff
from dialogs.model import Inbound

SERVED_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
                  "Content-Security-Policy": "default-src 'none'; media-src 'self'; img-src 'self'"}  # fmt: skip


async def receive_file(request: Request, chat: WebChat, files: MediaFiles, order_id: str) -> StoredMedia:
    rules = chat.rules
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > rules.largest:
        raise fail(413, "file_too_large")
    media_id = files.new_id()
    head, size, fmt, limit = b"", 0, None, rules.largest
    try:
        with files.partial_path(media_id).open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if fmt is None:
                    head += chunk[:SNIFF_BYTES]
                    if len(head) >= SNIFF_BYTES:
                        fmt = _allowed(head, chat)
                        limit = rules.limit_for(fmt)
                if size > limit:
                    raise fail(413, "file_too_large")
                out.write(chunk)
        if fmt is None:
            fmt = _allowed(head, chat)
            if size > rules.limit_for(fmt):
                raise fail(413, "file_too_large")
        kind, mime = FORMATS[fmt]
        meta = StoredMedia(media_id, order_id, kind, mime, size, datetime.now(UTC).isoformat())
        files.commit(media_id, meta)
        return meta
    finally:
        files.discard(media_id)


def _allowed(head: bytes, chat: WebChat) -> str:
    fmt = sniff(head)
    if fmt is None or fmt not in chat.rules.types:
        raise fail(415, "unsupported_file")
    return fmt


def upload_router(chat: WebChat, files: MediaFiles, agents: Callable[..., Awaitable[Any]]) -> APIRouter:
    """`agents`: the dependency that lets the store's people in (the console's)."""
    router = APIRouter()
    runtime = chat.runtime

    @router.post(
        "/chat/api/upload",
        status_code=202,
        summary="The buyer sends a photo or a video (the raw file as the body)",
        openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}}},
        responses={404: {}, 413: {}, 415: {}, 422: {}},
    )  # fmt: skip
    async def upload(request: Request, session: str, order: str | None = None) -> Any:
        order_id = await chat.order_of(session, order)
        meta = await receive_file(request, chat, files, order_id)
        payload = {"channel": CHANNEL, "address": session, "text": "", "media": [meta.payload()],
                   "media_kind": meta.kind}  # fmt: skip
        await runtime.submit(Inbound(order_id, "buyer_message", payload, f"web:upload:{meta.id}", runtime.clock.now()))
        chat.hub.notify_soon(order_id)
        return {"accepted": True, "order_id": order_id, "kind": meta.kind, "size": meta.size}

    @router.get("/chat/media/{media_id}", summary="A file of this session's orders", responses={404: {}, 422: {}})
    async def buyer_file(media_id: str, session: str) -> FileResponse:
        orders = await chat.orders_of(session)
        found = files.get(media_id)
        if found is None or found[0].order_id not in orders:
            raise fail(404, "not_found")
        return _serve(*found)

    @router.get("/api/v1/media/{media_id}", summary="A buyer's uploaded file, for agents",
                dependencies=[Depends(agents)], responses={401: {}, 404: {}})  # fmt: skip
    async def agent_file(media_id: str) -> FileResponse:
        found = files.get(media_id)
        if found is None:
            raise fail(404, "not_found")
        return _serve(*found)

    @router.get("/api/v1/orders/{order_id}/media", summary="Files the buyer sent about an order, oldest first",
                dependencies=[Depends(agents)], responses={401: {}})  # fmt: skip
    async def order_media(order_id: str) -> Any:
        listed = []
        for _, entry in await runtime.store.transcript(order_id):
            for item in entry.media:
                media_id = media_id_of(str(item.get("file_id", "")))
                if media_id:
                    listed.append({"at": entry.at.isoformat(), "kind": item.get("kind"), "file_id": item["file_id"],
                                   "mime_type": item.get("mime_type"), "url": agent_url(item["file_id"])})  # fmt: skip
        return listed

    return router


def _serve(meta: StoredMedia, path: Any) -> FileResponse:
    return FileResponse(path, media_type=meta.mime_type, headers=SERVED_HEADERS, content_disposition_type="inline")
