"""The web chat door's sending side: the page reads the transcript, so a send
only has to succeed; the sender writes the rendered text there."""

from __future__ import annotations

from dialogs.ports import Capabilities, RenderedMessage, SendResult


class WebChatChannel:
    name = "webchat"
    capabilities = Capabilities(max_buttons=8, max_button_title=40, max_text=8000)

    async def send(self, address: str, message: RenderedMessage) -> SendResult:
        return SendResult(ok=True, channel_message_id=message.message_id)
