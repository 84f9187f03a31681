"""Word lists of the intent matcher (dialogs/intents.py) besides the phrase tables: emoji, negations,
hedges, side clauses, off-topic hints, escalation words and language hints.
"""

from __future__ import annotations

from typing import Final

# fmt: off
# Emoji that carry an answer; all other emoji and punctuation are dropped.
EMOJI_WORDS: Final[dict[str, str]] = {"👍": "ok", "👌": "ok", "✅": "ok", "👎": "no", "🙏": "thanks"}

# Negation words: a phrase of a NEGATABLE intent right after one of these does not count.
NEGATIONS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("not", "dont", "didnt", "havent", "hasnt", "never", "cant", "cannot", "wont", "isnt", "doesnt", "wasnt",
           "arent", "aint"),
    "ru": ("не", "ни", "нельзя"),
    "es": ("no", "nunca", "ni", "tampoco"),
    "pt": ("nao", "nunca", "nem"),
    "fr": ("ne", "pas", "nai", "jamais", "nest", "nen", "n"),
}
NEGATABLE: Final[frozenset[str]] = frozenset(
    {"paid_already", "cancel", "too_expensive", "talk_to_person", "thanks", "yes"}
)
# Negation words that follow the verb ("ça marche pas", "je paie plus"): a NEGATABLE phrase right before one
# of these does not count either.
NEGATIONS_AFTER: Final[dict[str, tuple[str, ...]]] = {"fr": ("pas", "plus", "jamais")}

# Words that always hand the chat to a human (dispute, refund, scam, fraud, chargeback, police, lawyer).
ESCALATION: Final[dict[str, tuple[str, ...]]] = {
    "en": ("dispute*", "refund*", "scam*", "fraud*", "chargeback*", "charge back", "police", "cops", "lawyer*",
           "attorney*", "sue you", "court", "money back"),
    "ru": ("спор", "спора", "спору", "споре", "спором", "споры", "оспор*", "диспут*", "возврат* денег",
           "возврат* средств", "верните деньги", "вернуть деньги", "верните мои деньги", "рефанд", "мошен*",
           "обман*", "развод", "кидал*", "чарджбек*", "чарджбэк*", "полици*", "юрист*", "адвокат*", "в суд", "суд",
           "судом"),
    "es": ("reembols*", "devolucion del dinero", "devuelvan mi dinero", "devuelvanme*", "mi dinero de vuelta",
           "estaf*", "fraud*", "disputa*", "contracargo*", "policia", "denuncia*", "abogad*", "demandar*",
           "ladron*"),
    "pt": ("reembols*", "estorno", "estornar", "devolucao do dinheiro", "meu dinheiro de volta", "golpe*",
           "golpista*", "fraud*", "disputa*", "chargeback", "policia", "advogad*", "procon", "processar"),
    "fr": ("rembours*", "arnaqu*", "escroc*", "escroquer*", "fraud*", "litige*", "opposition", "police",
           "gendarmerie", "avocat*", "plainte", "tribunal"),
}

# Language hints: common words (accent-free, lowercase, space separated) per Latin-script language.
LANGUAGE_WORDS: Final[dict[str, str]] = {
    "en": "i im ive ill my me you your it its is are the a an to of and or for with on in this that what "
          "where when how why do does did dont didnt not have has was will can cant please pls thanks thank "
          "yes no hi hello order paid pay already still want u ur yet wrong item got",
    "es": "el la los las lo un una es esta estoy mi mis tu que de del y o por para con como donde cuando ya "
          "pero muy mas hola gracias porfa favor quiero tengo puedo pedido pague pago no si se me le hay "
          "todavia aun llega talla tarjeta ahora despues",
    "pt": "o a os as um uma e eu meu minha voce vc de do da dos das que com pra para por como onde quando "
          "ja mas muito mais oi obrigado obrigada quero tenho posso pedido paguei nao sim ainda ta tem pode "
          "chegou chega cartao depois agora isso",
    "fr": "le la les un une des du de je j jai mon ma mes vous tu il elle est cest et ou pour avec pas ne "
          "quand comment merci bonjour oui non svp commande paye deja mais tres plus ca sur au aux",
}
# Letters that point to one language, and accents shared by some (checked before accents are stripped).
LANGUAGE_LETTERS: Final[dict[str, str]] = {"es": "ñ¿¡", "pt": "ãõ", "fr": "èùœëîïûÿ"}
SHARED_ACCENTS: Final[dict[str, str]] = {
    "ç": "pt fr", "á": "es pt", "í": "es pt", "ó": "es pt", "ú": "es pt",
    "â": "pt fr", "ê": "pt fr", "ô": "pt fr", "à": "fr", "é": "es pt fr",
}
# Words that open a side remark ("..., that's why I haven't paid", "... although there is money on it"): the
# clause they open weighs less than the main one.
SIDE_MARKERS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("because", "cause", "thats why", "which is why", "so i", "although", "even though", "though", "even if",
           "despite"),
    "ru": ("поэтому", "потому что", "так как", "хотя", "несмотря на", "из за этого", "вот и"),
    "es": ("porque", "por eso", "ya que", "aunque", "a pesar de", "asi que"),
    "pt": ("porque", "por isso", "ja que", "embora", "apesar de", "mesmo que", "mesmo com", "entao"),
    "fr": ("parce que", "car", "cest pour ca", "du coup", "alors que", "bien que", "meme si", "pourtant",
           "puisque"),
}

# Hints of a message about something else (spam, taxes and duties, other shops): scored like an intent;
# when they weigh the most, the message stays unknown. Birthdays and other shops are plain hints, not decisive:
# buyers name them in real requests ("a present for her birthday, where is it?", "cheaper on Amazon").
OFF_TOPIC: Final[dict[str, tuple[str, ...]]] = {
    "en": ("hiring!", "job opening*!", "vacanc*!", "work for you!",
           "customs fee*!", "customs charge*!", "customs tax*!", "pay customs!", "pay at customs!",
           "customs duty!", "customs duties!", "duty!", "duties!", "import tax*!", "import fee*!", "vat!", "tax!",
           "taxes!", "followers!", "visit my page!", "visit my profile!", "click here!", "earn money!",
           "what time is it!", "do you sell!", "sell this on!", "on amazon", "birthday", "return it",
           "send it back", "paperwork", "customs documents"),
    "ru": ("ваканси*!", "на работу!",
           "растаможк*!", "платить на таможне!", "таможенн* плат*!",
           "пошлин*!", "таможенн* пошлин*!", "ндс!", "налог*!", "таможенн* сбор*!", "сборы!", "раскрутк*!",
           "подписчик*!", "переходи по ссылке!", "перейдите по ссылке!", "жми на ссылку!",
           "сколько времени!", "который час!",
           "тоже продаете!", "вайлдберриз", "озон", "день рождени*", "вернуть товар", "если захочу вернуть",
           "документы для таможни", "заработ*"),
    "es": ("contratando!", "vacante*!", "empleo!",
           "cargos de aduana!", "gastos de aduana!", "pagar aduana!", "pagar en aduana!",
           "impuesto*!", "arancel*!", "iva!", "tasa de importacion!", "seguidores!", "visita mi perfil!",
           "visita mi pagina!", "que hora es!", "tambien venden!", "mercado libre", "cumpleanos", "devolver",
           "devolverlo", "papeles de aduana", "documentos"),
    "pt": ("contratando!", "vagas!", "vaga de emprego!", "emprego!",
           "taxa de alfandega!", "taxas alfandegarias!", "taxa alfandegaria!", "pagar alfandega!",
           "pagar na alfandega!",
           "imposto*!", "taxa de importacao!", "taxa da receita!", "receita federal!", "seguidores!",
           "acesse meu perfil!", "que horas sao!", "vendem no!", "mercado livre", "aniversario", "devolver",
           "documento da alfandega", "documentos"),
    "fr": ("recrut*!", "offre demploi!", "emploi!",
           "frais de douane!", "payer la douane!", "payer a la douane!", "taxes douanieres!",
           "droits de douane!", "droit de douane!", "taxe*!", "tva!", "abonnes!", "visitez mon profil!",
           "quelle heure!", "vous vendez aussi!", "sur amazon", "anniversaire", "renvoyer", "retourner",
           "papiers de douane", "justificatifs", "gagnez", "gagner de largent"),
}
# fmt: on
