"""The public name for embedding BuyerBot in a store's own bot: `buyerbot.integrations`
re-exports `bot.integrations` (the package BuyerBot's code lives in)."""
