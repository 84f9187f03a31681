"""More concepts for the cue pairs of dialogs/intent_cues.py (kept apart so each module stays small): words of
dispatch, screens and buttons, tight money, payment links, shop owners, what came against what was ordered,
parts missing from a set. Syntax as in intent_phrases.py."""

from __future__ import annotations

from typing import Final

# fmt: off
MORE_CONCEPTS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "left_yet": {
        "en": ("has it left", "left yet", "shipped yet", "sent out yet", "gone out", "sent out to", "dispatched"),
        "ru": ("уже отправили", "его отправили", "отправили на", "отправлен", "ушел"),
        "es": ("ya salio", "ya lo mandaron", "ya lo enviaron", "lo mandaron a", "ya se envio", "despachado"),
        "pt": ("ja saiu", "ja foi enviado", "ja mandaram", "foi pro", "ja despacharam", "despachado"),
        "fr": ("est partie", "est parti", "deja expedie*", "partie a", "a ete expedie*"),
    },
    "black_screen": {
        "en": ("stays black", "black screen", "keeps restarting", "do nothing", "does nothing", "reboot*"),
        "ru": ("экран черн*", "черный экран", "перезагруж*", "не реагиру*"),
        "es": ("se queda negra", "pantalla negra", "se reinicia", "reinicia*", "no hacen nada", "no hace nada"),
        "pt": ("fica preta", "tela preta", "reinicia*", "nao fazem nada", "nao faz nada"),
        "fr": ("reste noir", "ecran noir", "redemarre", "font rien", "fait rien"),
    },
    "next_period": {
        "en": ("next month", "next week", "end of the month", "next friday"),
        "ru": ("в следующем месяце", "на следующей неделе", "в конце месяца"),
        "es": ("mes que viene", "proximo mes", "semana que viene", "fin de mes"),
        "pt": ("mes que vem", "proximo mes", "semana que vem", "fim do mes"),
        "fr": ("mois prochain", "semaine prochaine", "fin du mois", "fin de mois"),
    },
    "short_money": {
        "en": ("money is tight", "tight on money", "short on money", "broke", "no money", "low on cash"),
        "ru": ("туго с деньгами", "нет денег", "денег нет", "на мели"),
        "es": ("corto de dinero", "sin dinero", "no tengo dinero", "sin lana", "apretado"),
        "pt": ("apertado", "sem dinheiro", "to liso", "duro"),
        "fr": ("a sec", "pas dargent", "fauche", "sans argent"),
    },
    "link": {
        "en": ("link", "screenshot", "attached", "proof"),
        "ru": ("ссылк*", "скрин*", "прикрепил*", "чек"),
        "es": ("link", "enlace", "captura", "comprobante"),
        "pt": ("link", "print", "comprovante"),
        "fr": ("lien", "capture", "recu"),
    },
    "paid_past": {
        "en": ("paid", "payed"),
        "ru": ("оплатил*", "заплатил*"),
        "es": ("pague", "pagado"),
        "pt": ("paguei", "pago"),
        "fr": ("paye", "payee", "jai paye", "regle"),
    },
    "changed_mind": {
        "en": ("changed my mind", "change my mind"),
        "ru": ("передумал*",),
        "es": ("cambie de opinion", "cambie de idea"),
        "pt": ("mudei de ideia", "mudei de opiniao"),
        "fr": ("change davis", "changer davis"),
    },
    "attribute": {
        "en": ("colour", "color", "size", "model"),
        "ru": ("цвет*", "размер*", "модел*"),
        "es": ("color", "talla", "modelo"),
        "pt": ("cor", "tamanho", "modelo"),
        "fr": ("couleur", "taille", "modele"),
    },
    "talk": {
        "en": ("talk", "speak", "chat"),
        "ru": ("поговорить", "связаться", "пообщаться"),
        "es": ("hablar",),
        "pt": ("falar",),
        "fr": ("parler",),
    },
    "owner": {
        "en": ("whoever runs", "the owner", "shop owner", "manager", "boss", "in charge"),
        "ru": ("владел*", "руководител*", "менеджер*", "хозя*", "начальств*"),
        "es": ("dueno", "encargado", "gerente", "jefe", "responsable"),
        "pt": ("dono", "gerente", "responsavel", "chefe"),
        "fr": ("patron", "responsable", "gerant", "proprietaire", "chef"),
    },
    # "looks brand new, but it won't turn on": no damage, a fault
    "intact": {
        "en": ("looks brand new", "looks new", "not a scratch", "no scratch*", "no damage", "not damaged",
               "never dropped", "perfect condition"),
        "ru": ("как новый", "как новая", "как новое", "ни царапин*", "без царапин", "без повреждений", "целый",
               "целая", "не падал*", "не роняли"),
        "es": ("se ve nuev*", "sin un rasguno", "sin rasgu*", "nuevecit*", "sin danos", "sin dano", "como nuev*",
               "impecable"),
        "pt": ("novinh*", "sem um arranhao", "sem arranh*", "sem risco*", "parece nov*", "como nov*", "intact*",
               "perfeit*"),
        "fr": ("comme neuf", "comme neuve", "pas une rayure", "aucune rayure", "sans une rayure", "nickel",
               "intact*", "jamais pris un coup", "aucun choc"),
    },
    "negation": {
        "en": ("not", "doesnt", "dont", "wont", "cant", "no", "nothing", "stopped", "dies"),
        "ru": ("не", "нет", "ничего", "перестал*"),
        "es": ("no", "nada", "dejo de"),
        "pt": ("nao", "nada", "parou"),
        "fr": ("pas", "rien", "plus", "arrete"),
    },
    # "it came in black, I ordered the white one": what arrived against what the buyer ordered
    "arrived": {
        "en": ("came", "arrived", "got", "received", "sent me", "you sent", "inside is", "inside was", "in the box",
               "in the package", "there are", "there were", "were in", "was in", "is size", "are size"),
        "ru": ("пришел", "пришла", "пришло", "пришли", "прислали", "получил*", "в коробке", "в пакете", "внутри",
               "тут", "а тут", "здесь"),
        "es": ("llego", "llegaron", "vino", "vinieron", "me mandaron", "me mandan", "mandan", "me enviaron",
               "recibi", "me trajo", "son del", "es del"),
        "pt": ("chegou", "chegaram", "veio", "vieram", "mandaram", "recebi", "era um", "era uma"),
        "fr": ("recu", "recois", "arrive", "arrivee", "envoye", "dans le carton", "dans le colis", "il y a",
               "dedans", "font du", "fait du"),
    },
    "ordered": {
        "en": ("i ordered", "ordered one", "i bought", "i picked", "i selected", "i chose", "i paid for",
               "the listing", "on the order", "in the order", "i asked for", "not what i ordered"),
        "ru": ("заказывал*", "заказал*", "брал*", "купил*", "в заказе", "в описании", "выбирал*", "выбрал*"),
        "es": ("pedi", "compre", "puse", "en el anuncio", "en la foto", "en la descripcion", "por el que pague",
               "elegi", "escogi"),
        "pt": ("pedi", "comprei", "na descricao", "no anuncio", "escolhi"),
        "fr": ("jai commande", "javais commande", "jai achete", "javais achete", "javais selectionne",
               "javais choisi", "javais demande", "jai demande", "moi cetait"),
    },
    "missing": {
        "en": ("missing", "without the", "without a", "only", "not included", "arent there", "isnt there",
               "no charger", "incomplete"),
        "ru": ("не хватает", "нет", "неполн*", "без", "не положили", "только", "всего"),
        "es": ("faltan", "falta", "sin", "solo vinieron", "solo vino", "solito", "no venia", "no vino", "no hay"),
        "pt": ("faltando", "falta", "faltou", "sem", "so veio", "so vieram", "vieram so", "veio so"),
        "fr": ("manque", "il manque", "sans", "quun seul", "quune seule", "seulement", "ny en a que"),
    },
    "contents": {
        "en": ("listing", "description", "the set", "set should", "the kit", "kit", "the box", "pack*",
               "included", "pieces", "in the set"),
        "ru": ("в описании", "набор*", "комплект*", "в коробке", "в пакете", "штук", "предмет*", "в заказе"),
        "es": ("anuncio", "descripcion", "set", "kit", "caja", "paquete*", "combo", "incluid*", "piezas", "juego"),
        "pt": ("descricao", "kit", "caixa", "pacote*", "combo", "incluid*", "pecas", "conjunto", "jogo"),
        "fr": ("description", "lot", "coffret", "kit", "carton", "paquet*", "inclus", "pieces", "ensemble"),
    },
}
# fmt: on
