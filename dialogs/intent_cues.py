"""Cue pairs of the intent matcher (dialogs/intents.py): an intent is also read from two kinds of word met in
the same message (a payment word and a "done" word means "I've paid"), so new wording still lands; and the
priorities that settle two intents read in one message. Syntax of the word lists as in intent_phrases.py.
"""

from __future__ import annotations

from typing import Final

CUE_WEIGHT: Final = 1.2  # above a one-word phrase, below a two-word one

# Concept -> language -> words.
# fmt: off
CONCEPTS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "payment": {
        "en": ("pay", "paid", "payed", "payment*", "paying", "checkout", "money", "transfer*", "balance", "card"),
        "ru": ("оплат*", "заплат*", "плачу", "платеж*", "платить", "деньг*", "перевод*", "баланс*", "карт*"),
        "es": ("pago", "pague", "pagar", "pagado", "pagando", "pagos", "dinero", "transferencia", "saldo", "tarjeta"),
        "pt": ("pagar", "pago", "paguei", "pagamento*", "pagando", "dinheiro", "transferencia", "pix", "saldo",
               "cartao"),
        "fr": ("payer", "paye", "payee", "paie", "paiement*", "regle", "reglement", "virement", "argent", "largent",
               "dargent", "solde", "carte"),
    },
    "done": {
        "en": ("already", "ago", "yesterday", "last night", "this morning", "went through", "taken care",
               "done", "sent", "i did", "completed"),
        "ru": ("уже", "назад", "вчера", "только что", "прошла", "прошел", "ушли", "отправил*", "скинул*"),
        "es": ("ya", "hace", "ayer", "anoche", "acabo", "salio", "listo", "mande", "envie", "encargue"),
        "pt": ("ja", "faz", "ontem", "acabei", "saiu", "mandei", "enviei", "resolvi"),
        "fr": ("deja", "il y a", "hier", "parti", "envoye", "fait", "occupe"),
    },
    "how": {
        "en": ("how", "options", "option", "other", "else", "parts", "ways", "method*", "possible", "accept*"),
        "ru": ("как", "вариант*", "способ*", "частями", "по другому", "друг*"),
        "es": ("como", "opcion*", "otra", "otro", "partes", "forma*"),
        "pt": ("como", "opcoes", "opcao", "outra", "outro", "partes", "forma*"),
        "fr": ("comment", "option*", "autre*", "plusieurs", "parties", "moyen*", "peut on", "possible"),
    },
    "failure": {
        "en": ("error*", "wrong", "declin*", "reject*", "fail*", "spins", "loading", "insufficient", "problem"),
        "ru": ("ошибк*", "не так", "крутится", "отклон*", "недостаточно", "проблем*", "не проход*", "не прош*"),
        "es": ("error", "mal", "cargando", "rechaz*", "insuficiente*", "problema", "fall*"),
        "pt": ("erro", "errado", "carregando", "recus*", "insuficiente", "problema", "falh*"),
        "fr": ("erreur", "derreur", "refus*", "insuffisant*", "probleme", "echou*", "tourne", "bug*"),
    },
    "parcel": {
        "en": ("parcel", "package", "order", "delivery", "shipping", "shipped", "ship", "tracking"),
        "ru": ("посылк*", "заказ*", "доставк*", "отправк*", "трек*", "отправ*"),
        "es": ("paquete", "pedido", "envio", "enviar", "enviado", "seguimiento", "orden"),
        "pt": ("pacote", "pedido", "encomenda", "envio", "enviar", "enviado", "rastreio"),
        "fr": ("colis", "commande", "livraison", "expedi*", "envoi", "suivi"),
    },
    "when": {
        "en": ("when", "news", "update*", "where", "still", "how long"),
        "ru": ("когда", "новост*", "где", "до сих пор"),
        "es": ("cuando", "novedad*", "donde", "todavia", "aun"),
        "pt": ("quando", "novidade*", "cade", "onde", "ainda"),
        "fr": ("quand", "nouvelle*", "ou", "toujours"),
    },
    "price": {
        "en": ("price", "cost*", "dollars", "bucks", "fee", "euros"),
        "ru": ("цен*", "стоим*", "рубл*", "доставк*", "долл*"),
        "es": ("precio", "costo", "dolares", "envio", "pesos", "euros"),
        "pt": ("preco", "custo", "dolares", "frete", "reais", "euros"),
        "fr": ("prix", "cout*", "dollars", "euros", "livraison"),
    },
    "too_high": {
        "en": ("too", "high", "steep", "too much", "a lot", "less", "match"),
        "ru": ("перебор", "высок*", "много", "дорог*", "дешевле"),
        "es": ("demasiado", "elevado", "alto", "mucho", "igual*", "barat*"),
        "pt": ("demais", "puxado", "alto", "muito", "cobre", "barat*"),
        "fr": ("trop", "eleve*", "cher", "chere", "aligner"),
    },
    "future": {
        "en": ("tomorrow", "tonight", "later", "next week", "in a few days", "couple of days", "weekend", "salary",
               "payday", "when i get", "soon"),
        "ru": ("завтра", "вечером", "позже", "через пару дней", "на неделе", "зарплат*", "оплачу", "заплачу",
               "скоро"),
        "es": ("manana", "mas tarde", "par de dias", "semana que viene", "proxima semana", "sueldo", "quincena",
               "pagare"),
        "pt": ("amanha", "mais tarde", "uns dois dias", "semana que vem", "proxima semana", "salario", "pagarei"),
        "fr": ("demain", "plus tard", "deux jours", "semaine prochaine", "salaire", "ce soir", "paierai",
               "payerai"),
    },
    "ordering": {
        "en": ("order*", "size", "colour", "color", "address", "model"),
        "ru": ("заказ*", "размер*", "цвет*", "адрес*", "модел*"),
        "es": ("pedir", "pedi", "pedido", "talla", "color", "direccion", "modelo"),
        "pt": ("pedir", "pedi", "pedido", "tamanho", "cor", "endereco", "modelo"),
        "fr": ("command*", "taille", "couleur", "adresse", "ladresse", "modele"),
    },
    "wanted": {
        "en": ("meant", "wanted", "instead", "not one"),
        "ru": ("хотел*", "вместо", "а не"),
        "es": ("queria", "en vez", "no uno", "no una"),
        "pt": ("queria", "em vez", "nao um", "nao uma"),
        "fr": ("voulais", "au lieu", "pas un", "pas une"),
    },
    "fix": {
        "en": ("fix", "change", "correct"),
        "ru": ("исправ*", "помен*", "измени*"),
        "es": ("corregir", "cambiar", "corrijan"),
        "pt": ("corrigir", "mudar", "trocar"),
        "fr": ("corriger", "changer", "modifier"),
    },
    "sent": {
        "en": ("sent", "transferred"),
        "ru": ("скинул*", "перевел*", "отправил*"),
        "es": ("mande", "envie", "transferi"),
        "pt": ("mandei", "enviei", "transferi"),
        "fr": ("envoye", "vire", "transfere"),
    },
    "ago": {
        "en": ("ago", "yesterday", "last night", "this morning"),
        "ru": ("назад", "вчера", "утром"),
        "es": ("hace", "ayer", "anoche"),
        "pt": ("faz", "ontem", "hoje cedo"),
        "fr": ("il y a", "hier", "ce matin"),
    },
}

# Intent <- two concepts met in the same message.
CUE_RULES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "how_to_pay": (("payment", "how"),),
    "payment_failed": (("payment", "failure"),),
    "where_is_order": (("parcel", "when"),),
    "too_expensive": (("price", "too_high"),),
    "wrong_item": (("ordering", "wanted"), ("ordering", "fix")),
    "paid_already": (("payment", "done"), ("sent", "ago")),
    "pay_later": (("payment", "future"),),
}

# (winner, loser): when both are read with at least a one-word phrase, the winner takes the message unless the
# loser is clearly stronger. The more specific reading wins: a buyer who paid and asks for the parcel wants
# the parcel; a declined card with money on it is a failure, not a question of methods.
PRIORITIES: Final[tuple[tuple[str, str], ...]] = (
    ("payment_failed", "how_to_pay"),
    ("payment_failed", "paid_already"),
    ("paid_already", "how_to_pay"),
    ("where_is_order", "paid_already"),
    ("wrong_item", "pay_later"),
    ("wrong_item", "paid_already"),
    ("not_working", "where_is_order"),
    ("damaged_item", "where_is_order"),
    ("too_expensive", "where_is_order"),
    ("cancel", "too_expensive"),
    ("not_working", "pay_later"),
    ("still_deciding", "pay_later"),
)
PRIORITY_MARGIN: Final = 0.75  # a loser ahead by this much keeps the message
# fmt: on
