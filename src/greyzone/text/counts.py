"""Killed and injured as a message states them — only when stated: "двоє поранених" is 2, "є поранені" is
stated but unknown (never 0), "без жертв" is 0, nothing said is nothing. And for an evacuation request,
how many people and whether the one asking is asking for others (a proxy). Pure.

A count is a number (digits, or a number word in any of its forms: "троє", "трьох", "три", "трое",
"трёх", "three") next to a word of death or injury (its stem: "загин", "погиб", "killed", "поранен",
"ранен", "wounded", …) within a few words, either side; a death or injury word with a singular person
("загинула жінка", "погиб мужчина", "a woman was killed") is one. Each count says the words it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER_WORDS = {
    1: ("один", "одна", "одну", "одного", "одне", "одним", "одной", "one", "a", "an"),
    2: ("два", "дві", "двоє", "двох", "двом", "двое", "две", "двух", "двоих", "двум", "two"),
    3: ("три", "троє", "трьох", "трое", "трех", "трёх", "троих", "трем", "трьом", "three"),
    4: ("чотири", "четверо", "чотирьох", "четыре", "четырех", "четырёх", "четверых", "four"),
    5: ("п'ять", "п'ятеро", "п'ятьох", "пять", "пятеро", "пяти", "пятерых", "five"),
    6: ("шість", "шестеро", "шістьох", "шесть", "шести", "шестерых", "six"),
    7: ("сім", "семеро", "сімох", "семь", "семи", "семерых", "seven"),
    8: ("вісім", "восьмеро", "вісьмох", "восемь", "восьми", "eight"),
    9: ("дев'ять", "дев'ятеро", "девять", "девяти", "nine"),
    10: ("десять", "десятеро", "десяти", "ten"),
    11: ("одинадцять", "одиннадцать", "eleven"),
    12: ("дванадцять", "двенадцать", "twelve"),
}
NUMBER = {w: n for n, words in NUMBER_WORDS.items() for w in words}
KILLED = ("загин", "загибл", "вбит", "убит", "погиб", "помер", "смерт", "kill", "dead", "died", "death", "die")
INJURED = ("поранен", "ранен", "травмов", "постражд", "пострада", "wounded", "injured", "injuring", "hurt")
PERSONS = ("жінк", "чоловік", "дитин", "людин", "мужчин", "женщин", "ребен", "человек", "пенсіонер", "волонтер",
           "водій", "водія", "водител", "тракторист", "цивільн", "мирн", "велосипедист", "man", "woman", "child",
           "person", "civilian", "driver", "boy", "girl", "cyclist", "soldier", "serviceman", "militiaman",
           "teenager", "resident", "військов", "боєць", "бойця", "военн", "боец")  # fmt: skip
SINGULAR = ("загинув", "загинула", "погиб", "погибла", "помер", "померла", "поранений", "поранена", "ранен", "ранена",
            "убит", "убита", "вбитий", "вбита", "died", "killed", "wounded", "injured")  # fmt: skip
NOT_COUNTS = re.compile(r"\b\d{1,2}[:.]\d{2}\b|[^\W\d_]+-\d+", re.UNICODE)  # times (14:20), models (С-300, ФАБ-500)
SOME = ("є ", "есть ", "there are ", "there were ", "кількість уточню", "данные уточня", "numbers being")
NONE_AT_ALL = ("без жертв", "без постраждалих", "пострадавших нет", "постраждалих немає", "no casualties",
               "никто не пострадал", "ніхто не постраждав", "без пострадавших", "жертв немає", "жертв нет")  # fmt: skip
NO_DEATHS = ("погибших нет", "загиблих немає", "без загиблих", "no one was killed", "no deaths")
TOKEN = re.compile(r"\d+|[^\W\d_]+(?:['’ʼ][^\W\d_]+)*|[,;:.!?—–()]", re.UNICODE)
BARRIERS = frozenset(",;:.!?—–()")  # a count does not reach across a clause's end
WINDOW = 4  # words between a number and the word it counts


@dataclass(frozen=True, slots=True)
class Count:
    """A stated count: ``value`` None when stated without a number ("є поранені")."""

    value: int | None
    words: str


def _tokens(text: str) -> list[str]:
    return [t.lower().replace("’", "'").replace("ʼ", "'") for t in TOKEN.findall(NOT_COUNTS.sub(" ", text))]


def _number(token: str) -> int | None:
    if token.isdigit() and len(token) <= 4:
        return int(token)
    return NUMBER.get(token)


def _is(token: str, stems: tuple[str, ...]) -> bool:
    return any(token.startswith(s) for s in stems)


def casualties(text: str) -> tuple[Count | None, Count | None]:
    """(killed, injured) as stated; None where the message says nothing of it."""
    lower = text.lower().replace("’", "'")
    tokens = _tokens(text)
    none_at_all = next((p for p in NONE_AT_ALL if p in lower), None)
    killed = _count(tokens, KILLED, lower)
    injured = _count(tokens, INJURED, lower)
    if none_at_all:
        killed = killed or Count(0, none_at_all)
        injured = injured or Count(0, none_at_all)
    no_deaths = next((p for p in NO_DEATHS if p in lower), None)
    if no_deaths and (killed is None or killed.value is None):
        killed = Count(0, no_deaths)
    return killed, injured


def _count(tokens: list[str], stems: tuple[str, ...], lower: str) -> Count | None:
    total: int | None = None
    words: list[str] = []
    stated = False
    for i, token in enumerate(tokens):
        if not _is(token, stems) or (token in ("a", "an")):
            continue
        if (
            stems is INJURED and token.startswith(("постражд", "пострада")) and any(p in lower for p in NONE_AT_ALL)
        ):  # "пострадавших нет": said once for both
            return None
        stated = True
        found = _near_number(tokens, i)
        if found is not None:
            n, j = found
            total = (total or 0) + n
            words.append(" ".join(tokens[min(i, j) : max(i, j) + 1]))
            continue
        person = _near_person(tokens, i, singular=token in SINGULAR)
        if person is not None:
            total = (total or 0) + 1
            words.append(" ".join(tokens[min(i, person) : max(i, person) + 1]))
    if not stated:
        return None
    if total is None:
        return Count(None, next((s.strip() for s in SOME if s in lower), tokens[0] if tokens else ""))
    return Count(total, "; ".join(words))


def _near_number(tokens: list[str], i: int) -> tuple[int, int] | None:
    """A number within WINDOW words of the death/injury word (before it first), not itself counted by a
    nearer death/injury word."""
    around = [j for d in range(1, WINDOW + 1) for j in (i - d, i + d) if 0 <= j < len(tokens)]  # the nearest first
    for j in around:
        n = _number(tokens[j])
        if n is None or (tokens[j] in ("a", "an") and j > i):
            continue
        between = tokens[min(i, j) + 1 : max(i, j)]
        if any(_is(t, KILLED + INJURED) for t in between) or any(
            t in ("і", "и", "та", "and", "ще", "еще") for t in between
        ):
            continue
        if any(t in BARRIERS for t in between):  # not across a clause's end ("killed, three injured")
            continue
        if j + 1 < len(tokens) and tokens[j + 1] in ("годин", "часов", "hours", "км", "km", "хвилин", "минут"):
            continue
        return n, j
    return None


def _near_person(tokens: list[str], i: int, singular: bool) -> int | None:
    """A person beside the word ("загинула жінка"), or anywhere in the message when the word is singular
    ("Чоловік підірвався на міні …, поранений")."""
    reach = range(len(tokens)) if singular else (i + 1, i - 1, i + 2, i - 2)
    for j in sorted(reach, key=lambda j: abs(j - i)):
        if 0 <= j < len(tokens) and _is(tokens[j], PERSONS) and not _is(tokens[j], ("людей", "люди", "people")):
            if not singular and any(t in BARRIERS for t in tokens[min(i, j) + 1 : max(i, j)]):
                continue
            return j
    return None


# ----------------------------------------------------------------------------------------------- evacuation

SELF = ("нас ", "ми ", "мы ", "хочу виїхати", "хочу выехать", "we ", "we're", "i want", "i need", "us ", "our family",
        "хочемо", "хотим", "допоможіть нам", "помогите нам")  # fmt: skip
OTHERS = ("мою", "мого ", "мої ", "моїх ", "моего", "моих", "мои ", "my ", "сусід", "сосед",
          "звонит", "просять", "просят", "asked by", "his ", "her ", "людину", "человека на", "бабусю", "бабушку",
          "отца", "батька", "маму", "дідуся", "дедушку", "семью из", "родину з")  # fmt: skip
PAIRS = ("батьки", "родители", "parents", "grandparents", "бабусю з дідусем", "бабушку и дедушку")
ONE = ("маму", "мама", "тата", "батька", "отца", "мать", "бабусю", "бабушку", "дідуся", "дедушку", "сусідку",
       "соседку", "сусіда", "соседа", "людину", "человека", "mother", "father", "grandmother", "grandfather",
       "neighbour", "neighbor", "user", "сама", "сам ", "alone", "лежачу", "батько", "отец", "сусідка", "соседка")  # fmt: skip
PEOPLE = ("людей", "людини", "людина", "человек", "человека", "people", "of us", "дорослих", "взрослых", "пенсіонер",
          "пожил", "elderly", "дітей", "детей", "лежачим", "лежачих", "нас")  # fmt: skip


def evacuees(text: str) -> tuple[int | None, bool | None, str]:
    """(people, proxy, the words): how many ask to be taken out, and whether the message asks for others."""
    lower = " " + text.lower().replace("’", "'") + " "
    tokens = _tokens(text)
    proxy: bool | None = None
    if any(p in lower for p in OTHERS):
        proxy = True
    elif any(p in lower for p in SELF):
        proxy = False
    people: int | None = None
    why = ""
    for i, token in enumerate(tokens):
        n = _number(token)
        if n is None or token in ("a", "an", "one"):
            continue
        window = tokens[max(0, i - 2) : i + 4]
        if any(_is(t, PEOPLE) or t in ("нас", "us", "сім'я", "семья", "family") for t in window):
            child = any(w in " ".join(tokens[i : i + 5]) for w in ("і дитина", "и ребенок", "and a child", "і дитину"))
            people, why = n + (1 if child else 0), " ".join(window)
            break
    if people is None:
        plus_child = 1 if any(w in lower for w in ("і дитина", "и ребенок", "and a child", "і дитину")) else 0
        if any(p in lower for p in PAIRS):
            people, why = 2 + plus_child, next(p for p in PAIRS if p in lower)
        elif any(p in lower for p in ONE):
            people, why = 1, next(p for p in ONE if p in lower).strip()
    return people, proxy, why
