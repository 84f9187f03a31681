"""How a typed message is understood: the rules first, the model where the rules are unsure.

The rules (`dialogs.intents.match_intent`) read what their phrases cover precisely; the
model (`dialogs.intent_model`) generalises to wording no phrase names. The model speaks
only where the rules have nothing or little to say, and only when its nearest examples
are close and agree:

- the rules found nothing: the model's label, if its nearest example is at least
  `FILL_SIMILARITY` close and the label has `FILL_SHARE` of the neighbours' votes;
- the rules guessed with low confidence (below `DOUBT_CONFIDENCE`) and saw no close second
  reading (with one, the buyer is asked "which did you mean?" anyway): the model's label
  (unknown included) if its neighbours agree (`OVERRULE_SHARE`) at `OVERRULE_SIMILARITY` or closer;
  if the model leans to another intent less firmly (`ASK_SIMILARITY`, `FILL_SHARE`), that
  intent becomes the match's alternative: the dialog asks "which did you mean?" with two
  buttons rather than guessing.

The thresholds were chosen on a grid over two splits the model had not seen (kinds13 and
kinds14, before they joined its examples), heldout2 and heldout3; neighbouring settings
score within 0.005. heldout5 and heldout6 were written independently and never used to
choose them (docs/intents.md, docs/intents-design.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from typing import Final

from dialogs.intent_model import SECOND_OPINION, Opinion
from dialogs.intents import SMALL_TALK, Intent, IntentMatch, match_intent

FILL_SIMILARITY: Final = 0.9
FILL_SHARE: Final = 0.6
DOUBT_CONFIDENCE: Final = 0.75
OVERRULE_SIMILARITY: Final = 0.91
OVERRULE_SHARE: Final = 0.8
ASK_SIMILARITY: Final = 0.9
MODEL_CONFIDENCE: Final = 0.6  # what a reading by the model alone is worth to the dialogs


def needs_model(match: IntentMatch) -> bool:
    return match.intent is Intent.UNKNOWN or match.confidence < DOUBT_CONFIDENCE


def combine(match: IntentMatch, opinion: Opinion | None) -> IntentMatch:
    """The rules' reading, corrected by the model's opinion where the rules are unsure."""
    if opinion is None or not needs_model(match):
        return match
    label = Intent(opinion.label)
    if match.intent is Intent.UNKNOWN:
        if label is not Intent.UNKNOWN and opinion.similarity >= FILL_SIMILARITY and opinion.share >= FILL_SHARE:
            return replace(match, intent=label, confidence=MODEL_CONFIDENCE, alternative=None)
        return match
    if match.alternative is not None:  # the rules see two close readings: the buyer is asked, not second-guessed
        return match
    if label is not match.intent and opinion.similarity >= OVERRULE_SIMILARITY and opinion.share >= OVERRULE_SHARE:
        confidence = 0.0 if label is Intent.UNKNOWN else MODEL_CONFIDENCE
        return replace(match, intent=label, confidence=confidence, alternative=None)
    content = not {label, match.intent} & SMALL_TALK  # "which did you mean: yes or paid?" is no question
    leaning = content and label not in (match.intent, Intent.UNKNOWN)
    if leaning and opinion.similarity >= ASK_SIMILARITY and opinion.share >= FILL_SHARE:
        return replace(match, alternative=label)
    return match


def understand(text: str, language: str | None = None, *, leave_out: bool = False) -> IntentMatch:
    """`match_intent`, with the model's second opinion where the rules are unsure.

    Blocking on a cache miss (~25 ms): on the event loop, `prefetch` first. `leave_out`: `text` is
    a training message being scored (docs/intents.md), not its own neighbour."""
    match = match_intent(text, language)
    if not needs_model(match):
        return match
    return combine(match, SECOND_OPINION.opinion(text, leave_out))


async def prefetch(texts: Iterable[str]) -> None:
    """Ask the model, in a worker thread, about the texts the rules are unsure of, so
    that the turn that reads them (under the conversation's lock, on the loop) finds
    the answers cached. The buyer's language is not known here; the rules read each
    text with the language they detect, which is what they do in the turn for most."""
    if SECOND_OPINION.off:
        return
    unsure = [t for t in texts if t.strip() and SECOND_OPINION.cached(t) is None and needs_model(match_intent(t))]
    if unsure:
        await asyncio.to_thread(lambda: [SECOND_OPINION.opinion(t) for t in unsure])
