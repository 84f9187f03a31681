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
        "en": ("pay", "paid", "payed", "payment*", "paying", "checkout", "money", "transfer*", "balance", "card",
               "transaction*", "deposit*", "settled", "purchase", "charge", "amount"),
        "ru": ("оплат*", "заплат*", "плачу", "платеж*", "платить", "деньг*", "перевод*", "баланс*", "карт*",
               "транзакц*", "оплату", "покупк*", "списани*", "сумм*"),
        "es": ("pago", "pague", "pagar", "pagado", "pagando", "pagos", "dinero", "transferencia", "saldo",
               "tarjeta", "transaccion*", "deposit*", "transfer", "compra", "cargo", "monto"),
        "pt": ("pagar", "pago", "paguei", "pagamento*", "pagando", "dinheiro", "transferencia", "pix", "saldo",
               "cartao", "transacao", "transacoes", "deposit*", "compra", "cobranca", "valor", "ted", "valor"),
        "fr": ("payer", "paye", "payee", "paie", "paiement*", "regle", "reglement", "virement", "argent",
               "largent", "dargent", "solde", "carte", "transaction*", "depot", "achat", "prelevement", "montant"),
    },
    "done": {
        "en": ("already", "ago", "yesterday", "last night", "this morning", "went through", "taken care", "done",
               "sent", "i did", "completed", "been made", "made", "earlier", "settled", "made it",
               "should be there"),
        "ru": ("уже", "назад", "вчера", "только что", "прошла", "прошел", "ушли", "отправил*", "скинул*",
               "проведен*", "утром", "днем", "сделал*", "должно уже"),
        "es": ("ya", "hace", "ayer", "anoche", "acabo", "salio", "listo", "mande", "envie", "encargue", "hizo",
               "hecho", "hice", "esta manana", "deberia"),
        "pt": ("ja", "faz", "ontem", "acabei", "saiu", "mandei", "enviei", "resolvi", "feito", "foi feito", "fiz",
               "hoje de manha", "deve ter"),
        "fr": ("deja", "il y a", "hier", "parti", "envoye", "fait", "occupe", "ce matin", "tout a lheure",
               "devrait"),
    },
    "how": {
        "en": ("how", "options", "option", "other", "else", "parts", "ways", "method*", "possible", "accept*",
               "instead", "husband", "wife", "son", "daughter", "someone else", "another", "easiest", "currency"),
        "ru": ("как", "вариант*", "способ*", "частями", "по другому", "друг*", "вместо", "муж*", "жена", "сын",
               "дочь", "чем", "валют*"),
        "es": ("como", "opcion*", "otra", "otro", "partes", "forma*", "en vez", "esposo", "esposa", "hijo", "hija",
               "moneda"),
        "pt": ("como", "opcoes", "opcao", "outra", "outro", "partes", "forma*", "em vez", "no lugar", "marido",
               "esposa", "filho", "filha", "jeito", "moeda"),
        "fr": ("comment", "option*", "autre*", "plusieurs", "parties", "moyen*", "peut on", "possible", "au lieu",
               "a la place", "mari", "femme", "fils", "fille", "monnaie"),
    },
    "failure": {
        "en": ("error*", "went wrong", "declin*", "reject*", "fail*", "spins", "loading", "insufficient",
               "problem", "refused", "could not", "couldnt", "not completed", "not be completed", "froze",
               "frozen", "stuck", "hangs", "never arrives", "never came", "returned", "bounced", "came back",
               "not approved", "denied", "unsuccessful"),
        "ru": ("ошибк*", "не так", "крутится", "отклон*", "недостаточно", "проблем*", "не проход*", "не прош*",
               "невозможно", "не удалось", "не получилось", "завис*", "не приходит", "вернул*", "не одобрен*",
               "отказ*"),
        "es": ("error", "mal", "cargando", "rechaz*", "insuficiente*", "problema", "fall*", "no se pudo",
               "no pudo", "congel*", "trab*", "nunca llega", "regres*", "devolvi*", "reboto", "rebot*",
               "no fue aprobad*", "no aprobad*", "denegad*"),
        "pt": ("erro", "errado", "carregando", "recus*", "insuficiente", "problema", "falh*", "nao pode",
               "nao pude", "trav*", "nunca chega", "voltou", "devolv*", "nao foi aprovad*", "negad*"),
        "fr": ("erreur", "derreur", "refus*", "insuffisant*", "probleme", "echou*", "tourne", "bug*", "pas pu",
               "rejete*", "aboutir", "plante", "narrive jamais", "narrive pas", "revenu", "renvoye",
               "pas ete accepte*", "pas accepte*", "refuse*"),
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
        "pt": ("quando", "novidade*", "cade", "onde", "ainda", "ate agora"),
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
        "en": ("too", "high", "steep", "too much", "a lot", "less", "match", "a lot", "instead", "ridiculous",
               "absurd", "crazy"),
        "ru": ("перебор", "высок*", "много", "дорог*", "дешевле", "много*", "вместо", "смешно", "абсурд*"),
        "es": ("demasiado", "elevado", "alto", "mucho", "igual*", "barat*", "en lugar", "en vez", "ridicul*",
               "absurd*"),
        "pt": ("demais", "puxado", "alto", "muito", "cobre", "barat*", "em vez", "ridicul*", "absurd*"),
        "fr": ("trop", "eleve*", "cher", "chere", "aligner", "beaucoup", "au lieu", "ridicule", "abuse"),
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
    "forgot": {
        "en": ("forgot", "forget", "didnt use", "didnt apply"),
        "ru": ("забыл*",),
        "es": ("olvide", "se me olvido", "se me paso"),
        "pt": ("esqueci",),
        "fr": ("oublie",),
    },
    "coupon": {
        "en": ("coupon*", "promo*", "code", "voucher"),
        "ru": ("купон*", "промокод*", "код"),
        "es": ("cupon*", "codigo", "promo*"),
        "pt": ("cupom", "cupons", "codigo", "promo*"),
        "fr": ("coupon*", "code", "promo*", "bon de reduction"),
    },
    "mistake": {
        "en": ("wrong", "by mistake", "mistake", "by accident", "incorrect"),
        "ru": ("неправильно", "по ошибке", "случайно", "ошиб*"),
        "es": ("mal", "sin querer", "equivoc*", "por error"),
        "pt": ("errad*", "sem querer", "por engano"),
        "fr": ("mal", "sans faire expres", "par erreur", "trompe*", "fausse", "faux"),
    },
    "charged": {
        "en": ("took the money", "charged", "money was taken", "debited", "was taken"),
        "ru": ("сняли", "списал*", "деньги ушли"),
        "es": ("cobro", "cobraron", "me cobro", "descontaron", "descont*"),
        "pt": ("cobrou", "cobraram", "debitou", "descontou", "saiu do meu"),
        "fr": ("pris largent", "debite", "preleve", "a ete debite"),
    },
    "unpaid": {
        "en": ("unpaid", "not paid", "says unpaid", "still unpaid"),
        "ru": ("не оплачен*", "неоплачен*"),
        "es": ("sin pagar", "no pagado", "pendiente de pago"),
        "pt": ("nao pago", "sem pagamento", "pendente"),
        "fr": ("non payee", "non paye", "pas payee", "impaye*"),
    },
    "device": {
        "en": ("battery", "screen", "lamp", "light", "sound", "button", "it"),
        "ru": ("батаре*", "экран", "ламп*", "звук", "кнопк*", "аккумулятор*"),
        "es": ("bateria", "pantalla", "lampara", "luz", "sonido", "boton"),
        "pt": ("bateria", "tela", "luminaria", "luz", "som", "botao"),
        "fr": ("batterie", "ecran", "lampe", "lumiere", "son", "bouton"),
    },
    "fault": {
        "en": ("goes off", "turns off", "runs out", "dies", "drains", "flickers"),
        "ru": ("гаснет", "садится", "выключа*", "мигает", "разряжа*"),
        "es": ("se apaga", "se acaba", "se descarga", "parpadea"),
        "pt": ("apaga", "acaba", "descarrega", "pisca"),
        "fr": ("seteint", "se vide", "se decharge", "clignote"),
    },
    "give_me": {
        "en": ("give me", "gimme", "till", "until"),
        "ru": ("дайте", "дай", "до"),
        "es": ("dame", "denme", "hasta"),
        "pt": ("me da", "me de", "ate"),
        "fr": ("donnez moi", "laissez moi", "jusqua"),
    },
    "time": {
        "en": ("days", "day", "week", "month", "friday", "monday", "weekend", "tomorrow", "payday"),
        "ru": ("дн*", "день", "недел*", "месяц*", "пятниц*", "понедельник*", "выходн*", "завтра"),
        "es": ("dias", "dia", "semana", "mes", "viernes", "lunes", "fin de semana", "manana", "quincena"),
        "pt": ("dias", "dia", "semana", "mes", "sexta", "segunda", "fim de semana", "amanha"),
        "fr": ("jours", "jour", "semaine", "mois", "vendredi", "lundi", "week end", "demain"),
    },
    "ordering": {
        "en": ("order*", "size", "colour", "color", "address", "model", "quantity", "street", "chose", "picked",
               "typed", "pack", "clicked"),
        "ru": ("заказ*", "размер*", "цвет*", "адрес*", "модел*", "количеств*", "улиц*", "выбрал*", "набор*",
               "нажал*"),
        "es": ("pedir", "pedi", "pedido", "talla", "color", "direccion", "modelo", "cantidad", "calle", "elegi",
               "escogi", "paquete de", "le di"),
        "pt": ("pedir", "pedi", "pedido", "tamanho", "cor", "endereco", "modelo", "quantidade", "rua", "escolhi",
               "peguei", "kit", "cliquei"),
        "fr": ("command*", "taille", "couleur", "adresse", "ladresse", "modele", "quantite", "rue", "choisi",
               "pris", "lot", "clique"),
    },
    "wanted": {
        "en": ("meant", "wanted", "instead", "not one", "i need"),
        "ru": ("хотел*", "вместо", "а не", "нужен", "нужна"),
        "es": ("queria", "en vez", "no uno", "no una", "necesito"),
        "pt": ("queria", "em vez", "nao um", "nao uma", "preciso"),
        "fr": ("voulais", "au lieu", "pas un", "pas une", "il me faut"),
    },
    "fix": {
        "en": ("fix", "change", "correct", "should be", "swap", "exchange"),
        "ru": ("исправ*", "помен*", "измени*"),
        "es": ("corregir", "cambiar", "corrijan", "cambi*", "cambian"),
        "pt": ("corrigir", "mudar", "trocar", "mud*", "trocar"),
        "fr": ("corriger", "changer", "modifier", "mettez", "echanger"),
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
        "es": ("hace", "ayer", "anoche", "esta manana"),
        "pt": ("faz", "ontem", "hoje cedo", "hoje de manha"),
        "fr": ("il y a", "hier", "ce matin"),
    },
}

# Intent <- two concepts met in the same message (at CUE_WEIGHT unless a weight is given).
CUE_RULES: Final[dict[str, tuple[tuple[str, str] | tuple[str, str, float], ...]]] = {
    "how_to_pay": (("payment", "how"),),
    "payment_failed": (("payment", "failure"), ("charged", "unpaid")),
    "where_is_order": (("parcel", "when"),),
    "too_expensive": (("price", "too_high"),),
    "wrong_item": (("ordering", "wanted"), ("ordering", "fix"), ("ordering", "mistake"), ("forgot", "coupon", 2.0)),
    "not_working": (("device", "fault"),),
    "paid_already": (("payment", "done"), ("sent", "ago"), ("sent", "payment"), ("charged", "payment")),
    "pay_later": (("payment", "future"), ("give_me", "time")),
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
    ("how_to_pay", "where_is_order"),
    ("payment_failed", "where_is_order"),
    ("paid_already", "pay_later"),
    ("payment_failed", "pay_later"),
    ("payment_failed", "still_deciding"),
    ("still_deciding", "pay_later"),
)
PRIORITY_MARGIN: Final = 0.75  # a loser ahead by this much keeps the message
# fmt: on
