"""Free-text understanding for buyer messages: intent matching, language detection and escalation words.
Offline and rule-based: phrase tables live in dialogs/intent_phrases.py; see docs/intents.md for accuracy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from dialogs.intent_phrases import (
    EMOJI_WORDS,
    ESCALATION,
    LANGUAGE_LETTERS,
    LANGUAGE_WORDS,
    NEGATABLE,
    NEGATIONS,
    PHRASES,
    SHARED_ACCENTS,
)
from dialogs.model import LANGUAGES


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


SMALL_TALK: Final = frozenset({Intent.YES, Intent.NO, Intent.THANKS, Intent.GREETING})
SMALL_TALK_PRIORITY: Final = 0.6  # content intents win over "hi"/"thanks"/"yes" in the same message
OTHER_LANGUAGE_FACTOR: Final = 0.8  # phrases of a language other than the buyer's still count, a bit less
YES_NO_MAX_TOKENS: Final = 4
MIN_FUZZY_LEN: Final = 5

_APOSTROPHES = re.compile(r"['’`´]")
_CLAUSE_BREAK = re.compile(r"[.,;:!?¿¡()\n]+|\s[-–—]+\s|\bbut\b|\bpero\b|\bно\b")
_NON_WORD = re.compile(r"[^\w\s]|_")
_REPEATS = re.compile(r"([^\W\d_])\1+")


def _fold(text: str) -> str:
    """Lowercase, drop apostrophes and accents, read emoji, collapse repeated letters; keeps punctuation."""
    for emoji, word in EMOJI_WORDS.items():
        text = text.replace(emoji, f" {word} ")
    text = _APOSTROPHES.sub("", text.lower())
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _REPEATS.sub(r"\1", text)


def _clauses(text: str) -> list[list[str]]:
    parts = _CLAUSE_BREAK.split(_fold(text))
    return [tokens for part in parts if (tokens := _NON_WORD.sub(" ", part).split())]


def _words(phrase: str) -> list[str]:
    words: list[str] = []
    for raw in _fold(phrase).split():
        words += _NON_WORD.sub(" ", raw).split()
        if raw.endswith("*") and words:
            words[-1] += "*"
    return words


def _compile(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex per phrase list; longest alternatives first so the most specific phrase wins."""
    alternatives = []
    for words in sorted((_words(p) for p in phrases), key=lambda w: -len(" ".join(w))):
        alternatives.append(r"\s".join(re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words))
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)") if alternatives else None


def _deletes(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or swap of neighbours."""
    if len(a) > len(b):
        a, b = b, a
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    if len(a) < len(b):
        i = diffs[0] if diffs else len(a)
        return len(b) - len(a) == 1 and a[i:] == b[i + 1 :]
    return len(diffs) == 1 or (len(diffs) == 2 and diffs[1] - diffs[0] == 1 and a[diffs[0]] == b[diffs[1]])


@dataclass(frozen=True)
class _Vocabulary:
    """Known words and wildcard stems of one language, indexed by single deletions for typo correction."""

    words: frozenset[str]
    stems: frozenset[str]
    by_delete: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, phrases: Iterable[str], common: Iterable[str]) -> _Vocabulary:
        words: set[str] = set(common)
        stems: set[str] = set()
        for phrase in phrases:
            for word in _words(phrase):
                (stems.add(word[:-1]) if word.endswith("*") else words.add(word))
        index: dict[str, list[str]] = {}
        for word in sorted(words | stems):
            if len(word) >= MIN_FUZZY_LEN:
                for key in _deletes(word):
                    index.setdefault(key, []).append(word)
        return cls(frozenset(words), frozenset(stems), {k: tuple(v) for k, v in index.items()})

    def correct(self, token: str) -> str:
        """Return token, or the single known word/stem within one edit of it (typo fix)."""
        if len(token) < MIN_FUZZY_LEN or token in self.words or any(token.startswith(s) for s in self.stems):
            return token
        near = {c for key in _deletes(token) for c in self.by_delete.get(key, ()) if _one_edit(token, c)}
        near = {c for c in near if c[0] == token[0]}  # buyers rarely mistype the first letter
        if len(words := near & self.words) == 1:
            return words.pop()
        for length in sorted({len(s) for s in self.stems if len(s) > MIN_FUZZY_LEN}, reverse=True):
            head = token[:length]
            near = {c for key in _deletes(head) for c in self.by_delete.get(key, ()) if _one_edit(head, c)}
            near = {c for c in near if c[0] == token[0]}
            if len(stems := near.intersection(self.stems)) == 1:
                return stems.pop() + token[length:]
        return token


_PATTERNS: Final[dict[str, dict[Intent, re.Pattern[str]]]] = {
    lang: {
        Intent(intent): pattern
        for intent, table in PHRASES.items()
        if (pattern := _compile(table.get(lang, ()))) is not None
    }
    for lang in LANGUAGES
}
_VOCABULARY: Final[dict[str, _Vocabulary]] = {
    lang: _Vocabulary.build(
        (p for table in PHRASES.values() for p in table.get(lang, ())),
        (_fold(w) for w in (*LANGUAGE_WORDS.get(lang, "").split(), *NEGATIONS[lang])),
    )
    for lang in LANGUAGES
}
_ORDER: Final = [Intent(i) for i in PHRASES]  # ties go to the intent listed first in the phrase tables
_NEGATIONS: Final = {lang: frozenset(_fold(w) for w in words) for lang, words in NEGATIONS.items()}
_ESCALATION: Final = re.compile(
    "|".join(p.pattern for p in (_compile(v) for v in ESCALATION.values()) if p is not None)
)
_HINT_WORDS: Final[dict[str, frozenset[str]]] = {lang: _VOCABULARY[lang].words for lang in LANGUAGE_WORDS}


def detect_language(text: str) -> str | None:
    """Best guess among en/ru/es/pt/fr, or None when the text is too short or ambiguous."""
    lowered = text.lower()
    cyrillic = sum(1 for c in lowered if "а" <= c <= "я" or c == "ё")
    latin = sum(1 for c in lowered if "a" <= c <= "z")
    if cyrillic > latin:
        return "ru"
    scores = dict.fromkeys(_HINT_WORDS, 0.0)
    tokens = [t for clause in _clauses(text) for t in clause]
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
    return any(_ESCALATION.search(" ".join(clause)) for clause in _clauses(text))


@dataclass(frozen=True)
class _Hit:
    score: float
    covered: int  # tokens covered by matched phrases
    first: tuple[int, int]  # (clause, offset) of the first match


def _score(clauses: list[list[str]], language: str, fuzzy: bool) -> dict[Intent, _Hit]:
    """Score every intent with one language's phrase table: best phrase weight plus a bonus for more hits."""
    negations = _NEGATIONS[language]
    if fuzzy:
        clauses = [[_VOCABULARY[language].correct(t) for t in clause] for clause in clauses]
    hits: dict[Intent, _Hit] = {}
    for intent, pattern in _PATTERNS[language].items():
        weights: list[float] = []
        covered, first = 0, (len(clauses), 0)
        for number, clause in enumerate(clauses):
            line = " ".join(clause)
            for found in pattern.finditer(line):
                if intent in NEGATABLE and negations.intersection(line[: found.start()].split()[-2:]):
                    continue
                size = len(found.group().split())
                covered += size
                first = min(first, (number, found.start()))
                weights.append(min(2.5, 1 + 0.5 * (size - 1)))
        if weights:
            score = max(weights) + 0.2 * min(2, len(weights) - 1)
            hits[intent] = _Hit(score * (SMALL_TALK_PRIORITY if intent in SMALL_TALK else 1.0), covered, first)
    return hits


def _yes_no(hits: dict[Intent, _Hit], total: int) -> None:
    """Keep yes/no only for short answers made of them; a message that is all yes/no words is that answer."""
    yes, no = hits.get(Intent.YES), hits.get(Intent.NO)
    if yes and no:  # "no, it's fine as is": the first answer counts
        del hits[Intent.YES if yes.first > no.first else Intent.NO]
    covered = (yes.covered if yes else 0) + (no.covered if no else 0)
    for intent in (Intent.YES, Intent.NO):
        if (hit := hits.get(intent)) and (total > YES_NO_MAX_TOKENS or covered * 2 < total):
            del hits[intent]
        elif hit and covered >= total:
            hits[intent] = _Hit(hit.score / SMALL_TALK_PRIORITY + 0.5, hit.covered, hit.first)


def match_intent(text: str, language: str | None = None) -> IntentMatch:
    """Classify a typed buyer message; returns UNKNOWN (confidence 0) when no phrase fits.

    Phrases of the buyer's language (given, else detected) are tried first, with typo correction. If nothing
    matched, the detected language (or, when detection is unsure, every language) is tried at a lower weight.
    """
    given = language.split("-")[0].lower() if language else None
    detected = detect_language(text)
    lang = given if given in LANGUAGES else detected
    clauses = _clauses(text)
    hits = _score(clauses, lang, fuzzy=True) if lang else {}
    if not hits and (lang is None or detected != lang):  # typed in another language than the profile says, or unsure
        factor = 1.0 if lang is None else OTHER_LANGUAGE_FACTOR
        for other in [detected] if detected else [c for c in LANGUAGES if c != lang]:
            for intent, hit in _score(clauses, other, fuzzy=lang is None or other == detected).items():
                if intent not in hits or hit.score * factor > hits[intent].score:
                    hits[intent] = _Hit(hit.score * factor, hit.covered, hit.first)
    _yes_no(hits, sum(len(c) for c in clauses))
    if not hits:
        return IntentMatch(Intent.UNKNOWN, 0.0, lang)
    ranked = sorted(hits.items(), key=lambda kv: (-kv[1].score, _ORDER.index(kv[0])))
    best, top = ranked[0][0], ranked[0][1].score
    second = ranked[1][1].score if len(ranked) > 1 else 0.0
    raw = max(top, 1.0) if best in SMALL_TALK else top  # "ok" is as certain as a one-word content phrase
    strength = min(1.0, 0.6 + 0.2 * (raw - 0.8))
    return IntentMatch(best, round(strength * (0.5 + 0.5 * top / (top + second)), 3), lang)


if __name__ == "__main__":
    from dialogs.intent_report import main

    raise SystemExit(main())
