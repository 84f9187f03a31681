"""Which orders a WhatsApp number talks about: bound before, or the orders
placed with this very phone (adopted on its first message). Any other number
goes through the order-number path (`bot/channels/number_binding.py`)."""

from __future__ import annotations

from dialogs.orders import normalise_phone
from dialogs.ports import Store


class WhatsAppBinder:
    channel = "whatsapp"

    def __init__(self, store: Store) -> None:
        self.store = store

    async def conversations(self, phone: str) -> list[str]:
        """Orders bound to `phone`, adopting the orders placed with this phone if none are."""
        bound = await self.store.bound(self.channel, phone)
        if bound:
            return bound
        for conversation in await self.store.conversations():
            if conversation.channel == self.channel and normalise_phone(conversation.address) == phone:
                await self.store.bind(self.channel, phone, conversation.id)
        return await self.store.bound(self.channel, phone)
