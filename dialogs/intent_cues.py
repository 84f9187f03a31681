"""Cue pairs of the intent matcher (dialogs/intents.py): an intent is also read from two kinds of word met in
the same message (a payment word and a "done" word means "I've paid"), so new wording still lands; and the
priorities that settle two intents read in one message. Syntax of the word lists as in intent_phrases.py.
"""

from __future__ import annotations

from typing import Final

from dialogs.intent_concepts import MORE_CONCEPTS

CUE_WEIGHT: Final = 1.2  # above a one-word phrase, below a two-word one

# Concept -> language -> words.
# fmt: off
CONCEPTS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "payment": {
        "en": ("pay", "paid", "payed", "payment*", "paying", "checkout", "money", "transfer*", "balance", "card",
               "funds",
               "transaction*", "deposit*", "settled", "purchase", "charge", "amount"),
        "ru": ("оплат*", "заплат*", "плачу", "платеж*", "платить", "деньг*", "перевод*", "баланс*", "карт*", "средств*",
               "кредитк*",
               "транзакц*", "оплату", "покупк*", "списани*", "сумм*"),
        "es": ("pago", "pague", "pagar", "pagado", "pagando", "pagos", "dinero", "transferencia", "saldo", "fondos",
               "tarjeta", "transaccion*", "deposit*", "transfer", "compra", "cargo", "monto"),
        "pt": ("pagar", "pago", "paguei", "pagamento*", "pagando", "dinheiro", "transferencia", "pix", "saldo",
               "fundos",
               "cartao", "transacao", "transacoes", "deposit*", "compra", "cobranca", "valor", "ted", "valor"),
        "fr": ("payer", "paye", "payee", "paie", "paiement*", "regle", "regler", "reglerai", "fonds",
               "reglement", "virement", "argent",
               "largent", "dargent", "solde", "carte", "transaction*", "depot", "achat", "prelevement", "montant"),
    },
    "done": {
        "en": ("already", "ago", "yesterday", "last night", "this morning", "went through", "taken care", "done",
               "sent", "i did", "completed", "been made", "made", "earlier", "settled", "made it",
               "should be there", "just did", "just made", "just sent"),
        "ru": ("уже", "назад", "вчера", "только что", "прошла", "прошел", "ушли", "отправил*", "скинул*",
               "проведен*", "утром", "днем", "сделал*", "должно уже"),
        "es": ("ya", "hace", "ayer", "anoche", "acabo", "salio", "listo", "mande", "envie", "encargue", "hizo",
               "hecho", "hice", "esta manana", "deberia"),
        "pt": ("ja", "faz", "ontem", "acabei", "saiu", "mandei", "enviei", "resolvi", "feito", "foi feito", "fiz",
               "hoje de manha", "deve ter"),
        "fr": ("deja", "il y a", "hier", "viens de", "vient de", "parti", "envoye", "fait", "occupe", "ce matin",
               "tout a lheure", "devrait"),
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
        "en": ("error*", "went wrong", "declin*", "bounc*", "reject*", "fail*", "spins", "loading", "insufficient",
               "problem", "refused", "could not", "couldnt", "not completed", "not be completed", "froze",
               "frozen", "stuck", "hangs", "never arrives", "never came", "returned", "bounced", "came back",
               "not approved", "denied", "unsuccessful"),
        "ru": ("ошибк*", "не так", "крутится", "отклон*", "недостаточно", "проблем*", "не проход*", "не прош*",
               "невозможно", "не удалось", "не получилось", "завис*", "не приходит", "вернул*", "не одобрен*",
               "отказ*"),
        "es": ("error", "mal", "cargando", "rechaz*", "insuficiente*", "problema", "fall*", "no se pudo",
               "no pudo", "congel*", "trabad*", "trabo", "nunca llega", "regres*", "devolvi*", "reboto", "rebot*",
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
        "ru": ("завтра", "вечером", "позже", "потом", "через пару дней", "на неделе", "зарплат*", "оплачу", "заплачу",
               "скоро"),
        "es": ("manana", "mas tarde", "luego", "despues", "al rato",
               "par de dias", "semana que viene", "proxima semana", "sueldo", "quincena",
               "pagare"),
        "pt": ("amanha", "mais tarde", "depois",
               "uns dois dias", "semana que vem", "proxima semana", "salario", "pagarei"),
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
        "en": ("battery", "screen", "lamp", "light", "sound", "button*", "it", "volume"),
        "ru": ("батаре*", "экран", "ламп*", "звук", "кнопк*", "аккумулятор*", "громкост*"),
        "es": ("bateria", "pantalla", "lampara", "luz", "sonido", "boton", "botones", "volumen"),
        "pt": ("bateria", "tela", "luminaria", "luz", "som", "botao", "botoes", "volume"),
        "fr": ("batterie", "ecran", "lecran", "lampe", "lumiere", "son", "bouton*", "volume"),
    },
    "fault": {
        "en": ("goes off", "turns off", "runs out", "dies", "drains", "flickers"),
        "ru": ("гаснет", "садится", "выключа*", "мигает", "разряжа*"),
        "es": ("se apaga", "se acaba", "se descarga", "parpadea"),
        "pt": ("apaga", "acaba", "descarrega", "pisca"),
        "fr": ("seteint", "se vide", "se decharge", "clignote"),
    },
    "give_me": {
        "en": ("give me", "gimme", "till", "until", "hold on"),
        "ru": ("дайте", "дай", "до", "подождите", "подожди"),
        "es": ("dame", "denme", "hasta", "espera", "esperame", "aguanta"),
        "pt": ("me da", "me de", "ate", "pera", "espera", "aguarda"),
        "fr": ("donnez moi", "laissez moi", "jusqua", "attendez", "attends"),
    },
    "time": {
        "en": ("days", "day", "week", "month", "friday", "monday", "weekend", "tomorrow", "payday", "saturday",
               "sunday"),
        "ru": ("дн*", "день", "недел*", "месяц*", "пятниц*", "понедельник*", "выходн*", "завтра", "суббот*",
               "воскресень*"),
        "es": ("dias", "dia", "semana", "mes", "viernes", "lunes", "fin de semana", "finde", "manana", "quincena",
               "sabado",
               "domingo"),
        "pt": ("dias", "dia", "semana", "mes", "sexta", "segunda", "fim de semana", "amanha", "sabado", "domingo"),
        "fr": ("jours", "jour", "semaine", "mois", "vendredi", "lundi", "week end", "demain", "samedi", "dimanche"),
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
        "es": ("corregir", "cambiar", "corrijan", "cambi*", "cambian", "pasarlo", "pasar a"),
        "pt": ("corrigir", "mudar", "trocar", "mud*", "trocar"),
        "fr": ("corriger", "changer", "modifier", "mettez", "echanger", "passer au", "passer a"),
    },
    "sent": {
        "en": ("sent", "transferred"),
        "ru": ("скинул*", "перевел*", "отправил*"),
        "es": ("mande", "envie", "transferi"),
        "pt": ("mandei", "enviei", "transferi"),
        "fr": ("envoye", "vire", "transfere"),
    },
    "cant_find": {
        "en": ("cant find", "cannot find", "can not find", "dont see", "cant see", "where is the"),
        "ru": ("не могу найти", "не нахожу", "не вижу", "не найти"),
        "es": ("no encuentro", "no veo", "no aparece", "no me aparece"),
        "pt": ("nao acho", "nao encontro", "nao vejo", "nao aparece"),
        "fr": ("trouve pas", "vois pas", "trouve plus", "trouve nulle part", "apparait pas"),
    },
    "tracking_code": {
        "en": ("tracking number", "tracking code", "tracking link", "tracking id", "track number"),
        "ru": ("трек", "трек номер", "трекномер", "номер отслеживания", "трек код"),
        "es": ("numero de seguimiento", "codigo de seguimiento", "numero de rastreo", "codigo de rastreo",
               "numero de guia", "link de seguimiento", "enlace de seguimiento"),
        "pt": ("codigo de rastreio", "codigo de rastreamento", "numero de rastreio", "link de rastreio",
               "codigo de rastreo"),
        "fr": ("numero de suivi", "lien de suivi", "code de suivi", "numero de tracking"),
    },
    "invalid": {
        "en": ("doesnt work", "does not work", "not working", "dont work", "invalid", "not found", "wont open",
               "doesnt open", "shows nothing", "doesnt exist"),
        "ru": ("не отслеживается", "не работает", "не найден", "не открывается", "не существует", "неверн*"),
        "es": ("no sirve", "no funciona", "no existe", "no aparece", "no abre", "invalido", "no sale nada"),
        "pt": ("nao funciona", "nao existe", "nao abre", "invalido", "nao aparece", "nao serve"),
        "fr": ("marche pas", "fonctionne pas", "existe pas", "invalide", "ouvre pas", "trouve pas"),
    },
    "why": {
        "en": ("why", "how come"),
        "ru": ("почему", "зачем", "с чего"),
        "es": ("por que", "porque tan"),
        "pt": ("por que", "pq", "porque tao"),
        "fr": ("pourquoi", "comment ca se fait"),
    },
    "costs": {
        "en": ("cost", "costs", "bucks", "dollars", "euros", "charge for", "charging"),
        "ru": ("стоит", "стоимость", "рубл*", "долл*", "берете"),
        "es": ("cuesta", "cuestan", "vale", "cobran", "pesos", "dolares", "euros"),
        "pt": ("custa", "custam", "cobram", "reais", "dolares", "euros"),
        "fr": ("coute", "coutent", "facture*", "euros", "dollars"),
    },
    "where_to": {
        "en": ("where do i", "where can i", "where to", "where is the", "wheres the"),
        "ru": ("где тут", "где можно", "где мне", "где у вас"),
        "es": ("donde puedo", "donde se", "donde esta lo de", "donde le", "donde esta el boton"),
        "pt": ("onde que", "onde posso", "onde fica", "onde eu"),
        "fr": ("ou est ce quon", "ou je peux", "ou peut on", "ou est ce que je", "ou on"),
    },
    "pay_action": {
        "en": ("pay", "checkout", "check out", "cart"),
        "ru": ("оплатить", "оформить оплату", "заплатить", "корзин*"),
        "es": ("pagar", "carrito"),
        "pt": ("pagar", "finaliza*", "pagamento", "carrinho"),
        "fr": ("payer", "paiement", "regler", "panier"),
    },
    "carrier": {
        "en": ("courier", "carrier", "post office", "tracking site"),
        "ru": ("курьер*", "почт*", "транспортн*", "сдэк"),
        "es": ("paqueteria", "correo", "transportista", "mensajeria"),
        "pt": ("transportadora", "correios", "entregador"),
        "fr": ("transporteur", "la poste", "livreur", "colissimo"),
    },
    "nothing": {
        "en": ("no record", "nothing", "no info*", "no trace", "never heard"),
        "ru": ("нет информации", "ничего", "нет данных", "не знают"),
        "es": ("no tiene nada", "nada", "no hay informacion", "no saben"),
        "pt": ("nao tem nada", "nada", "nenhuma informacao", "nao sabem"),
        "fr": ("rien", "aucune info*", "aucune trace", "sait pas"),
    },
    "broke": {
        "en": ("broke", "broken", "cracked", "smashed", "dented", "damaged", "shattered"),
        "ru": ("разбил*", "треснул*", "сломал*", "помял*", "помят*", "раскол*"),
        "es": ("rompio", "roto", "rota", "quebr*", "abollad*", "danad*", "estrell*"),
        "pt": ("quebrou", "quebrad*", "amassad*", "trincou", "rachou"),
        "fr": ("casse*", "brise*", "abime*", "cabosse*", "fissure*"),
    },
    "transit": {
        "en": ("in transit", "during shipping", "in shipping", "on the way", "in the mail"),
        "ru": ("при перевозке", "при доставке", "в пути", "по дороге"),
        "es": ("en el camino", "en el envio", "en el transporte", "en el traslado"),
        "pt": ("no transporte", "no caminho", "na entrega", "no envio"),
        "fr": ("pendant le transport", "pendant la livraison", "en route", "pendant lenvoi"),
    },
    "not_now": {
        "en": ("not today", "cant today", "cant right now"),
        "ru": ("сегодня никак", "сегодня не могу", "не сегодня", "сейчас никак"),
        "es": ("hoy no puedo", "hoy no", "ahora no puedo"),
        "pt": ("hoje nao", "agora nao rola"),
        "fr": ("peux pas aujourdhui", "aujourdhui je peux pas", "pas aujourdhui", "peux pas maintenant"),
    },
    "ago": {
        "en": ("ago", "yesterday", "last night", "this morning"),
        "ru": ("назад", "вчера", "утром"),
        "es": ("hace", "ayer", "anoche", "esta manana"),
        "pt": ("faz", "ontem", "hoje cedo", "hoje de manha"),
        "fr": ("il y a", "hier", "ce matin"),
    },
}

CONCEPTS.update(MORE_CONCEPTS)

# Intent <- two concepts met in the same message (at CUE_WEIGHT unless a weight is given).
CUE_RULES: Final[dict[str, tuple[tuple[str, str] | tuple[str, str, float], ...]]] = {
    "how_to_pay": (("payment", "how"), ("cant_find", "payment", 2.0), ("where_to", "pay_action", 1.5)),
    "payment_failed": (("payment", "failure"), ("charged", "unpaid")),
    "where_is_order": (
        ("parcel", "when"), ("tracking_code", "invalid", 3.0), ("carrier", "nothing", 1.5),
        ("left_yet", "ordering", 1.5),
    ),
    "too_expensive": (("price", "too_high"), ("why", "costs", 2.0)),
    "wrong_item": (("ordering", "wanted"), ("ordering", "fix"), ("ordering", "mistake"), ("forgot", "coupon", 2.0),
                   ("changed_mind", "attribute", 2.2), ("ordered", "arrived", 1.6), ("missing", "contents", 1.6)),
    "not_working": (("device", "fault"), ("black_screen", "device", 1.5), ("intact", "negation", 3.0)),
    "talk_to_person": (("talk", "owner", 2.0),),
    "damaged_item": (("broke", "transit", 2.5),),
    "paid_already": (("payment", "done"), ("sent", "ago"), ("sent", "payment"), ("charged", "payment"),
                     ("paid_past", "link", 2.4)),
    "pay_later": (
        ("payment", "future"), ("give_me", "time"), ("not_now", "time", 1.5), ("next_period", "short_money", 2.6),
    ),
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
    ("not_working", "paid_already"),  # "paid for express and got it fast, but it doesn't charge"
    ("damaged_item", "paid_already"),
    ("cancel", "payment_failed"),  # "the payment did not go through anyway, so just cancel it"
    ("cancel", "where_is_order"),  # "tracking hasn't moved in three weeks, I'm cancelling"
    ("cancel", "pay_later"),  # "haven't paid yet and won't, cancel it"
    ("cancel", "paid_already"),  # "already paid but I changed my mind, how do I cancel?"
    ("talk_to_person", "cancel"),  # "I don't want a bot, get me a manager"
    ("damaged_item", "wrong_item"),  # "ordered a fish tank and it came with the glass cracked"
    ("not_working", "wrong_item"),  # "bought the camera for my dad's car and it shows no picture"
)
PRIORITY_MARGIN: Final = 0.75  # a loser ahead by this much keeps the message
# fmt: on
