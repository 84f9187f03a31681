"""An aiogram session that sends through a python-telegram-bot `Bot`: every
Bot API call BuyerBot makes goes out by PTB's `do_api_request`, so over PTB's
HTTP client, with its token and through its rate limiter if one is set.
PTB's errors come back as aiogram's, which BuyerBot's sender understands."""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from telegram import error as ptb_error

if TYPE_CHECKING:
    import telegram
    from aiogram import Bot

# BuyerBot names Bot API methods by their API names, which PTB also has as
# methods of its own; its hint to call those instead does not apply here.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.\w+' instead of 'Bot\.do_api_request", module=__name__)


def _retry_after(exc: ptb_error.RetryAfter) -> int:
    with warnings.catch_warnings():  # PTB 22 warns that it will become a timedelta: both are read
        warnings.simplefilter("ignore", DeprecationWarning)
        value = exc.retry_after
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


def aiogram_error(method: TelegramMethod[Any], exc: ptb_error.TelegramError) -> TelegramAPIError:
    """PTB's exception as the aiogram exception the same Bot API answer gives."""
    message = exc.message
    if isinstance(exc, ptb_error.RetryAfter):
        return TelegramRetryAfter(method=method, message=message, retry_after=_retry_after(exc))
    if isinstance(exc, ptb_error.ChatMigrated):
        return TelegramMigrateToChat(method=method, message=message, migrate_to_chat_id=exc.new_chat_id)
    if isinstance(exc, ptb_error.Forbidden):
        return TelegramForbiddenError(method=method, message=message)
    if isinstance(exc, ptb_error.BadRequest):  # before NetworkError: PTB derives one from the other
        return TelegramBadRequest(method=method, message=message)
    if isinstance(exc, ptb_error.Conflict):
        return TelegramConflictError(method=method, message=message)
    if isinstance(exc, ptb_error.InvalidToken):
        return TelegramUnauthorizedError(method=method, message=message)
    if isinstance(exc, ptb_error.EndPointNotFound):
        return TelegramNotFound(method=method, message=message)
    if isinstance(exc, ptb_error.NetworkError):  # TimedOut too, and 5xx answers
        return TelegramNetworkError(method=method, message=message)
    return TelegramAPIError(method=method, message=message)


class PtbSession(BaseSession):
    """Give it to an aiogram `Bot` built with the PTB bot's token:
    `Bot(ptb_bot.token, session=PtbSession(ptb_bot))`."""

    def __init__(self, ptb_bot: telegram.Bot) -> None:
        super().__init__()
        self.ptb_bot = ptb_bot

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None) -> Any:
        files: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                params[key] = prepared
        if files:
            # BuyerBot sends media by file_id only; an upload would need PTB's InputFile
            raise TelegramBadRequest(method=method, message="uploads are not supported through the PTB session")
        try:
            if timeout is None:
                result = await self.ptb_bot.do_api_request(method.__api_method__, api_kwargs=params)
            else:
                result = await self.ptb_bot.do_api_request(
                    method.__api_method__, api_kwargs=params, read_timeout=float(timeout)
                )
        except ptb_error.TelegramError as exc:
            raise aiogram_error(method, exc) from exc
        response = self.check_response(bot, method, 200, json.dumps({"ok": True, "result": result}))
        return response.result

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("BuyerBot downloads no files through the PTB session")
        yield b""  # pragma: no cover - makes this an async generator

    async def close(self) -> None:
        """The PTB application owns the HTTP client and shuts it down."""
