"""Benchmark: how much next-item signal does the knowledge graph hold on the quality benchmark's lists?

K-RagRec's sub-graph tokens can only help a ranker if the KG tells the user's next film apart from the 19 other
candidates better than what the ranker already knows. This measures it without an LLM, on the same 500 seeded test
users and lists as `kragrec bench quality`: each candidate is compared with the user's history items through the
facts the KG links to each item, one TF-IDF view per relation (actors, directors, genres, awards, ...; facts held by
a single film are dropped), as the mean and the max cosine over the history. Two rankers read these similarities:

- unsupervised: the mean cosine over all KG facts at once, beside the same rule over the trained `sasrec` row's item
  embeddings (collaborative signal, for scale);
- learned: a listwise linear ranker (softmax cross-entropy over each list, L-BFGS, fixed small L2) fit on seeded
  training windows with 20 drawn candidates each, given log popularity alone, then popularity plus the KG views,
  popularity plus the dataset's genres and release years, and everything. Nothing is chosen on test.

Run: .venv/bin/python bench/kg_signal.py [--data-dir .kragrec] [--windows 6000] [--sasrec-run RUN_DIR]
"""

from __future__ import annotations

import argparse
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from ml100k import prepared_ml100k

from kragrec.benchmark.quality import QualityBudget
from kragrec.data.dataset import Dataset
from kragrec.data.popularity import train_popularity
from kragrec.data.records import evaluation_records, training_records
from kragrec.data.registry import open_dataset
from kragrec.data.sample import Record
from kragrec.evaluation.intervals import bootstrap_intervals, with_interval
from kragrec.evaluation.outputs import cold_start_mask
from kragrec.metrics import metrics_from_ranks, target_ranks
from kragrec.training.model_build import sasrec_item_table

MIN_RELATION_FACTS = 100  # relations with fewer facts over the linked films are left out (prequel/sequel stay)
L2 = 1e-3
REPORTED = ("acc", "recall@5", "mrr")
RECORDED_SASREC_RUN = Path("reports/quality-rows/sasrec/run")
METADATA = ("popularity", "year", "year distance")  # metadata_features' columns
ALL_FACTS, DATASET_GENRES = "kg", "genre (dataset)"  # the views of kg_views that are not one KG relation
AGGREGATES = ("mean", "max")  # similarity_features' two columns per view
Vector = dict[str, float]


def tfidf_vectors(facts: dict[str, set[str]]) -> dict[str, Vector]:
    """L2-normalised TF-IDF vector of each item's facts; a fact only one item holds cannot relate two items."""
    document_frequency = Counter(f for item_facts in facts.values() for f in item_facts)
    vectors = {}
    for item, item_facts in facts.items():
        weights = {f: math.log(len(facts) / document_frequency[f]) for f in item_facts if document_frequency[f] > 1}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors[item] = {f: w / norm for f, w in weights.items()}
    return vectors


def cosine(a: Vector, b: Vector) -> float:
    """Dot product of two normalised sparse vectors."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sum(w * large.get(f, 0.0) for f, w in small.items())


def kg_views(dataset: Dataset) -> dict[str, dict[str, Vector]]:
    """One TF-IDF view per KG relation out of the items' linked entities, one over all of them ("kg"), and the
    dataset's own genre field ("genre (dataset)")."""
    facts_of_entity: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for triple in dataset.triples:
        facts_of_entity[triple.head].append((triple.relation, triple.tail))
    item_facts = {item: facts_of_entity.get(dataset.links.get(item, ""), []) for item in dataset.items}
    per_relation = Counter(relation for facts in item_facts.values() for relation, _ in facts)
    relations = sorted(r for r, n in per_relation.items() if n >= MIN_RELATION_FACTS)
    views = {
        relation: tfidf_vectors({item: {t for r, t in facts if r == relation} for item, facts in item_facts.items()})
        for relation in relations
    }
    views[ALL_FACTS] = tfidf_vectors({item: {f"{r}={t}" for r, t in facts} for item, facts in item_facts.items()})
    views[DATASET_GENRES] = tfidf_vectors({item: set(info.genres) for item, info in dataset.items.items()})
    return views


def similarity_features(records: list[Record], views: dict[str, dict[str, Vector]]) -> np.ndarray:
    """[sample, candidate, view x (mean, max)] cosine of each candidate to the sample's history items."""
    names = list(views)
    out = np.zeros((len(records), len(records[0].candidates), 2 * len(names)), dtype=np.float32)
    for s, record in enumerate(records):
        for c, candidate in enumerate(record.candidates):
            for v, name in enumerate(names):
                vector = views[name].get(candidate, {})
                sims = [cosine(vector, views[name].get(h, {})) for h in record.history]
                out[s, c, 2 * v : 2 * v + 2] = (np.mean(sims), np.max(sims))
    return out


def metadata_features(records: list[Record], dataset: Dataset, counts: dict[str, int]) -> np.ndarray:
    """[sample, candidate, 3]: log train popularity, release year, distance to the history's mean year (decades)."""
    year = {item: float(info.year or 1990) for item, info in dataset.items.items()}
    out = np.zeros((len(records), len(records[0].candidates), len(METADATA)), dtype=np.float32)
    for s, record in enumerate(records):
        history_year = np.mean([year[h] for h in record.history])
        for c, candidate in enumerate(record.candidates):
            distance = abs(year[candidate] - history_year)
            out[s, c] = (math.log1p(counts.get(candidate, 0)), year[candidate] / 10, distance / 10)
    return out


def embedding_similarity(records: list[Record], table: torch.Tensor, rows: dict[str, int]) -> np.ndarray:
    """[sample, candidate] mean cosine of the candidate's embedding to the history items' embeddings."""
    unit = torch.nn.functional.normalize(table.float(), dim=-1).numpy()
    history = np.stack([unit[[rows[h] for h in r.history]] for r in records])
    candidates = np.stack([unit[[rows[c] for c in r.candidates]] for r in records])
    return np.einsum("scd,shd->sch", candidates, history).mean(-1)


def features(records: list[Record], dataset: Dataset, counts: dict[str, int], views: dict) -> np.ndarray:
    """[sample, candidate, feature]: the metadata features, then the similarity features."""
    return np.concatenate([metadata_features(records, dataset, counts), similarity_features(records, views)], axis=-1)


def fit_listwise(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Weights of a linear score maximising the listwise softmax likelihood of the labels (L-BFGS, L2)."""
    x, y = torch.from_numpy(features), torch.from_numpy(labels)
    weights = torch.zeros(features.shape[-1], dtype=torch.float32, requires_grad=True)
    optimiser = torch.optim.LBFGS([weights], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weights, y) + L2 * weights.square().sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return weights.detach().numpy()


def with_intervals(ranks: np.ndarray) -> dict:
    """The metrics of the ranks and their 95 % bootstrap intervals, as `with_interval` reads them."""
    return {"metrics": metrics_from_ranks(ranks), "intervals": bootstrap_intervals(ranks)}


def row(name: str, scores: np.ndarray, labels: np.ndarray, cold: np.ndarray) -> str:
    """A markdown row: each reported metric, then ACC on the cold-start subset, with 95 % bootstrap intervals."""
    ranks = target_ranks(scores, labels)
    every, cold_only = with_intervals(ranks), with_intervals(ranks[cold])
    cells = [with_interval(every, m) for m in REPORTED] + [with_interval(cold_only, "acc")]
    return f"| {name} | " + " | ".join(cells) + " |"


def columns(names: list[str], wanted: Iterable[str]) -> list[int]:
    """Indices of the wanted feature names."""
    return [names.index(n) for n in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(".kragrec"))
    parser.add_argument("--windows", type=int, default=6000, help="training windows the learned ranker is fit on")
    parser.add_argument("--sasrec-run", type=Path, default=RECORDED_SASREC_RUN, help="a trained SASRec run, for scale")
    args = parser.parse_args()
    settings = prepared_ml100k(args.data_dir)
    dataset = open_dataset(settings, settings.dataset)
    counts = train_popularity(settings)
    views = kg_views(dataset)
    names = [*METADATA] + [f"{v} {a}" for v in views for a in AGGREGATES]
    relations = [f"{v} {a}" for v in views if v not in (ALL_FACTS, DATASET_GENRES) for a in AGGREGATES]
    train = training_records(settings, args.windows)
    test = evaluation_records(settings, "test", QualityBudget().test_users)
    x_train, x_test = (features(records, dataset, counts, views) for records in (train, test))
    mean, std = x_train.reshape(-1, len(names)).mean(0), x_train.reshape(-1, len(names)).std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    y_train, y_test = (np.array([r.label for r in records], dtype=np.int64) for records in (train, test))
    cold = cold_start_mask(np.array([counts.get(r.target, 0) for r in test]))
    print(f"{len(train)} training windows, {len(test)} test users; KG relations: {len(relations) // len(AGGREGATES)}")
    print("| ranker | ACC | R@5 | MRR | cold-start ACC |\n|---|---|---|---|---|")
    kg_rule = x_test[..., names.index(f"{ALL_FACTS} mean")]
    print(row("KG facts, mean cosine to the history (unsupervised)", kg_rule, y_test, cold))
    table, rows = sasrec_item_table(settings, args.sasrec_run)
    sasrec_rule = embedding_similarity(test, table, rows)
    print(row("SASRec item embeddings, mean cosine to the history (unsupervised)", sasrec_rule, y_test, cold))
    genres_years = [*(f"{DATASET_GENRES} {a}" for a in AGGREGATES), "year", "year distance"]
    learned = {
        "popularity": ["popularity"],
        "KG relations alone": relations,
        "popularity + KG relations": ["popularity", *relations],
        "popularity + genres + years": ["popularity", *genres_years],
        "popularity + genres + years + KG relations": ["popularity", *genres_years, *relations],
    }
    for name, wanted in learned.items():
        chosen = columns(names, wanted)
        weights = fit_listwise(x_train[..., chosen], y_train)
        print(row(f"learned: {name}", x_test[..., chosen] @ weights, y_test, cold))


if __name__ == "__main__":
    main()
