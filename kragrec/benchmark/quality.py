"""`kragrec bench quality`: train and evaluate every method on the same test lists, resumably, under one budget."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kragrec.config import Settings, settings_record
from kragrec.errors import KragrecError
from kragrec.evaluation.evaluate import evaluate_baseline, evaluate_run
from kragrec.files import write_json
from kragrec.models.choices import DEFAULT_LLM, AnswerFormat
from kragrec.recommenders import registry
from kragrec.recommenders.runs import defining_settings
from kragrec.retrieval.index_builder import build_index
from kragrec.training.run_folder import RunFolder


@dataclass(frozen=True)
class QualityBudget:
    """How much every LLM method trains and how many test users are scored (the same for every method)."""

    max_train: int = 960
    max_valid: int = 200
    epochs: int = 1
    batch_size: int = 4
    lr: float = 1e-4
    graph_lr: float = 1e-3
    lora_r: int = 16
    lora_alpha: int = 32
    lora_targets: str = "q_proj,k_proj,v_proj,o_proj"
    val_every: int = 240
    test_users: int | None = 500
    fictional: int = 5
    bf16: bool = True
    llm: str = DEFAULT_LLM
    gnn_hidden: int = 1024
    gnn_layers: int = 4
    title_prompt: str = "completion"  # the title answer's prompt (models/prompt.py), zero-shot and trained rows alike


@dataclass(frozen=True)
class Entry:
    """One row of the report: a method, with the settings or training options an ablation changes."""

    name: str
    method: str  # its name in the registry (recommenders/registry.py)
    settings: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    ablation: bool = False
    prior: bool = False  # mix in the sasrec row's scores (evaluation/fusion.py), the share chosen on valid
    run_of: str | None = None  # evaluate this other row's trained run instead of training one
    budgeted: bool = True  # trained under the budget's options (the LLM rows); else with the method's defaults
    collab: bool = False  # the LLM reads the sasrec row's item embeddings as collaborative tokens (--collab)

    @property
    def trains(self) -> bool:
        """Whether the row's method needs a training run."""
        return registry.method(self.method).trains


PRIOR_ROW = "sasrec"  # the row whose run is the collaborative prior


MAIN = (
    Entry("random", "random"),
    Entry("popularity", "popularity"),
    Entry("sasrec", "sasrec", budgeted=False),
    Entry("llm-zero-shot", "llm-zero-shot"),
    Entry("llm-zero-shot --prior sasrec", "llm-zero-shot", prior=True),
    Entry("lora-no-kg", "lora-no-kg", prior=True),
    Entry("lora-kg-text", "lora-kg-text", prior=True),
    Entry("k-ragrec-frozen", "k-ragrec-frozen", prior=True),
    Entry("k-ragrec-lora", "k-ragrec-lora", prior=True),
    Entry("llamarec", "llamarec", prior=True),
    Entry("lkg-rag", "lkg-rag", prior=True),
)
# The paper's ablations of k-ragrec-lora ("-encoding", the GNN replaced by triples as text, is the lora-kg-text row),
# then the trained LLMs scored alone, then with collaborative tokens. Every ablation but the last is scored alone,
# without the collaborative prior: the question is what carries the LLM's own signal, and mixed with SASRec at the
# share validation picks (1.00 for every trained row under the completion prompt) each ablation equals the sasrec row
# and compares nothing. The last asks whether the LLM that reads SASRec's item embeddings adds to SASRec's scores.
ABLATIONS = (
    Entry("k-ragrec-lora -popularity", "k-ragrec-lora", {"pop_threshold": 1.0}, ablation=True),
    Entry("k-ragrec-lora -rerank", "k-ragrec-lora", {"rerank": False}, ablation=True),
    Entry("k-ragrec-lora --indexer official", "k-ragrec-lora", {"indexer": "official"}, ablation=True),
    Entry("k-ragrec-lora --soft-tokens mean", "k-ragrec-lora", train={"soft_tokens": "mean"}, ablation=True),
    Entry("k-ragrec-lora --prior none", "k-ragrec-lora", ablation=True, run_of="k-ragrec-lora"),
    Entry("lora-no-kg --prior none", "lora-no-kg", ablation=True, run_of="lora-no-kg"),
    Entry("lora-no-kg --collab sasrec", "lora-no-kg", ablation=True, collab=True),
    Entry("k-ragrec-lora --collab sasrec", "k-ragrec-lora", ablation=True, collab=True),
    Entry(
        "lora-no-kg --collab sasrec --prior sasrec",
        "lora-no-kg",
        ablation=True,
        prior=True,
        run_of="lora-no-kg --collab sasrec",
    ),
)


def entries(ablations: bool) -> list[Entry]:
    """The methods of the report, then the ablations when asked."""
    return [*MAIN, *(ABLATIONS if ablations else ())]


def folder_name(entry: Entry) -> str:
    """The entry's folder in the data dir's benchmark and among the recorded rows."""
    return entry.name.replace(" --", "__").replace(" -", "_without_").replace(" ", "_")


def _check_plan(work_dir: Path, plan: dict[str, Any], fresh: bool) -> None:
    """Refuse to mix results of another budget into this report."""
    path = work_dir / "plan.json"
    if path.is_file() and not fresh and recorded_plan(json.loads(path.read_text(encoding="utf-8"))) != plan:
        raise KragrecError(f"{path}: earlier results used another budget or settings; rerun with --fresh")
    work_dir.mkdir(parents=True, exist_ok=True)
    write_json(path, plan)


def recorded_plan(recorded: dict[str, Any]) -> dict[str, Any]:
    """A plan as recorded earlier, comparable with quality_plan: a setting added since reads as its default."""
    return {**recorded, "settings": defining_settings(recorded["settings"])}


def _timed(folder: Path, step: str, work, seconds_of=None) -> Any:
    """Run work once: its result and duration are kept in folder/STEP.json, so a rerun skips it.

    seconds_of reads the duration from the result, for work that resumes and so outlives one call.
    """
    record = folder / f"{step}.json"
    if record.is_file():
        return json.loads(record.read_text(encoding="utf-8"))["result"]
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started if seconds_of is None else seconds_of(result)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(record, {"result": result, "seconds": seconds})
    return result


def _train(
    entry: Entry, settings: Settings, budget: QualityBudget, run_dir: Path, sasrec_run: Path | None
) -> dict[str, Any]:
    """Train the entry's run (resuming an interrupted one); its summary."""
    resume = RunFolder(run_dir).checkpoint("last").is_dir()
    options = {k: v for k, v in dataclasses.asdict(budget).items() if k not in ("test_users", "fictional")}
    collab = {"collab": str(sasrec_run)} if entry.collab else {}
    chosen = {**options, "checkpoint_every": 25, **entry.train, **collab} if entry.budgeted else {}
    return registry.train(settings, run_dir, {"method": entry.method, **chosen}, resume=resume)


def run_entry(entry: Entry, settings: Settings, budget: QualityBudget, work_dir: Path) -> None:
    """Train (if needed) and evaluate one entry on the test lists, with the hallucination test for main methods;
    each step is recorded under work_dir (finished_row reads them back)."""
    folder = work_dir / folder_name(entry)
    owner = _row(entry.run_of) if entry.run_of else entry  # the row whose run this one evaluates
    trained = work_dir / folder_name(owner)
    sasrec_run = _prior_run(settings, budget, work_dir) if entry.prior or owner.collab else None
    prior = sasrec_run if entry.prior else None
    settings = dataclasses.replace(settings, **owner.settings)
    if "indexer" in owner.settings:
        build_index(settings)

    def evaluate(injected: int, share: float | None = None) -> dict[str, Any]:
        out = folder / "eval" / (f"test-fictional{injected}" if injected else "test")
        if not entry.trains:
            report, _ = evaluate_baseline(
                entry.method,
                settings,
                "test",
                out,
                budget.llm,
                fictional=injected,
                limit=budget.test_users,
                prior=prior,
                valid_limit=budget.max_valid,
                answer_format=AnswerFormat(title_prompt=budget.title_prompt),
                share=share,
            )
        else:
            report, _ = evaluate_run(
                trained / "run", settings, "test", "best", out, injected, budget.test_users, prior, share
            )
        return report

    if entry.trains:
        _timed(
            trained,
            "train",
            lambda: _train(owner, settings, budget, trained / "run", sasrec_run),
            seconds_of=lambda summary: summary["train_seconds"],
        )
    tested = _timed(folder, "test", lambda: evaluate(0))
    if injected := _fictional(entry, budget):
        share = tested["prior"]["share"] if prior else None  # the validation samples chose it once already
        _timed(folder, "fictional", lambda: evaluate(injected, share)["fictional_first"])


def _row(name: str) -> Entry:
    return next(entry for entry in entries(ablations=True) if entry.name == name)


def _prior_run(settings: Settings, budget: QualityBudget, work_dir: Path) -> Path:
    """The sasrec row's run, which rows with a prior mix in and collaborative rows read; that row is run first when
    the data dir lacks its run (when it has not run yet, or its record was made before records kept the run)."""
    run = work_dir / folder_name(_row(PRIOR_ROW)) / "run"
    if not RunFolder(run).checkpoint("best").is_dir():
        run_entry(_row(PRIOR_ROW), settings, budget, work_dir)
    return run


def _fictional(entry: Entry, budget: QualityBudget) -> int:
    """Fictional films per list in this entry's hallucination test (none for ablations)."""
    return 0 if entry.ablation else budget.fictional


def finished_row(entry: Entry, budget: QualityBudget, work_dir: Path) -> dict[str, Any] | None:
    """The entry's row read back from its recorded steps, or None while any step is still to run."""
    folder = work_dir / folder_name(entry)
    steps = ["test", *(["fictional"] if _fictional(entry, budget) else [])]
    records = {step: folder / f"{step}.json" for step in steps}
    if not all(path.is_file() for path in records.values()):
        return None
    results = {step: json.loads(path.read_text(encoding="utf-8"))["result"] for step, path in records.items()}
    report = {**results["test"], **({"fictional_first": results["fictional"]} if "fictional" in results else {})}
    return {
        "entry": dataclasses.asdict(entry),
        "report": report,
        "seconds": _seconds(folder),
        "predictions": str(folder / "eval" / "test" / "predictions.jsonl"),
        **({"run": str(folder / "run")} if entry.name == PRIOR_ROW else {}),  # kept with its record (row_records.py)
    }


def _seconds(folder: Path) -> float:
    return sum(json.loads(p.read_text(encoding="utf-8"))["seconds"] for p in folder.glob("*.json"))


def quality_plan(settings: Settings, budget: QualityBudget) -> dict[str, Any]:
    """What every row of one report shares: the defining settings and the budget, as JSON values."""
    plan = {"settings": defining_settings(settings_record(settings)), "budget": dataclasses.asdict(budget)}
    return json.loads(json.dumps(plan))


def run_quality(
    settings: Settings,
    budget: QualityBudget,
    work_dir: Path,
    ablations: bool,
    fresh: bool = False,
    only: tuple[str, ...] = (),
    recorded: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every entry in order (or only the named ones); finished steps are skipped, so an interrupted benchmark
    resumes where it stopped. Rows of entries that were not run now are included when they finished earlier, in
    work_dir or among the `recorded` rows (by name; such a row is run again only when named in `only`)."""
    known = [entry.name for entry in entries(ablations=True)]
    unknown = [name for name in only if name not in known]
    if unknown:
        raise KragrecError(f"--only {unknown[0]!r}: not a row of the report; rows are " + ", ".join(known))
    _check_plan(work_dir, quality_plan(settings, budget), fresh)
    if fresh:
        for entry in entries(ablations=True):
            shutil.rmtree(work_dir / folder_name(entry), ignore_errors=True)
    recorded = recorded or {}
    for entry in entries(ablations=True):
        wanted = not only and (ablations or not entry.ablation) and entry.name not in recorded
        if entry.name in only or wanted:
            run_entry(entry, settings, budget, work_dir)
    finished = (finished_row(entry, budget, work_dir) or recorded.get(entry.name) for entry in entries(True))
    return [row for row in finished if row is not None]
