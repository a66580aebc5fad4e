"""Which language a message is in: Ukrainian, Russian or English — or which other one (named, refused).

By script first (Cyrillic, Latin, or another script, named by its Unicode block), then within a script by
the letters only one language has (і ї є ґ are Ukrainian; ы э ъ ё Russian; ў Belarusian; ђ ћ џ љ њ ј
Serbian/Macedonian; ą ę ł ś ź ż Polish; ä ö ü ß German) and its commonest words. Pure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*", re.UNICODE)

UK_LETTERS = set("іїєґ")
RU_LETTERS = set("ыэъё")
OTHER_CYRILLIC = {"be": set("ў"), "sr": set("ђћџљњј")}
UK_WORDS = {"і", "та", "що", "у", "від", "це", "як", "його", "вже", "немає", "є", "біля", "під", "з", "для", "після",
            "також", "ще", "вночі", "вранці", "сьогодні", "вчора", "поранено", "загинув", "загинула", "наші", "ворог"}  # fmt: skip
RU_WORDS = {"и", "что", "от", "это", "как", "его", "уже", "нет", "есть", "возле", "под", "с", "для", "после", "также",
            "еще", "ночью", "утром", "сегодня", "вчера", "ранен", "погиб", "погибла", "наши", "враг"}  # fmt: skip
EN_WORDS = {"the", "of", "in", "and", "to", "a", "is", "was", "on", "at", "by", "with", "from", "near", "no", "after",
            "over", "killed", "wounded", "injured", "shelled", "shelling", "strike", "drone", "attack", "hit", "people",
            "civilians", "dead", "alert", "fighting", "captured", "evacuation", "power", "water", "please", "we"}  # fmt: skip
LATIN_OTHER = {
    "pl": ({"się", "jest", "nie", "w", "na", "że", "oraz", "przez"}, set("ąęłśźżń")),
    "de": ({"der", "die", "und", "das", "ist", "nicht", "mit", "ein", "eine"}, set("äöüß")),
    "fr": ({"le", "la", "les", "des", "et", "est", "dans", "une", "pour"}, set("éèêàç")),
    "es": ({"el", "los", "las", "y", "del", "que", "por", "una", "para"}, set("ñ¿¡")),
}
SCRIPTS = {"ARABIC": "ar", "CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko", "HEBREW": "he",
           "GREEK": "el", "GEORGIAN": "ka", "ARMENIAN": "hy", "DEVANAGARI": "hi", "THAI": "th"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # uk, ru, en — or another ISO 639-1 code, or "" (no words at all)
    confidence: float
    why: str

    @property
    def supported(self) -> bool:
        return self.code in ("uk", "ru", "en")


def detect(text: str) -> Language:  # noqa: PLR0911 (one answer per script and case)
    """The message's language, with how sure and why."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return Language("", 1.0, "no letters: not a message in words")
    scripts: dict[str, int] = {}
    for ch in letters:
        name = unicodedata.name(ch, "")
        script = "CYRILLIC" if "CYRILLIC" in name else "LATIN" if "LATIN" in name else name.split(" ")[0]
        scripts[script] = scripts.get(script, 0) + 1
    main = max(scripts, key=lambda s: scripts[s])
    share = scripts[main] / len(letters)
    lower = text.lower()
    words = {w.lower() for w in WORD.findall(text)}
    if main == "CYRILLIC":
        for code, marks in OTHER_CYRILLIC.items():
            if any(ch in marks for ch in lower):
                return Language(code, 0.9, f"letters only {code} writes: {''.join(sorted(marks & set(lower)))}")
        from greyzone.text.morph import known

        cyrillic = [w for w in words if all("CYRILLIC" in unicodedata.name(ch, "") for ch in w)]
        only_uk = sum(1 for w in cyrillic if known("uk", w) and not known("ru", w))
        only_ru = sum(1 for w in cyrillic if known("ru", w) and not known("uk", w))
        uk = 3 * sum(ch in UK_LETTERS for ch in lower) + len(words & UK_WORDS) + 2 * only_uk
        ru = 3 * sum(ch in RU_LETTERS for ch in lower) + len(words & RU_WORDS) + 2 * only_ru
        if uk == ru:
            return Language("uk", 0.5 * share, "Cyrillic with no letter or word only one of uk/ru has")
        code = "uk" if uk > ru else "ru"
        return Language(
            code,
            share * max(uk, ru) / (uk + ru),
            f"uk score {uk}, ru score {ru} (letters ×3, dictionary words ×2, words)",
        )
    if main == "LATIN":
        english = len(words & EN_WORDS)
        scores = {
            code: len(words & ws) + 2 * sum(ch in marks for ch in lower) for code, (ws, marks) in LATIN_OTHER.items()
        }
        other = max(scores, key=lambda c: scores[c])
        if scores[other] > english:
            return Language(other, 0.8, f"{other} words or letters ({scores[other]}) over English ({english})")
        return Language("en", share * (0.9 if english else 0.5), f"{english} English words")
    for key, code in SCRIPTS.items():
        if main.startswith(key):
            return Language(code, share, f"written in the {main.title()} script")
    return Language(main.lower()[:8] or "?", share, f"written in the {main.title()} script")
