"""Choosing the personal ranker by leave-researchers-out cross-validation.

Owns the folds over researchers (made from a seed, kept in benchmarks/splits/),
the choice rules and the nested evaluation of a rule. Everything works on
per-researcher (loss, maximum loss) pairs of the reviewer gold standard,
computed once per configuration by bench_recommend.py, so choosing is cheap and
no configuration is scored twice.

Pooled loss over a set of researchers is Σ loss / Σ maximum loss, the
authors' metric restricted to that set. A rule looks only at the researchers it
is given; the nested evaluation gives it the training folds and scores the
configuration it picks on the held-out fold, so the reported figure is on
researchers never used to choose.
"""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

# per-configuration: researcher -> (loss, maximum loss), averaged over profile draws
PerResearcher = Mapping[str, tuple[float, float]]
Table = Mapping[str, PerResearcher]
# A rule: (table, training researchers) -> the chosen configuration's name.
Rule = Callable[[Table, Sequence[str]], str]

SPLITS_DIR = Path(__file__).resolve().parent / "splits"


@dataclass(frozen=True)
class Family:
    """A grid of configurations of one model, with how many constants it chooses.

    `knobs` counts the constants chosen on data (0 for a fixed model). A family
    marked `tuned_on_dev` was fixed earlier on every dev researcher, so its
    held-out-fold figure is not a held-out figure; it is shown, never chosen.
    """

    name: str
    knobs: int
    configs: tuple[str, ...]
    baseline: bool = False
    tuned_on_dev: bool = False


def pooled(per: PerResearcher, researchers: Sequence[str]) -> float:
    loss = sum(per[r][0] for r in researchers)
    worst = sum(per[r][1] for r in researchers)
    return loss / worst if worst else 0.0


def make_folds(researchers: Sequence[str], k: int, seed: int) -> list[list[str]]:
    """k folds of sorted researcher ids shuffled with `seed`, as even as possible."""
    ids = sorted(researchers)
    random.Random(seed).shuffle(ids)
    return [sorted(ids[i::k]) for i in range(k)]


@dataclass
class FoldPlan:
    """Outer folds (one list of folds per repeat) and the settings that made them."""

    researchers: list[str]
    k: int
    seeds: list[int]
    inner_k: int
    repeats: list[list[list[str]]] = field(default_factory=list)

    @classmethod
    def make(cls, researchers: Sequence[str], k: int, seeds: Sequence[int],
             inner_k: int) -> FoldPlan:
        plan = cls(sorted(researchers), k, list(seeds), inner_k)
        plan.repeats = [make_folds(plan.researchers, k, s) for s in plan.seeds]
        return plan

    def to_json(self) -> str:
        return json.dumps({
            "what": "folds over the researchers of the reviewer gold standard's dev "
                    "evaluations file, for benchmarks/bench_recommend.py",
            "procedure": "ranker_cv.make_folds: sorted ids, random.Random(seed).shuffle, "
                         "fold i = ids[i::k]; inner folds (the choice rule's own CV) are "
                         "make_folds(training ids, inner_k, seed) made on the fly",
            "k": self.k, "seeds": self.seeds, "inner_k": self.inner_k,
            "researchers": self.researchers, "folds": self.repeats,
        }, indent=1) + "\n"

    @classmethod
    def load(cls, path: Path) -> FoldPlan:
        data = json.loads(path.read_text(encoding="utf-8"))
        plan = cls(list(data["researchers"]), int(data["k"]), list(data["seeds"]),
                   int(data["inner_k"]))
        plan.repeats = [[list(f) for f in folds] for folds in data["folds"]]
        return plan


def argmin_rule(configs: Sequence[str]) -> Rule:
    """The configuration with the lowest pooled loss (ties: the first listed)."""
    def rule(table: Table, train: Sequence[str]) -> str:
        return min(configs, key=lambda c: pooled(table[c], train))
    return rule


def simplest_within_one_se(families: Sequence[Family], inner_k: int, seed: int) -> Rule:
    """Inner CV per family (argmin inside it); then the family with the fewest knobs whose
    inner-CV loss is within one standard error (over inner folds) of the best family's;
    then that family's argmin on all the training researchers.

    The one-standard-error rule (Hastie, Tibshirani, Friedman, ESL §7.10) is how "prefer
    the simplest model that wins" is made a rule that itself can be cross-validated.
    """
    def rule(table: Table, train: Sequence[str]) -> str:
        folds = make_folds(train, inner_k, seed)
        scores: list[tuple[Family, float, float]] = []
        for family in families:
            losses = []
            for fold in folds:
                inner_train = [r for r in train if r not in fold]
                choice = argmin_rule(family.configs)(table, inner_train)
                losses.append(pooled(table[choice], fold))
            mean = statistics.fmean(losses)
            se = statistics.stdev(losses) / len(losses) ** 0.5 if len(losses) > 1 else 0.0
            scores.append((family, mean, se))
        _, best, best_se = min(scores, key=lambda s: s[1])
        eligible = [s for s in scores if s[1] <= best + best_se]
        family = min(eligible, key=lambda s: (s[0].knobs, s[1]))[0]
        return argmin_rule(family.configs)(table, train)
    return rule


@dataclass
class Outcome:
    """A rule evaluated by the fold plan: per outer fold, what it chose and the losses."""

    name: str
    choices: list[str]
    chosen_on: list[float]  # pooled loss on the training folds (what chose)
    held_out: list[float]  # pooled loss on the held-out fold
    # Per repeat: researcher -> (loss, max) of the configuration chosen without them.
    out_of_fold: list[dict[str, tuple[float, float]]]

    def per_researcher(self) -> dict[str, tuple[float, float]]:
        """Out-of-fold (loss, max) per researcher, averaged over repeats."""
        ids = list(self.out_of_fold[0])
        return {r: (statistics.fmean(o[r][0] for o in self.out_of_fold),
                    statistics.fmean(o[r][1] for o in self.out_of_fold)) for r in ids}

    def pooled_out_of_fold(self) -> float:
        per = self.per_researcher()
        return pooled(per, list(per))


def evaluate(name: str, rule: Rule, table: Table, plan: FoldPlan) -> Outcome:
    outcome = Outcome(name, [], [], [], [])
    for folds in plan.repeats:
        oof: dict[str, tuple[float, float]] = {}
        for fold in folds:
            train = [r for r in plan.researchers if r not in fold]
            choice = rule(table, train)
            outcome.choices.append(choice)
            outcome.chosen_on.append(pooled(table[choice], train))
            outcome.held_out.append(pooled(table[choice], fold))
            oof |= {r: table[choice][r] for r in fold}
        outcome.out_of_fold.append(oof)
    return outcome


def bootstrap(per: PerResearcher, resamples: Sequence[npt.NDArray[np.int64]],
              researchers: Sequence[str]) -> npt.NDArray[np.float64]:
    """Pooled loss of each resample of researchers (the same resamples for every row)."""
    pairs = np.array([per[r] for r in researchers])
    return np.array([pairs[idx, 0].sum() / pairs[idx, 1].sum() for idx in resamples])


def interval(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))
