"""More concepts for the cue pairs of dialogs/intent_cues.py (kept apart so each module stays small): words of
dispatch, screens and buttons, tight money, payment links, shop owners. Syntax as in intent_phrases.py."""

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
}
# fmt: on
