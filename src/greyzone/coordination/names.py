"""Names of people and streets written in Ukrainian, Russian or Latin letters, brought to one key.

The key is a rough phonetic spelling in Latin letters where the usual differences between the
scripts and the transliteration systems vanish: Ukrainian г and Russian г both become ``h`` (as the
Latin "g" of "Sergei"), и/і/ы/й/y/j all ``i``, є/е/э/ye/je ``e``, х/kh ``h``, щ/shch ``sh``, ц/tz
``ts``; apostrophes and soft signs go. The common Ukrainian and Russian forms of one given name
(Олександр/Александр, Микола/Николай, Ганна/Анна …) share a key. Patronymics are left out of a
person's key (one asker gives them, another does not). What remains is compared with fuzzy
matching (rapidfuzz), so a typo or a vowel the systems disagree on costs a few points, not a miss.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from rapidfuzz import fuzz

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "h", "д": "d", "е": "e", "є": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "sh", "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
}  # fmt: skip
_LATIN = (  # after lower-casing and dropping accents; order matters
    ("shch", "sh"), ("sch", "sh"), ("kh", "h"), ("tz", "ts"), ("ph", "f"), ("ck", "k"), ("x", "ks"),
    ("w", "v"), ("q", "k"), ("g", "h"), ("y", "i"), ("j", "i"), ("ie", "e"), ("ii", "i"),
)  # fmt: skip
#: The Ukrainian and Russian (and common Latin) forms of given names that differ by more than a letter.
_GIVEN_FORMS = (
    "Олександр Александр",
    "Олександра Александра",
    "Олексій Алексей",
    "Микола Николай",
    "Петро Пётр Петр",
    "Павло Павел",
    "Дмитро Дмитрий",
    "Михайло Михаил",
    "Федір Фёдор Федор",
    "Василь Василий",
    "Сергій Сергей",
    "Євген Евгений",
    "Юрій Юрий",
    "Володимир Владимир",
    "Ганна Анна",
    "Олена Елена Алёна",
    "Наталія Наталья",
    "Тетяна Татьяна",
    "Катерина Екатерина",
    "Надія Надежда",
    "Ольга Olga",
    "Марія Мария Maria",
    "Любов Любовь",
    "Григорій Григорий",
    "Анатолій Анатолий",
    "Віталій Виталий",
    "Валерій Валерий",
    "Людмила Lyudmila",
    "Іван Иван",
    "Ірина Ирина",
    "Юлія Юлия",
)


def _given() -> dict[str, str]:
    table: dict[str, str] = {}
    for forms in _GIVEN_FORMS:
        keys = [latin_key(f) for f in forms.split()]
        table.update(dict.fromkeys(keys, keys[0]))
    return table


_PATRONYMIC = re.compile(r".{2,}(ovich|evich|ivich|ovna|evna|ivna|ichna|inichna)$")
_LETTERS = re.compile(r"[^a-z ]+")


@functools.cache
def _given_names() -> dict[str, str]:
    return _given()


def latin_key(text: str) -> str:
    """One spelling for the Cyrillic and Latin ways of writing a word or words (lower case, spaces kept)."""
    lowered = text.lower()
    spelt = "".join(_CYRILLIC.get(ch, ch) for ch in lowered)
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", spelt) if not unicodedata.combining(ch))
    plain = _LETTERS.sub(" ", plain.replace("'", ""))
    for old, new in _LATIN:
        plain = plain.replace(old, new)
    plain = re.sub(r"(.)\1+", r"\1", plain)  # doubled letters: Ганна / Hana
    return " ".join(plain.split())


def person_key(name: str) -> str:
    """A person's name as a sorted set of word keys, patronymics left out, given names unified."""
    words = latin_key(name).split()
    if len(words) > 2:
        words = [w for w in words if not _PATRONYMIC.fullmatch(w)] or words
    given = _given_names()
    return " ".join(sorted(given.get(w, w) for w in words))


def name_similarity(a: str, b: str) -> float:
    """0–100: how alike two person keys are: the worst-matched word of the shorter name. One word
    against a full name counts that word only, and at most 80 (a surname alone does not name one person)."""
    if not a or not b:
        return 0.0
    wa, wb = a.split(), b.split()
    if len(wa) >= 2 and len(wb) >= 2:  # every word of the shorter name must meet its like in the other
        short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
        return float(min(max(fuzz.ratio(x, y) for y in long_) for x in short))
    best = max(fuzz.ratio(x, y) for x in wa for y in wb)
    return min(float(best), 80.0)


def phone_key(phone: str) -> str:
    """The last nine digits of a phone number (+380 67 123 45 67, 0671234567 and 067-123-45-67 agree);
    "" when it has fewer than nine."""
    digits = re.sub(r"\D", "", phone)
    return digits[-9:] if len(digits) >= 9 else ""


def is_phone(text: str) -> bool:
    """A phone number as people write one: digits, spaces, dashes, brackets and a leading +, 9 to 15 digits."""
    return bool(re.fullmatch(r"\+?[\d\s\-()]{9,20}", text.strip())) and 9 <= len(re.sub(r"\D", "", text)) <= 15
