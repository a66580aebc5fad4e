"""Free-text intake against its peers, on the same held-out messages (the quarter of the labelled data the
classifier never trains on; ``--blind`` adds the blind set written after the parser was frozen).

Printed side by side: per kind precision / recall / F1 of greyzone's classifier and of the keyword rules
it replaces (``kind_from_text``, the peer on the same messages), and VIINA's published BERT F1 for the
classes that map to ours (their own test set, not ours: a reference, not a race); settlement resolution
(exact settlement; how often an ambiguous name is resolved anyway — the target is 0); killed / injured
exact; throughput of the parser on one core after its first load (names already seen once, as a running
service has).

    python benchmarks/text.py [--blind] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from greyzone.ingest.gazetteer import Gazetteer
from greyzone.ingest.keywords import kind_from_text
from greyzone.text.classify import DATA, Example, default_model, examples, split_of
from greyzone.text.counts import casualties
from greyzone.text.parse import parse_batch
from greyzone.text.places import PlaceIndex

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
VIINA = {"t_artillery": "shelling", "t_airstrike": "air_strike", "t_civcas": "casualties",
         "t_control": "control_observation", "t_airalert": "air_raid_alert"}  # fmt: skip
RECEIVED = datetime(2024, 11, 28, 9, 30, tzinfo=UTC)


def scores(truth: list[str], predicted: list[str], kinds: list[str]) -> dict[str, tuple[float, float, float]]:
    out = {}
    for k in kinds:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == k and p == k)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != k and p == k)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == k and p != k)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        out[k] = (precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return out


def measure(test: list[Example], places: PlaceIndex) -> dict[str, Any]:
    model = default_model()
    texts = [e.text for e in test]
    truth = [e.kind for e in test]
    ours = [k for k, _, _ in model.predict(texts)]
    peer = [(found[0].value if (found := kind_from_text(t)) else "none") for t in texts]
    kinds = sorted(set(truth))
    mine, theirs = scores(truth, ours, kinds), scores(truth, peer, kinds)
    parsed = parse_batch([(t, RECEIVED) for t in texts], model, places)
    named = exact = wrongly = counts = 0
    for e, p in zip(test, parsed, strict=True):
        killed, injured = casualties(e.text)
        counts += (killed.value if killed else None, injured.value if injured else None) == (
            e.label.get("killed"), e.label.get("injured"))  # fmt: skip
        if e.label.get("place") is None or not p.events:
            continue
        named += 1
        hit = p.events[0].place
        if e.label.get("place_ambiguous"):
            exact += hit is not None and hit.ambiguous
            wrongly += hit is not None and not hit.ambiguous
        else:
            exact += hit is not None and not hit.ambiguous and hit.name == e.label["place"]
    return {
        "messages": len(test), "kinds": kinds, "ours": mine, "peer": theirs,
        "macro_f1": sum(f for _, _, f in mine.values()) / len(kinds),
        "peer_macro_f1": sum(f for _, _, f in theirs.values()) / len(kinds),
        "min_kind_f1": min(f for _, _, f in mine.values()),
        "settlement_exact": exact / named if named else None, "ambiguous_resolved_anyway": wrongly,
        "casualties_exact": counts / len(test),
    }  # fmt: skip


def throughput(places: PlaceIndex) -> float:
    model = default_model()
    texts = [(e.text, RECEIVED) for e in examples()]
    parse_batch(texts, model, places)  # the first load: dictionaries, the names seen once
    start = time.perf_counter()
    rounds = 4
    for _ in range(rounds):
        parse_batch(texts, model, places)
    return len(texts) * rounds / (time.perf_counter() - start)


def viina() -> dict[str, float]:
    path = SHARED / "reference" / "viina_classification_report_bert.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {VIINA[r["variable"]]: float(r["f1-score"]) for r in csv.DictReader(fh) if r["variable"] in VIINA}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blind", action="store_true", help="also the blind set (written after the parser froze)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    gazetteer = SHARED / "gazetteer"
    if not gazetteer.exists():
        raise SystemExit(f"the gazetteer is not at {gazetteer} (../shared/data): places cannot be measured")
    places = PlaceIndex.of(Gazetteer.from_dir(gazetteer).named)
    figures: dict[str, Any] = {"held_out": measure([e for e in examples() if split_of(e.text) == "test"], places)}
    names = ["held_out"]
    for blind in sorted(DATA.glob("blind*")) if args.blind else []:  # each blind set apart (written at its time)
        figures[blind.name] = measure(examples(blind), places)
        names.append(blind.name)
    figures["messages_per_s"] = round(throughput(places))
    figures["viina_bert_f1"] = viina()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, default=float))
        return
    reference = figures["viina_bert_f1"]
    for name in names:
        f = figures[name]
        print(f"\n{name.replace('_', '-')}: {f['messages']} messages")
        print(f"{'kind':<22} {'greyzone P/R/F1':>18} {'keyword rules P/R/F1':>22} {'VIINA BERT F1':>14}")
        for k in f["kinds"]:
            (p, r, f1), (pp, pr, pf1) = f["ours"][k], f["peer"][k]
            ref = f"{reference[k]:.2f}" if k in reference else "—"
            print(f"{k:<22} {p:5.2f} {r:5.2f} {f1:5.2f}   {pp:7.2f} {pr:5.2f} {pf1:5.2f}   {ref:>12}")
        ratio = f["macro_f1"] / f["peer_macro_f1"] if f["peer_macro_f1"] else float("inf")
        print(f"macro F1 {f['macro_f1']:.3f} (target ≥ 0.85), lowest kind {f['min_kind_f1']:.2f} (≥ 0.70); "
              f"keyword rules {f['peer_macro_f1']:.3f} (×{ratio:.2f})")  # fmt: skip
        print(f"settlement exact {f['settlement_exact']:.3f} (≥ 0.90), ambiguous names resolved anyway "
              f"{f['ambiguous_resolved_anyway']} (target 0), killed/injured exact "
              f"{f['casualties_exact']:.3f} (≥ 0.90)")  # fmt: skip
    print(f"\nparser throughput, one core after the first load: {figures['messages_per_s']:,} messages/s (≥ 2,000)")


if __name__ == "__main__":
    main()
