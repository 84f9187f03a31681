"""`buyerbot link ORDER_ID`: the buyer's links for an order: the web chat URL
and, when Telegram is configured, a t.me deep link with the opaque token."""

from __future__ import annotations

from bot.config import Settings
from bot.storage import open_store
from dialogs.orders import new_link_token
from dialogs.ports import Store


async def ensure_link_token(store: Store, order_id: str) -> str:
    """The order's link token, made on first use (orders placed before tokens existed)."""
    token = await store.token_for_order(order_id)
    if token is None:
        token = new_link_token()
        await store.put_link_token(token, order_id)
    return token


async def order_links(settings: Settings, order_id: str) -> dict[str, str] | None:
    store = await open_store(settings.store_url)
    try:
        _, order = await store.load(order_id)
        if order is None:
            return None
        token = await ensure_link_token(store, order_id)
    finally:
        await store.close()
    links = {"token": token, "web": f"{settings.base_url}/chat?t={token}"}
    if settings.telegram_token:
        from bot.channels.telegram import bot_username

        links["telegram"] = f"https://t.me/{await bot_username(settings)}?start={token}"
    return links


async def print_links(settings: Settings, order_id: str) -> int:
    links = await order_links(settings, order_id)
    if links is None:
        print(f"buyerbot: unknown order {order_id!r}")
        return 1
    for name, value in links.items():
        print(f"{name}: {value}")
    return 0
