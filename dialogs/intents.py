"""Free-text understanding for buyer messages: intent matching, language detection and escalation words.
Offline and rule-based: phrase tables live in dialogs/intent_phrases*.py and dialogs/intent_words.py;
text handling in dialogs/intent_text.py; see docs/intents.md for accuracy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from dialogs.intent_cues import CONCEPTS, CUE_RULES, CUE_WEIGHT, PRIORITIES, PRIORITY_MARGIN
from dialogs.intent_phrases import BUYING_PHRASES
from dialogs.intent_phrases_service import SERVICE_PHRASES
from dialogs.intent_text import Clause, Vocabulary, compile_phrases, fold
from dialogs.intent_text import clauses as _clauses
from dialogs.intent_words import (
    ESCALATION,
    LANGUAGE_LETTERS,
    LANGUAGE_WORDS,
    NEGATABLE,
    NEGATIONS,
    NEGATIONS_AFTER,
    OFF_TOPIC,
    SHARED_ACCENTS,
)
from dialogs.model import LANGUAGES

PHRASES: Final = {**BUYING_PHRASES, **SERVICE_PHRASES}


class Intent(StrEnum):
    PAID_ALREADY = "paid_already"
    HOW_TO_PAY = "how_to_pay"
    PAYMENT_FAILED = "payment_failed"
    TOO_EXPENSIVE = "too_expensive"
    WRONG_ITEM = "wrong_item"
    PAY_LATER = "pay_later"
    STILL_DECIDING = "still_deciding"
    CANCEL = "cancel"
    WHERE_IS_ORDER = "where_is_order"
    DAMAGED_ITEM = "damaged_item"
    NOT_WORKING = "not_working"
    TALK_TO_PERSON = "talk_to_person"
    YES = "yes"
    NO = "no"
    THANKS = "thanks"
    GREETING = "greeting"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class IntentMatch:
    intent: Intent
    confidence: float  # 0..1; 0.0 for UNKNOWN
    language: str | None  # given, else detected; None when unsure
    #: a second reading about as likely as `intent` (the dialog may ask which one was meant)
    alternative: Intent | None = None


SMALL_TALK: Final = frozenset({Intent.YES, Intent.NO, Intent.THANKS, Intent.GREETING})
SMALL_TALK_PRIORITY: Final = 0.6  # content intents win over "hi"/"thanks"/"yes" in the same message
OTHER_LANGUAGE_FACTOR: Final = 0.8  # phrases of a language other than the buyer's still count, a bit less
YES_NO_MAX_TOKENS: Final = 4
WEAK_WEIGHT: Final = 0.5  # a topic word ("shipping", "card"): decides only a short message or a tie
STRONG_BONUS: Final = 1.0  # a decisive phrase ("apply the discount") counts one word more
SIDE_FACTOR: Final = 0.7  # a side remark ("that's why I haven't paid") weighs less than the main clause
WEAK_ONLY_MAX_TOKENS: Final = 3  # a longer message with only weak hints stays unknown
WEAK_ONLY_BELOW: Final = 0.9  # ... that is, when its best content reading scores less than this
CLOSE_MARGIN: Final = 0.15  # two content intents this close are a question for the buyer, not a guess
OFF_TOPIC_KEY: Final = "off_topic"

_TIERS: Final = {"~": WEAK_WEIGHT, "": 0.0, "!": STRONG_BONUS}


def _tiers(phrases: Iterable[str]) -> dict[str, list[str]]:
    """Split a phrase list by its marks: weak (``~``), plain, decisive (``!``)."""
    split: dict[str, list[str]] = {mark: [] for mark in _TIERS}
    for phrase in phrases:
        mark = phrase[-1] if phrase[-1:] in ("~", "!") else ""
        split[mark].append(phrase.rstrip("~!").strip())
    return split


def _patterns(table: dict[str, tuple[str, ...]], lang: str) -> list[tuple[str, re.Pattern[str]]]:
    return [(mark, p) for mark, ps in _tiers(table.get(lang, ())).items() if (p := compile_phrases(ps)) is not None]


_TABLES: Final = {**PHRASES, OFF_TOPIC_KEY: OFF_TOPIC}
_PATTERNS: Final[dict[str, dict[str, list[tuple[str, re.Pattern[str]]]]]] = {
    lang: {key: found for key, table in _TABLES.items() if (found := _patterns(table, lang))} for lang in LANGUAGES
}
_CONCEPTS: Final[dict[str, dict[str, re.Pattern[str]]]] = {
    lang: {name: p for name, table in CONCEPTS.items() if (p := compile_phrases(table.get(lang, ()))) is not None}
    for lang in LANGUAGES
}
_VOCABULARY: Final[dict[str, Vocabulary]] = {
    lang: Vocabulary.build(
        (p.rstrip("~!") for table in [*_TABLES.values(), *CONCEPTS.values()] for p in table.get(lang, ())),
        (fold(w) for w in (*LANGUAGE_WORDS.get(lang, "").split(), *NEGATIONS[lang])),
    )
    for lang in LANGUAGES
}
_ORDER: Final = [Intent(i) for i in PHRASES]  # ties go to the intent listed first in the phrase tables
_NEGATIONS: Final = {lang: frozenset(fold(w) for w in words) for lang, words in NEGATIONS.items()}
_ESCALATION: Final = re.compile(
    "|".join(p.pattern for p in (compile_phrases(v) for v in ESCALATION.values()) if p is not None)
)
_HINT_WORDS: Final[dict[str, frozenset[str]]] = {lang: _VOCABULARY[lang].words for lang in LANGUAGE_WORDS}


def clauses(text: str) -> list[list[str]]:
    """The message folded (lowercase, no accents, apostrophes or emoji) and cut into clauses of words."""
    return [c.tokens for c in _clauses(text)]


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for a phrase list written as in dialogs/intent_phrases.py, matched on folded words."""
    return compile_phrases(phrases)


def detect_language(text: str) -> str | None:
    """Best guess among en/ru/es/pt/fr, or None when the text is too short or ambiguous."""
    lowered = text.lower()
    cyrillic = sum(1 for c in lowered if "а" <= c <= "я" or c == "ё")
    latin = sum(1 for c in lowered if "a" <= c <= "z")
    if cyrillic > latin:
        return "ru"
    scores = dict.fromkeys(_HINT_WORDS, 0.0)
    tokens = [t for clause in clauses(text) for t in clause]
    for token in tokens:
        owners = [lang for lang, words in _HINT_WORDS.items() if token in words]
        for lang in owners:
            scores[lang] += 1 / len(owners)
    for lang, letters in LANGUAGE_LETTERS.items():
        scores[lang] += 2 * sum(lowered.count(c) for c in letters)
    for char, langs in SHARED_ACCENTS.items():
        for lang in langs.split():
            scores[lang] += lowered.count(char) / len(langs.split())
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 1 or (len(tokens) <= 2 and second > 0) or top - second < 0.5:
        return None
    return best


def mentions_escalation_words(text: str) -> bool:
    """True when the text mentions dispute/refund/scam/fraud/chargeback/police/lawyer in any language."""
    return any(_ESCALATION.search(" ".join(clause)) for clause in clauses(text))


@dataclass(frozen=True)
class _Hit:
    score: float
    covered: int  # tokens covered by matched phrases
    first: tuple[int, int]  # (clause, offset) of the first match
    strong: bool = False  # the best phrase was a decisive one


def _negated(line: str, start: int, end: int, negations: frozenset[str], language: str) -> bool:
    """A negation in the two words before a phrase, or right after it where the language puts it there."""
    after = line[end:].split()[:1]
    return bool(negations.intersection(line[:start].split()[-2:])) or bool(
        after and after[0] in NEGATIONS_AFTER.get(language, ())
    )


def _weight(mark: str, size: int) -> float:
    plain = min(2.5, 1 + 0.5 * (size - 1))
    return WEAK_WEIGHT * plain if mark == "~" else plain + _TIERS[mark]


def _cues(found: list[Clause], language: str) -> dict[str, float]:
    """Intents read from two concepts in one message (the first one not negated), at the cue weight."""
    negations, concepts = _NEGATIONS[language], _CONCEPTS[language]
    lines = [(" ".join(c.tokens), c.side) for c in found]
    cues: dict[str, float] = {}
    for intent, rules in CUE_RULES.items():
        for first, second, *weight in rules:
            if first not in concepts or second not in concepts:
                continue
            anchors = [
                side for line, side in lines for hit in concepts[first].finditer(line)
                if intent not in NEGATABLE or not negations.intersection(line[: hit.start()].split()[-2:])
            ]  # fmt: skip
            if anchors and any(concepts[second].search(line) for line, _ in lines):
                strength = (weight[0] if weight else CUE_WEIGHT) * (SIDE_FACTOR if all(anchors) else 1.0)
                cues[intent] = max(cues.get(intent, 0.0), strength)
    return cues


def _score(found: list[Clause], language: str, fuzzy: bool) -> dict[str, _Hit]:
    """Score every intent with one language's phrase table: best phrase weight plus a bonus for more hits."""
    negations = _NEGATIONS[language]
    if fuzzy:
        found = [Clause([_VOCABULARY[language].correct(t) for t in c.tokens], c.side) for c in found]
    cues = _cues(found, language)
    hits: dict[str, _Hit] = {}
    for key, patterns in _PATTERNS[language].items():
        weights: list[tuple[float, bool]] = [(cues[key], False)] if key in cues else []
        covered, first = 0, (len(found), 0)
        for number, clause in enumerate(found):
            line = " ".join(clause.tokens)
            for mark, pattern in patterns:
                for hit in pattern.finditer(line):
                    if key in NEGATABLE and _negated(line, hit.start(), hit.end(), negations, language):
                        continue
                    size = len(hit.group().split())
                    covered += size
                    first = min(first, (number, hit.start()))
                    weights.append((_weight(mark, size) * (SIDE_FACTOR if clause.side else 1.0), mark == "!"))
        if weights:
            best, strong = max(weights)
            score = best + 0.2 * min(2, len(weights) - 1)
            small = key in SMALL_TALK and not strong
            hits[key] = _Hit(score * (SMALL_TALK_PRIORITY if small else 1.0), covered, first, strong)
    return hits


def _yes_no(hits: dict[str, _Hit], total: int) -> None:
    """Keep yes/no only for short answers made of them (or a decisive phrase such as "apply the discount");
    a message that is all yes/no words is that answer."""
    greeting = hits.get(Intent.GREETING)
    if greeting and len(hits) == 1 and greeting.covered * 2 < total:  # "hi, are you hiring?" is not a greeting
        del hits[Intent.GREETING]
    yes, no = hits.get(Intent.YES), hits.get(Intent.NO)
    if yes and yes.first == (0, 0) and Intent.THANKS in hits:  # "yes, that would be great, thank you"
        del hits[Intent.THANKS]
    content = any(key not in SMALL_TALK and key != OFF_TOPIC_KEY for key in hits)
    if yes and no:  # "no, it's fine as is": the first answer counts
        del hits[Intent.YES if yes.first > no.first else Intent.NO]
        yes, no = hits.get(Intent.YES), hits.get(Intent.NO)
    covered = (yes.covered if yes else 0) + (no.covered if no else 0)
    for intent in (Intent.YES, Intent.NO):
        if (hit := hits.get(intent)) is None or hit.strong:
            continue
        if hit.first == (0, 0) and not content:  # "no, leave it as it is": an answer, then a remark
            continue
        if (total > YES_NO_MAX_TOKENS and covered < total) or covered * 2 < total:
            del hits[intent]
        elif covered >= total:
            hits[intent] = _Hit(hit.score / SMALL_TALK_PRIORITY + 0.5, hit.covered, hit.first)


def _settle(hits: dict[str, _Hit]) -> set[str]:
    """Apply the priorities between intents read in one message; returns the intents that lost that way."""
    losers: set[str] = set()
    for winner, loser in PRIORITIES * 2:  # twice, so a chain of priorities settles whatever their order
        won, lost = hits.get(winner), hits.get(loser)
        if won and lost and won.score >= 1.0 and lost.score - won.score < PRIORITY_MARGIN:
            if lost.score >= won.score:
                hits[winner] = _Hit(lost.score + 0.01, won.covered, won.first, won.strong)
            losers.add(loser)
    return losers


def _hits(text: str, found: list[Clause], language: str | None) -> tuple[dict[str, _Hit], str | None]:
    given = language.split("-")[0].lower() if language else None
    detected = detect_language(text)
    lang = given if given in LANGUAGES else detected
    hits = _score(found, lang, fuzzy=True) if lang else {}
    if not hits and (lang is None or detected != lang):  # typed in another language than the profile says, or unsure
        factor = 1.0 if lang is None else OTHER_LANGUAGE_FACTOR
        for other in [detected] if detected else [c for c in LANGUAGES if c != lang]:
            for key, hit in _score(found, other, fuzzy=lang is None or other == detected).items():
                if key not in hits or hit.score * factor > hits[key].score:
                    hits[key] = _Hit(hit.score * factor, hit.covered, hit.first, hit.strong)
    return hits, lang


def match_intent(text: str, language: str | None = None) -> IntentMatch:
    """Classify a typed buyer message; returns UNKNOWN (confidence 0) when no phrase fits.

    Phrases of the buyer's language (given, else detected) are tried first, with typo correction. If nothing
    matched, the detected language (or, when detection is unsure, every language) is tried at a lower weight.
    A message whose strongest hint is off-topic, or a longer one with only weak hints, stays UNKNOWN.
    """
    found = _clauses(text)
    hits, lang = _hits(text, found, language)
    total = sum(len(c.tokens) for c in found)
    _yes_no(hits, total)
    off_topic = hits.pop(OFF_TOPIC_KEY, None)
    if not hits:
        return IntentMatch(Intent.UNKNOWN, 0.0, lang)
    settled = _settle(hits)
    ranked = sorted(hits.items(), key=lambda kv: (-kv[1].score, _ORDER.index(Intent(kv[0]))))
    best, top = Intent(ranked[0][0]), ranked[0][1].score
    weak_only = best not in SMALL_TALK and top < WEAK_ONLY_BELOW
    overruled = off_topic and off_topic.score >= top and not ranked[0][1].strong  # a decisive phrase stands
    if overruled or (weak_only and total > WEAK_ONLY_MAX_TOKENS):
        return IntentMatch(Intent.UNKNOWN, 0.0, lang)
    second = ranked[1][1].score if len(ranked) > 1 else 0.0
    raw = max(top, 1.0) if best in SMALL_TALK else top  # "ok" is as certain as a one-word content phrase
    strength = min(1.0, 0.6 + 0.2 * (raw - 0.8))
    alternative = None
    if len(ranked) > 1 and second >= 1.0 and top - second <= CLOSE_MARGIN:
        runner_up = Intent(ranked[1][0])
        alternative = None if {best, runner_up} & SMALL_TALK or runner_up in settled else runner_up
    confidence = round(strength * (0.5 + 0.5 * top / (top + second)), 3)
    return IntentMatch(best, confidence, lang, alternative)


if __name__ == "__main__":
    from dialogs.intent_report import main

    raise SystemExit(main())
