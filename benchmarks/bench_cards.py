"""Quality and speed of system-card extraction: rules alone (the baseline) and rules + tagger.

Owns the card figures of issue 6. Quality is measured on the hand-made gold
cards of the seed papers; speed on the arXiv daily corpus.

    python benchmarks/bench_cards.py \
        [--seeds ../shared/data/seeds/0*.txt] [--cards ../shared/data/seeds/cards-dev.jsonl] \
        [--tagger .cache-cards/tagger.crfsuite] [--corpus ../shared/data/arxiv-daily-cs/] \
        [--limit 5000] [--verbose] [--show 50]

Seed papers are read with paperfeed's own ingester (`read_records`), in file
order; the gold id of a paper is `<file stem>#<n>`, n its 1-based position in
the file. The gold cards name the claim of a result `metric_or_claim`.

Matching rules (every field, every comparison):

* strings are compared normalised: LaTeX escapes removed (`\\%` -> `%`), `×` read
  as `x`, case-folded, whitespace collapsed, outer punctuation stripped;
* name: a hit when predicted and gold names are equal; a predicted name that
  differs from the gold one counts as a false positive (and a miss when the
  gold has a name); no name on both sides counts as neither;
* kind: accuracy over papers;
* datasets: exact match of normalised names (one-to-one);
* tasks: lenient (one phrase contains the other, or token Jaccard >= 0.5) and
  strict (equal), both one-to-one, greedy in gold order;
* results: match on the value, normalised also for spacing and "percent" -> "%"
  ("95 percent" = "95%"); `claim ok` counts the matched values whose claim shares
  a content word (stop words dropped, plural "s" stripped) with the gold claim;
* code URLs: equal after normalisation and without a trailing "/".

P/R/F1 are micro-averaged over all papers. Speed: cards per second over the
first `--limit` corpus papers on one core (title, abstract and comment per
paper, LaTeX cleaning included), and the time projected for 74,728 papers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paperfeed.cards.extract import extract_cards
from paperfeed.cards.model import Card, Tagger
from paperfeed.sources import read_records

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
CORPUS_SIZE = 74_728
_STOP = frozenset((
    "a", "an", "the", "of", "in", "on", "at", "by", "for", "to", "from", "with", "and", "or",
    "vs", "over", "than", "its", "their", "up", "is", "are", "was", "were", "be",
))


# --- matching -------------------------------------------------------------------------------


def norm(text: str) -> str:
    text = text.replace("\\%", "%").replace("\\&", "&").replace("\\_", "_").replace("×", "x")
    text = re.sub(r"\\[a-zA-Z]+\s*", "", text).replace("{", "").replace("}", "")
    return " ".join(text.casefold().split()).strip(" .,;:()")


def norm_value(value: str) -> str:
    value = norm(value).replace("percent", "%").replace(" ", "")
    return value


def norm_url(url: str) -> str:
    return norm(url).rstrip("/")


def tokens(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[\w%+-]+", norm(text)) if w not in _STOP}


def lenient_task(a: str, b: str) -> bool:
    x, y = norm(a), norm(b)
    if x in y or y in x:
        return True
    tx, ty = tokens(x), tokens(y)
    return bool(tx | ty) and len(tx & ty) / len(tx | ty) >= 0.5


def one_to_one(gold: Sequence[str], pred: Sequence[str], same: Callable[[str, str], bool]
               ) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs (gold index, predicted index), gold in order."""
    used: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            if j not in used and same(g, p):
                used.add(j)
                pairs.append((i, j))
                break
    return pairs


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    extra: int = 0  # results: matched values whose claim also matches

    def add(self, gold: int, pred: int, hit: int) -> None:
        self.tp += hit
        self.fp += pred - hit
        self.fn += gold - hit

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Report:
    scores: dict[str, Score] = field(default_factory=dict)
    kind_ok: int = 0
    papers: int = 0
    misses: list[str] = field(default_factory=list)

    def score(self, name: str) -> Score:
        return self.scores.setdefault(name, Score())


def compare(gold: dict[str, object], card: Card, report: Report, paper_id: str) -> None:
    report.papers += 1
    notes: list[str] = []
    gold_name = gold.get("name")
    name = report.score("name")
    same_name = bool(gold_name and card.name and norm(str(gold_name)) == norm(card.name))
    name.add(1 if gold_name else 0, 1 if card.name else 0, 1 if same_name else 0)
    if not same_name and (gold_name or card.name):
        notes.append(f"name: gold={gold_name!r} got={card.name!r}")
    if gold.get("kind") == card.kind:
        report.kind_ok += 1
    else:
        notes.append(f"kind: gold={gold.get('kind')} got={card.kind}")
    fields: list[tuple[str, list[str], list[str], Callable[[str, str], bool]]] = [
        ("tasks (lenient)", _strs(gold, "tasks"), list(card.tasks), lenient_task),
        ("tasks (strict)", _strs(gold, "tasks"), list(card.tasks), lambda a, b: norm(a) == norm(b)),
        ("datasets", _strs(gold, "datasets"), list(card.datasets), lambda a, b: norm(a) == norm(b)),
        ("code_urls", _strs(gold, "code_urls"), list(card.code_urls),
         lambda a, b: norm_url(a) == norm_url(b)),
    ]
    for label, g, p, same in fields:
        pairs = one_to_one(g, p, same)
        report.score(label).add(len(g), len(p), len(pairs))
        if label != "tasks (strict)" and len(pairs) < max(len(g), len(p)):
            hit_g = {i for i, _ in pairs}
            hit_p = {j for _, j in pairs}
            notes.append(f"{label}: missed={[x for i, x in enumerate(g) if i not in hit_g]} "
                         f"extra={[x for j, x in enumerate(p) if j not in hit_p]}")
    gold_results = [r for r in gold.get("results") or [] if isinstance(r, dict)]
    gold_values = [str(r.get("value")) for r in gold_results]
    values = [r.value for r in card.results]
    pairs = one_to_one(gold_values, values, lambda a, b: norm_value(a) == norm_value(b))
    score = report.score("results")
    score.add(len(gold_values), len(values), len(pairs))
    for i, j in pairs:
        gold_claim = str(gold_results[i].get("metric_or_claim") or gold_results[i].get("claim"))
        if tokens(gold_claim) & tokens(card.results[j].claim):
            score.extra += 1
    if len(pairs) < max(len(gold_values), len(values)):
        hit_g = {i for i, _ in pairs}
        hit_p = {j for _, j in pairs}
        missed = [v for i, v in enumerate(gold_values) if i not in hit_g]
        extra = [(v, card.results[j].claim) for j, v in enumerate(values) if j not in hit_p]
        notes.append(f"results: missed={missed} extra={extra}")
    if notes:
        report.misses.append(f"{paper_id}\n    " + "\n    ".join(notes))


def _strs(gold: dict[str, object], key: str) -> list[str]:
    value = gold.get(key) or []
    return [str(v) for v in value] if isinstance(value, list) else []


# --- inputs ------------------------------------------------------------------------------------


def read_seeds(paths: Sequence[Path]) -> list[tuple[str, tuple[str, str, str | None]]]:
    papers: list[tuple[str, tuple[str, str, str | None]]] = []
    for path in paths:
        for n, record in enumerate(read_records(path), 1):
            # A title derived from the abstract is passed as the product would pass it.
            papers.append((f"{path.stem}#{n}", (record.title, record.abstract, record.comment)))
    return papers


def read_corpus(path: Path, limit: int) -> list[tuple[str, str, str | None]]:
    if path.is_dir():
        path = next(iter(sorted(path.glob("*.jsonl.gz")) or sorted(path.glob("*.jsonl"))))
    papers: list[tuple[str, str, str | None]] = []
    for record in read_records(path):
        papers.append((record.title, record.abstract, record.comment))
        if len(papers) >= limit:
            break
    return papers


def load_tagger(path: Path | None) -> Tagger | None:
    if path is None:
        return None
    from paperfeed.cards.tagger import CrfTagger  # type: ignore[import-not-found,unused-ignore]

    tagger: Tagger = CrfTagger.load(path)
    return tagger


# --- output ----------------------------------------------------------------------------------


def evaluate(papers: Sequence[tuple[str, tuple[str, str, str | None]]],
             gold: dict[str, dict[str, object]], tagger: Tagger | None) -> Report:
    report = Report()
    cards = list(extract_cards([p for _, p in papers], tagger=tagger))
    for (paper_id, _), card in zip(papers, cards, strict=True):
        if paper_id in gold:
            compare(gold[paper_id], card, report, paper_id)
    return report


def print_table(reports: dict[str, Report]) -> None:
    labels = ["name", "datasets", "results", "code_urls", "tasks (lenient)", "tasks (strict)"]
    header = f"{'field':<18}" + "".join(f"{name:>30}" for name in reports)
    print(header)
    print(f"{'':<18}" + "".join(f"{'P     R     F1   (tp/fp/fn)':>30}" for _ in reports))
    for label in labels:
        row = f"{label:<18}"
        for report in reports.values():
            s = report.score(label)
            p, r, f = s.prf()
            row += f"{f'{p:.2f}  {r:.2f}  {f:.2f}  ({s.tp}/{s.fp}/{s.fn})':>30}"
        print(row)
    row = f"{'kind accuracy':<18}"
    for report in reports.values():
        share = report.kind_ok / max(report.papers, 1)
        row += f"{f'{report.kind_ok}/{report.papers} = {share:.2f}':>30}"
    print(row)
    row = f"{'results claim ok':<18}"
    for report in reports.values():
        s = report.score("results")
        row += f"{f'{s.extra}/{s.tp} matched values':>30}"
    print(row)


def speed(papers: Sequence[tuple[str, str, str | None]], tagger: Tagger | None, label: str
          ) -> Iterable[Card]:
    started = time.perf_counter()
    cpu = time.process_time()
    cards = list(extract_cards(papers, tagger=tagger))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    rate = len(papers) / wall if wall else float("inf")
    print(f"{label:<14} {len(papers)} papers in {wall:.2f} s wall ({cpu:.2f} s CPU): "
          f"{rate:,.0f} cards/s; {CORPUS_SIZE:,} papers on 1 core: {CORPUS_SIZE / rate:.0f} s "
          f"({CORPUS_SIZE / rate / 60:.1f} min)")
    return cards


def show(papers: Sequence[tuple[str, str, str | None]], cards: Sequence[Card], n: int) -> None:
    rng = random.Random(6)
    for index in sorted(rng.sample(range(len(papers)), min(n, len(papers)))):
        card = cards[index]
        print(f"- {papers[index][0][:100]}")
        print(f"    name={card.name!r} kind={card.kind} datasets={list(card.datasets)}")
        print(f"    tasks={list(card.tasks)}")
        for result in card.results:
            print(f"    result {result.value!r}: {result.claim!r} [{result.dataset}]")
        if card.code_urls:
            print(f"    code={list(card.code_urls)}")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=Path, nargs="+",
                    default=sorted((DATA / "seeds").glob("0*.txt")))
    ap.add_argument("--cards", type=Path, default=DATA / "seeds" / "cards-dev.jsonl")
    ap.add_argument("--tagger", type=Path, default=None, help="a trained CRF tagger model")
    ap.add_argument("--corpus", type=Path, default=DATA / "arxiv-daily-cs")
    ap.add_argument("--limit", type=int, default=5000, help="corpus papers for the speed run")
    ap.add_argument("--verbose", action="store_true", help="list each paper's misses")
    ap.add_argument("--show", type=int, default=0, help="print N random corpus cards")
    args = ap.parse_args(argv)

    if not args.cards.exists():
        sys.exit(f"gold cards not found: {args.cards}")
    gold: dict[str, dict[str, object]] = {}
    for line in args.cards.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            gold[row["id"]] = row
    papers = read_seeds(args.seeds)
    missing = sorted(set(gold) - {paper_id for paper_id, _ in papers})
    print(f"{len(papers)} seed papers read, {len(gold)} gold cards"
          + (f", {len(missing)} gold ids without a paper: {missing}" if missing else ""))
    tagger = load_tagger(args.tagger)
    reports = {"rules": evaluate(papers, gold, None)}
    if tagger is not None:
        reports["rules+tagger"] = evaluate(papers, gold, tagger)
    print()
    print_table(reports)
    if args.verbose:
        for label, report in reports.items():
            print(f"\nmisses ({label}):")
            for miss in report.misses:
                print(f"  {miss}")
    if args.corpus.exists() and args.limit > 0:
        corpus = read_corpus(args.corpus, args.limit)
        print(f"\nspeed over {len(corpus)} corpus papers (one core):")
        cards = list(speed(corpus, None, "rules"))
        if tagger is not None:
            speed(corpus, tagger, "rules+tagger")
        if args.show:
            print()
            show(corpus, cards, args.show)


if __name__ == "__main__":
    main()
