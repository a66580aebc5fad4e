"""What a message reports: its kind (the report kinds, or *none*) by a trained model, and the details its
words state (the shelling's weapon, the side holding ground, the utility or service and its status).

**The model** (scikit-learn): a logistic regression over character n-grams (2–5, within words, of the
lower-cased text with digits as 0 — robust to inflection, to Ukrainian/Russian spellings and to typos)
and the keyword rules' answer (``kind_from_text``) as features; trained on the labelled messages of
``data/`` (their *train* split: a stable hash of the text puts a quarter in *test*, never trained on)
and on the corrections verifiers made in the review queue. Its probability is the kind's confidence;
the words that weighed most for the kind are its evidence.

**Details** are rules, each saying the words it read. Pure (the data files are read by ``training``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from greyzone.ingest.keywords import kind_from_text

DATA = Path(__file__).parent / "data"
NONE = "none"
UNSURE = 0.3  # below this probability the model's kind is not believed: the message reports nothing known


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: dict[str, Any]  # kind, sub, place, killed, injured, side, utility, service, status, people, proxy, lang

    @property
    def kind(self) -> str:
        return str(self.label["kind"])


def split_of(text: str) -> str:
    """``test`` for a quarter of the messages (by a stable hash of the text), ``train`` for the rest."""
    return "test" if int(hashlib.sha1(text.encode()).hexdigest()[:8], 16) % 4 == 0 else "train"  # noqa: S324 (a split, not security)


def examples(folder: Path = DATA) -> list[Example]:
    """The labelled messages of the data folder."""
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append(Example(row.pop("text"), row))
    return out


NAME = re.compile(
    r"(?<=[\w,;»)] )[A-ZА-ЯІЇЄҐ][a-zа-яіїєґ'’ʼ-]+|^[A-ZА-ЯІЇЄҐ][a-zа-яіїєґ'’ʼ]+(?=\s*[:—–]|\s+-\s)", re.MULTILINE
)
CUES = (
    ("cue_negated", ("не було", "не было", "не підтверд", "не подтверд", "фейк", "false", "неправда", "старое видео",
                     "ніякого", "никакого", "не поширюйте")),
    ("cue_quiet", ("тихо", "тиша", "тишина", "спокійн", "спокойн", "quiet", "calm", "без прильот", "без прилет",
                   "без вибух", "no shelling", "no explosions")),
    ("cue_ask", ("прошу", "допоможіть", "помогите", "please", "потрібна евакуац", "нужна эвакуац", "вивезти", "вывезти",
                 "евакуювати", "эвакуировать", "просить евакуац", "просит эвакуац", "requests evacuation", "need evacuation",
                 "evacuation needed", "evacuate")),
    ("cue_alert", ("тривог", "тревог", "alert", "в укриття", "в укрытие", "take cover", "загроза", "угроза", "threat")),
    ("cue_question", ("?",)),
    ("cue_infiltration", ("просоч", "інфільтрац", "инфильтрац", "диверс", "дрг", "infiltrat", "sabotage")),
    ("cue_control", ("контрол", "тримають", "удерживают", "окупован", "оккупир", "звільнен", "освобожд", "сіра зона",
                     "серая зона", "grey zone", "captured", "occupied", "hold", "liberated")),
    ("cue_utility", ("світл", "свет", "вод", "газ", "зв'язок", "связ", "опален", "отоплен", "electric", "power", "water",
                     "gas", "network", "heating")),
)  # fmt: skip


def _normal(text: str) -> str:
    """Lower case, digits as 0, the names (capitalised words within a sentence, a headline's place) as one
    mark: the model learns what happened, not where."""
    text = NAME.sub("Ъname", text.replace("’", "'").replace("ʼ", "'"))
    return re.sub(r"\d", "0", text.lower())


def _cues(text: str) -> str:
    lower = text.lower()
    return " ".join(name for name, stems in CUES if any(s in lower for s in stems))


def _rule(text: str) -> str:
    found = kind_from_text(text)
    return f"rule_{found[0].value}" if found else "rule_none"


class KindModel:
    """Character n-grams + the keyword rule → kind, with probabilities."""

    def __init__(self, texts: Sequence[str], kinds: Sequence[str]) -> None:
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import OneHotEncoder

        self._hstack = hstack
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=1, sublinear_tf=True)
        self.words = TfidfVectorizer(
            analyzer="word", token_pattern=r"(?u)\b\w\w+\b", ngram_range=(1, 2), sublinear_tf=True
        )
        self.rules = OneHotEncoder(handle_unknown="ignore")
        self.cues = TfidfVectorizer(analyzer="word", token_pattern=r"cue_\w+", use_idf=False, norm=None)
        x = self._features([_normal(t) for t in texts], [_rule(t) for t in texts], fit=True, raw=texts)
        self.model = LogisticRegression(C=20.0, max_iter=3000, class_weight="balanced")
        self.model.fit(x, list(kinds))
        self.classes: list[str] = [str(c) for c in self.model.classes_]

    def _features(self, normal: list[str], rules: list[str], raw: Sequence[str], fit: bool = False) -> Any:
        column = np.array(rules, dtype=object).reshape(-1, 1)
        cues = [_cues(t) or "cue_nothing" for t in raw]
        if fit:
            return self._hstack([self.chars.fit_transform(normal), self.words.fit_transform(normal),
                                 self.rules.fit_transform(column) * 2.0, self.cues.fit_transform(cues)]).tocsr()  # fmt: skip
        return self._hstack([self.chars.transform(normal), self.words.transform(normal),
                             self.rules.transform(column) * 2.0, self.cues.transform(cues)]).tocsr()  # fmt: skip

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float, list[str]]]:
        """For each text: (kind, probability, the words that weighed most for it)."""
        normal = [_normal(t) for t in texts]
        x = self._features(normal, [_rule(t) for t in texts], texts)
        probabilities = self.model.predict_proba(x)
        out = []
        words = self.words.get_feature_names_out()
        n_chars = len(self.chars.vocabulary_)
        coefs = self.model.coef_
        for r, p in enumerate(probabilities):
            best = int(np.argmax(p))
            kind = str(self.classes[best]) if p[best] >= UNSURE or NONE not in self.classes else NONE
            coef = coefs[best] if len(self.classes) > 2 else coefs[0]
            start, end = x.indptr[r], x.indptr[r + 1]  # the row's features, read from the CSR arrays directly
            columns = x.indices[start:end]
            weights = x.data[start:end] * coef[columns]
            top = columns[np.argsort(-weights)[:12]]
            said = [str(words[i - n_chars]) for i in top.tolist() if n_chars <= i < n_chars + len(words)][:4]
            out.append(
                (kind, float(p[best]) if kind == self.classes[best] else float(p[self.classes.index(NONE)]), said)
            )
        return out


@cache
def default_model() -> KindModel:
    """The model trained on the data folder's train split (built once; about a second)."""
    return train([e for e in examples() if split_of(e.text) == "train"])


def train(rows: Iterable[Example]) -> KindModel:
    rows = list(rows)
    return KindModel([r.text for r in rows], [r.kind for r in rows])


# ----------------------------------------------------------------------------------------------- details

SUBKINDS = (
    ("mlrs", ("рсзв", "рсзо", "mlrs", "град", "grad", "ураган", "uragan", "смерч", "smerch")),
    ("mortar", ("міномет", "миномет", "mortar")),
    ("artillery", ("артилер", "артобстр", "artiller", "ствольн", "ствольной", "гаубиц", "гаубиц", "howitzer", "танка", "tank")),
)  # fmt: skip
SIDES = (
    ("unknown", ("сіра зона", "серая зона", "grey zone", "gray zone", "не підтвердж", "не подтвержд", "unconfirmed",
                 "ніхто не контролю", "контроль не ясен", "не зайняте повністю")),
    ("other_side", ("окупован", "оккупир", "захопив", "захопили", "занял", "заняли", "зайшов", "зайшли", "увійшли",
                    "під контролем ворог", "під контролем окупант", "под контролем росс", "captured", "occupied",
                    "закріпил", "вошли", "ворог зайшов")),
    ("held", ("контролюють", "тримають", "тримаємо", "удерживают", "під контролем україн", "під контролем зсу",
              "под контролем всу", "hold", "holds", "звільнен", "освобожд", "liberated", "наші тримають")),
)  # fmt: skip
UTILITIES = (
    ("power", ("світл", "електр", "свет", "электр", "power", "electricity", "підстанц", "подстанц")),
    ("water", ("вод", "water")),
    ("gas", ("газ", "gas")),
    ("heating", ("опален", "отоплен", "heating", "котельн")),
    ("mobile_network", ("зв'яз", "связ", "mobile", "network", "інтернет", "интернет")),
)  # fmt: skip
SERVICES = (
    ("bread", ("хліб", "хлеб", "bread")),
    ("water_point", ("підвіз", "подвоз", "видачі води", "water delivery", "water point", "пункт видачі води")),
    ("pharmacy", ("аптек", "pharmacy")),
    ("medical_post", ("лікарн", "больниц", "амбулатор", "hospital", "clinic", "медпункт")),
    ("shelter", ("укритт", "укрыт", "shelter")),
    ("aid_point", ("незламн", "несокруш", "гуманітар", "гуманитар", "штаб", "обігрів", "invincibility", "aid", "humanitarian")),
)  # fmt: skip
INFRA_STATUS = (
    ("intermittent", ("перебо", "за графіком", "по кілька годин", "по графику", "intermittent", "schedule")),
    ("working", ("відновил", "відновлен", "восстановл", "restored", "працює стабільно", "работает стабильно")),
    ("out", ("немає", "нема ", "нет ", "без ", "зник", "відключ", "отключ", "припинен", "cut", "down", "no ", "interrupted",
             "зруйнован", "разрушен")),
)  # fmt: skip
SERVICE_STATUS = (
    ("limited", ("лише", "только", "only", "тільки")),
    ("closed", ("зачинен", "закрит", "закрыт", "не працює", "не работает", "не буде", "не будет", "не привез",
                "перенесен", "closed", "no ", "тимчасово не")),
    ("open", ("працює", "работает", "відчинен", "открыт", "open", "з 1", "с 1", "до 1", "збір", "сьогодні з", "сегодня с")),
)  # fmt: skip


def first_of(text: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[str | None, str]:
    """The first entry of the table any of whose stems the text holds, and the stem."""
    lower = " " + text.lower().replace("’", "'") + " "
    for value, stems in table:
        for stem in stems:
            if stem in lower:
                return value, stem.strip()
    return None, ""
