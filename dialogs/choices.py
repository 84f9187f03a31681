"""Typed answers to the current step's buttons: the buttons the bot showed last are remembered, and a
typed yes / no, a button's label in words, its number or "the second one" means that button.
Pure: the engine records the step's buttons; dialogs/conversation.py asks `choose_action`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from dialogs.base import Turn
from dialogs.intents import Intent, IntentMatch, clauses, match_intent, phrase_pattern
from dialogs.model import LANGUAGES, Say

MEMORY_KEY: Final = "choices"

#: what a button means when the buyer answers in words: the intents that pick it
ACTION_INTENTS: Final[dict[str, frozenset[Intent]]] = {
    "paid_already": frozenset({Intent.PAID_ALREADY}),
    "payment_failed": frozenset({Intent.PAYMENT_FAILED}),
    "talk_to_person": frozenset({Intent.TALK_TO_PERSON}),
    "pay_later": frozenset({Intent.PAY_LATER}),
    "how_to_pay": frozenset({Intent.HOW_TO_PAY}),
    "still_deciding": frozenset({Intent.STILL_DECIDING}),
    "wrong_item": frozenset({Intent.WRONG_ITEM}),
    "too_expensive": frozenset({Intent.TOO_EXPENSIVE}),
    "cancel": frozenset({Intent.CANCEL}),
    "cancel_order": frozenset({Intent.CANCEL}),
    "where_is_order": frozenset({Intent.WHERE_IS_ORDER}),
    "accept_offer": frozenset({Intent.YES}),
    "decline_offer": frozenset({Intent.NO}),
    "packaging_shown": frozenset({Intent.YES}),
    "packaging_missing": frozenset({Intent.NO}),
    "all_good": frozenset({Intent.YES, Intent.THANKS}),
    "problem": frozenset({Intent.NO}),
    "not_working": frozenset({Intent.NOT_WORKING}),
    "damaged_item": frozenset({Intent.DAMAGED_ITEM}),
}

# Words of the buttons (as buttons.toml labels them) and their paraphrases, for buttons whose meaning is
# not one of the matcher's intents. Checked against every label by tests/dialogs/test_typed_answers.py.
# fmt: off
ACTION_PHRASES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "accept_offer": {
        "en": ("apply it", "apply the discount", "apply the offer", "apply", "take the offer",
               "accept the offer", "i accept", "accept", "ill take it", "ill take the discount"),
        "ru": ("применить", "примените", "применяйте", "примените скидку", "применим скидку",
               "давайте скидку", "беру", "согласен на скидку", "согласна на скидку", "принимаю"),
        "es": ("apliquelo", "aplicalo", "aplique", "aplica", "aplicar", "aplique el descuento",
               "aplica el descuento", "apliquenme el descuento", "acepto", "acepto la oferta", "lo tomo"),
        "pt": ("aplicar", "aplica", "aplique", "pode aplicar", "aplica o desconto", "aceito",
               "aceito a oferta", "quero o desconto"),
        "fr": ("appliquez la", "appliquez", "appliquer", "appliquez la remise", "appliquez la reduction",
               "jaccepte", "j accepte", "je prends", "je prends la remise"),
    },
    "decline_offer": {
        "en": ("not interested", "no thanks", "no thank you", "dont want the discount"),
        "ru": ("не интересно", "не надо", "не нужно", "нет спасибо"),
        "es": ("no me interesa", "no gracias"),
        "pt": ("nao quero", "nao tenho interesse", "nao obrigado", "nao obrigada"),
        "fr": ("ca ne minteresse pas", "ne minteresse pas", "pas interesse", "pas interessee", "non merci"),
    },
    "packaging_shown": {
        "en": ("its visible", "visible", "yes its visible", "you can see it", "its there"),
        "ru": ("упаковка видна", "видна", "видно", "да видна"),
        "es": ("se ve", "si se ve", "se ve bien", "visible"),
        "pt": ("aparece", "sim aparece", "da pra ver", "visivel"),
        "fr": ("on la voit", "on voit", "visible", "oui on la voit"),
    },
    "packaging_missing": {
        "en": ("ill redo it", "redo", "ill redo", "ill send another", "not visible"),
        "ru": ("пересниму", "переснять", "не видна", "не видно"),
        "es": ("la repito", "lo repito", "repito", "no se ve"),
        "pt": ("vou tirar outra", "tirar outra", "vou refazer", "refazer", "refaco", "nao aparece"),
        "fr": ("je la refais", "je refais", "on la voit pas", "on ne la voit pas"),
    },
    "all_good": {
        "en": ("all good", "everything is fine", "everything is good", "all fine", "works fine", "works great"),
        "ru": ("все отлично", "все хорошо", "все в порядке", "все ок", "отлично"),
        "es": ("todo bien", "todo perfecto", "todo esta bien", "funciona bien"),
        "pt": ("tudo certo", "tudo bem", "tudo otimo", "funciona bem"),
        "fr": ("tout va bien", "tout est bien", "tout est ok", "ca marche bien", "nickel"),
    },
    "problem": {
        "en": ("theres a problem", "there is a problem", "a problem", "problem", "issue", "not good"),
        "ru": ("есть проблема", "проблема", "не все хорошо", "не очень"),
        "es": ("hay un problema", "problema", "tengo un problema"),
        "pt": ("tem um problema", "problema", "deu problema"),
        "fr": ("il y a un probleme", "probleme", "un souci", "souci"),
    },
    "damaged_item": {
        "en": ("it arrived damaged", "arrived damaged", "damaged", "broken on arrival", "scratched", "cracked"),
        "ru": ("пришел поврежденным", "поврежден*", "поцарапан*", "треснут*", "разбит*"),
        "es": ("llego danado", "danad*", "rayad*", "roto al llegar"),
        "pt": ("chegou danificado", "danificad*", "riscad*", "trincad*"),
        "fr": ("arrive endommage", "endommage*", "abime*", "raye*", "fissure*"),
    },
    "return_item": {
        "en": ("return it", "return this", "return them", "return the item", "return the order", "send it back",
               "send them back", "want to return", "make a return", "a return", "return"),
        "ru": ("вернуть", "верну", "возврат*", "отправить обратно", "хочу вернуть", "сдать обратно"),
        "es": ("devolver*", "devuelvo", "devolucion", "regresarlo", "regresarla", "regresar el producto"),
        "pt": ("devolver", "devolvo", "devolucao", "mandar de volta", "quero devolver"),
        "fr": ("retourner", "le retourner", "la retourner", "renvoyer", "le renvoyer", "faire un retour",
               "retour"),
    },
}
# Ordinals a buyer uses for a list of buttons ("the second one").
ORDINALS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "en": (("first", "1st"), ("second", "2nd"), ("third", "3rd")),
    "ru": (("перв*",), ("втор*",), ("трет*",)),
    "es": (("primer*",), ("segund*",), ("tercer*",)),
    "pt": (("primeir*",), ("segund*",), ("terceir*",)),
    "fr": (("premier*", "1er", "1ere"), ("deuxieme", "second*", "2e", "2eme"), ("troisieme", "3e", "3eme")),
}
# Words that may stand beside an ordinal in a bare answer ("the second one, please").
ORDINAL_COMPANIONS: Final = frozenset(
    {
        "the", "one", "option", "button", "please", "pls", "i", "want", "take", "ok", "вариант", "кнопка",
        "пожалуйста", "давайте", "el", "la", "lo", "uno", "una", "opcion", "boton", "quiero", "porfa", "por",
        "favor", "o", "a", "um", "uma", "opcao", "botao", "quero", "le", "l", "bouton", "svp", "je", "veux",
        "prends"
    }
)
# fmt: on

_NUMBER = re.compile(r"^\s*(?:#|№|n[°º]?)?\s*(\d)\s*[.)]?\s*$", re.IGNORECASE)
_ACTION_PATTERNS = {
    (action, lang): pattern
    for action, table in ACTION_PHRASES.items()
    for lang in LANGUAGES
    if (pattern := phrase_pattern(table.get(lang, ()))) is not None
}
_ORDINAL_PATTERNS = {lang: [phrase_pattern(words) for words in table] for lang, table in ORDINALS.items()}
#: a message longer than this is not a bare answer (a number, an ordinal)
SHORT_ANSWER_TOKENS: Final = 4


def remember_step_buttons(turn: Turn, step_before: int) -> None:
    """Keep the buttons of the last message that showed some; a new step without buttons forgets them."""
    memory = turn.conversation.memory
    shown = [i for i in turn.intents if isinstance(i, Say) and i.buttons]
    if shown:
        memory[MEMORY_KEY] = [
            {"action": b.action, **({"label": b.label} if b.label else {})} for b in shown[-1].buttons if not b.url
        ]
    elif turn.conversation.step != step_before:
        memory.pop(MEMORY_KEY, None)


def step_buttons(turn: Turn) -> list[dict[str, Any]]:
    return list(turn.conversation.memory.get(MEMORY_KEY) or [])


def exact_choice(text: str, language: str | None, buttons: Sequence[dict[str, Any]]) -> str | None:
    """The button the whole message names: its number, an ordinal, its label or one of its phrases."""
    if not buttons:
        return None
    tokens = [t for clause in clauses(text) for t in clause]
    if (number := _NUMBER.match(text)) and 1 <= int(number.group(1)) <= len(buttons):
        return str(buttons[int(number.group(1)) - 1]["action"])
    line = " ".join(tokens)
    if not line:
        return None
    if len(tokens) <= SHORT_ANSWER_TOKENS:
        for lang in _languages(language):
            for index, pattern in enumerate(_ORDINAL_PATTERNS[lang][: len(buttons)]):
                found = pattern.search(line) if pattern is not None else None
                rest = (line[: found.start()] + line[found.end() :]).split() if found else []
                if found and ORDINAL_COMPANIONS.issuperset(rest):  # "wait a second" is not the second button
                    return str(buttons[index]["action"])
    for button in buttons:
        label = " ".join(t for clause in clauses(str(button.get("label") or "")) for t in clause)
        # a one-word title ("Lamp") only when typed alone: "my lamp is broken" is not a choice
        if label and (line == label or (len(line) >= 4 and line in label) or (" " in label and label in line)):
            return str(button["action"])
    for lang in _languages(language):
        for button in buttons:
            pattern = _ACTION_PATTERNS.get((str(button["action"]), lang))
            if pattern is not None and pattern.fullmatch(line):
                return str(button["action"])
    return None


def loose_choice(text: str, language: str | None, match: IntentMatch, buttons: Sequence[dict[str, Any]]) -> str | None:
    """The button a longer message most likely means: a phrase of one button, else the message's
    intent, else a yes or no that opens the message ("yes please, apply the discount")."""
    if not buttons:
        return None
    line = " ".join(t for clause in clauses(text) for t in clause)
    if (phrased := phrased_action(text, language, [str(b["action"]) for b in buttons])) is not None:
        return phrased
    if (by_intent := _by_intent(match.intent, buttons)) is not None:
        return by_intent
    first = clauses(text)[:1]
    if first and len(first[0]) < len(line.split()):
        opening = match_intent(" ".join(first[0]), match.language or language).intent
        if opening in (Intent.YES, Intent.NO):
            return _by_intent(opening, buttons)
    return None


def phrased_action(text: str, language: str | None, actions: Sequence[str]) -> str | None:
    """The one action of `actions` whose phrases the message holds (the longest phrase wins; a tie is
    no answer): "I'd like to send it back" means return_item where the step takes it, buttons or not."""
    line = " ".join(t for clause in clauses(text) for t in clause)
    hits: dict[str, int] = {}
    for lang in _languages(language):
        for action in actions:
            pattern = _ACTION_PATTERNS.get((action, lang))
            for found in pattern.finditer(line) if pattern is not None else ():
                hits[action] = max(hits.get(action, 0), len(found.group().split()))
    ranked = sorted(hits.items(), key=lambda kv: -kv[1])
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return ranked[0][0]
    return None


def _by_intent(intent: Intent, buttons: Sequence[dict[str, Any]]) -> str | None:
    meaning = [str(b["action"]) for b in buttons if intent in ACTION_INTENTS.get(str(b["action"]), ())]
    return meaning[0] if len(meaning) == 1 else None


def _languages(language: str | None) -> list[str]:
    """The buyer's language first; the others too, since labels are often typed as seen."""
    first = [language] if language in LANGUAGES else []
    return first + [lang for lang in LANGUAGES if lang not in first]
