"""The kind of a report from its words (English, Ukrainian, Russian): for sources that give text,
not a category (UCDP headlines, news-based event data, free-text reports).

Rules are stems checked in order, most specific first; the first that matches wins. This is a
transparent baseline, not a trained classifier: a report it cannot place gets no kind, and the
adapter says so in its reject.
"""

from __future__ import annotations

import re

from greyzone.model.enums import Kind, ShellingKind

KindMatch = tuple[Kind, ShellingKind | None]

_RULES: tuple[tuple[Kind, ShellingKind | None, tuple[str, ...]], ...] = (
    (
        Kind.GLIDE_BOMB,
        None,
        (
            "glide bomb",
            "guided bomb",
            "guided aerial bomb",
            "kab-",
            " kab ",
            "каб",
            "керован",
            "управляем",
            "фаб-",
            "fab-",
            "умпк",
        ),
    ),
    (Kind.FPV_STRIKE, None, ("fpv", "фпв", "кamikaze drone", "дрон-камікадзе", "дрон-камикадзе")),
    (Kind.DRONE_DROP, None, ("dropped", "drone drop", "скинув", "скинули", "скид", "сброс", "сбросил")),
    (Kind.MISSILE, None, ("missile", "iskander", "ракет", "іскандер", "искандер")),
    (
        Kind.AIR_STRIKE,
        None,
        (
            "air strike",
            "airstrike",
            "air raid",
            "aviation",
            "bombing",
            "bombed",
            "авіаудар",
            "авиаудар",
            "авіабомб",
            "авиабомб",
            "shahed",
            "шахед",
        ),
    ),
    (Kind.SHELLING, ShellingKind.MORTAR, ("mortar", "міномет", "миномет")),
    (Kind.SHELLING, ShellingKind.MLRS, ("mlrs", "grad", "uragan", "smerch", "рсзв", "рсзо", "град", "ураган", "смерч")),
    (
        Kind.SHELLING,
        ShellingKind.ARTILLERY,
        ("shell", "artiller", "howitzer", "обстріл", "обстрел", "артилер", "артиллер", "снаряд"),
    ),
    (
        Kind.MINE_UXO,
        None,
        ("landmine", "unexploded", " mine", "uxo", "ied", "міна", "мина", "вибухонебезпеч", "взрывоопас", "розтяжк"),
    ),
    (Kind.INFILTRATION_SIGHTING, None, ("infiltrat", "sabotage", "saboteur", "дрг", "диверс")),
    (Kind.DRONE_SIGHTING, None, ("drone", "uav", "дрон", "бпла", "безпілот", "беспилот")),
    (
        Kind.CLASH,
        None,
        (
            "clash",
            "fighting",
            "battle",
            "assault",
            "firefight",
            "skirmish",
            "бої",
            "бій",
            "штурм",
            "бой",
            "бои",
            "столкновен",
        ),
    ),
)
_SPACE = re.compile(r"\s+")


def kind_from_text(text: str | None) -> KindMatch | None:
    """The first matching (kind, subkind) for ``text``, or None when no rule matches."""
    if not text:
        return None
    padded = " " + _SPACE.sub(" ", text.lower()) + " "
    for kind, subkind, stems in _RULES:
        if any(stem in padded for stem in stems):
            return kind, subkind
    return None
