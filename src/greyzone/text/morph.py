"""The Ukrainian and Russian morphological analysers (pymorphy3 with its dictionaries), loaded once."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def analyser(lang: str) -> Any:
    """pymorphy3's analyser for ``uk`` or ``ru``."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=lang)


@cache
def known(lang: str, word: str) -> bool:
    """Whether the language's dictionary knows the word (not only guesses its forms)."""
    return bool(analyser(lang).word_is_known(word))


@cache
def normal_forms(word: str) -> tuple[str, ...]:
    """Every dictionary form (nominative, infinitive) Ukrainian and Russian give the word, most likely first."""
    found: list[str] = []
    for lang in ("uk", "ru"):
        for parse in analyser(lang).parse(word):
            if parse.normal_form not in found:
                found.append(parse.normal_form)
    return tuple(found)
