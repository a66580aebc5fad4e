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
    try:
        return bool(analyser(lang).word_is_known(word))
    except (KeyError, ValueError):  # pymorphy3 fails on letters with no Unicode name (Tangut, …)
        return False


@cache
def normal_forms(word: str) -> tuple[str, ...]:
    """Every dictionary form (nominative, infinitive) Ukrainian and Russian give the word, most likely first."""
    found: list[str] = []
    for lang in ("uk", "ru"):
        try:
            parses = analyser(lang).parse(word)
        except (KeyError, ValueError):  # pymorphy3 fails on letters with no Unicode name (Tangut, …)
            return ()
        for parse in parses:
            if parse.normal_form not in found:
                found.append(parse.normal_form)
    return tuple(found)


@cache
def proper_noun(word: str) -> bool:
    """Whether Russian's dictionary knows the word as a place, a first name or a surname."""
    try:
        parses = analyser("ru").parse(word)
    except (KeyError, ValueError):
        return False
    return any({"Geox", "Name", "Surn"} & set(str(p.tag).replace(" ", ",").split(",")) for p in parses)
