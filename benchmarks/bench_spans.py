"""Span tagging: the card CRF against a regex baseline, on SciERC test and TDMSci test.

Usage:
    python benchmarks/bench_spans.py [--data ../shared/data] [--out PATH] [--skip-train]
        [--abstracts 2000]

Trains the shipped tagger configuration (`cards.tagger.train_default`: SciERC
train+dev and TDMSci train, never a test split) into --out, then prints exact-match
span precision/recall/F1 per label for the CRF and for `cards.span_rules` (the
regex baseline, measured in the same run) on the SciERC test split (all four
labels; Material counted as DATASET) and the TDMSci test split (TASK, DATASET,
METRIC), and single-core tagging throughput over arXiv abstracts with a
projection for the full 74,728-abstract corpus. Gold sentences are the corpus
tokens joined by spaces; both taggers see the same text.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from itertools import islice
from pathlib import Path

from paperfeed.cards.corpora import LabelledSentence, read_scierc, read_tdmsci, score_spans
from paperfeed.cards.model import Tagger
from paperfeed.cards.span_rules import RegexSpanTagger
from paperfeed.cards.tagger import ARXIV_FILE, CrfTagger, train_default
from paperfeed.sources import read_records

CORPUS_SIZE = 74_728
# Abstract sentences end at ". " before a capital, digit or bracket: good enough to time.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


def score_table(name: str, tagger: Tagger, sentences: Sequence[LabelledSentence],
                labels: Sequence[str]) -> list[str]:
    texts, gold = zip(*(s.text_and_spans() for s in sentences), strict=True)
    scores = score_spans(gold, tagger.tag(list(texts)), labels=labels)
    return [f"{name:<8} {label:<8} {s.gold:>6} {s.predicted:>6} {s.precision:>6.3f} "
            f"{s.recall:>6.3f} {s.f1:>6.3f}" for label, s in scores.items()]


def throughput(tagger: Tagger, abstracts: Sequence[list[str]]) -> tuple[float, float]:
    """(sentences/s, abstracts/s) tagging every sentence of `abstracts` once, one core."""
    sentences = [s for a in abstracts for s in a]
    start = time.perf_counter()
    tagger.tag(sentences)
    seconds = time.perf_counter() - start
    return len(sentences) / seconds, len(abstracts) / seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the trained model (default: a temporary folder)")
    parser.add_argument("--skip-train", action="store_true",
                        help="measure the model already at --out instead of training one")
    parser.add_argument("--abstracts", type=int, default=2000,
                        help="arXiv abstracts to time tagging on")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        model = args.out or Path(tmp) / "tagger.crfsuite"
        if args.skip_train:
            if args.out is None:
                parser.error("--skip-train needs --out")
        else:
            figures = train_default(args.data, model)
            print("training: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
        crf = CrfTagger.load(model)
        print(f"model: {model} (version {crf.info['version']}, config {crf.info['config']})")
        regex = RegexSpanTagger()

        splits = [
            ("SciERC test", read_scierc(args.data / "scierc" / "test.json"),
             ("TASK", "DATASET", "METHOD", "METRIC")),
            ("TDMSci test", read_tdmsci(args.data / "nlp-tdms-tdmsci" / "TDMSci" / "conllFormat"
                                        / "test_500_v2.conll"), ("TASK", "DATASET", "METRIC")),
        ]
        for title, sentences, labels in splits:
            print(f"\n{title} ({len(sentences)} sentences), exact-match spans")
            print(f"{'tagger':<8} {'label':<8} {'gold':>6} {'pred':>6} {'P':>6} {'R':>6} "
                  f"{'F1':>6}")
            for name, tagger in (("crf", crf), ("regex", regex)):
                print("\n".join(score_table(name, tagger, sentences, labels)))

        records = islice(read_records(args.data / ARXIV_FILE), args.abstracts)
        abstracts = [_SENTENCE_END.split(r.abstract.strip()) for r in records]
        n_sent = sum(map(len, abstracts))
        print(f"\nthroughput, one core, {len(abstracts)} arXiv abstracts "
              f"({n_sent / len(abstracts):.1f} sentences each), cold feature cache")
        print(f"{'tagger':<8} {'sent/s':>8} {'abs/s':>8} {'74,728 abstracts, 1 core':>26}")
        fresh = CrfTagger.load(model)  # an empty per-word cache, as in a new worker
        for name, tagger in (("crf", fresh), ("regex", regex)):
            sps, aps = throughput(tagger, abstracts)
            print(f"{name:<8} {sps:>8.0f} {aps:>8.0f} {CORPUS_SIZE / aps / 60:>22.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
