"""The `kragrec` command line: one thin command per verb; options are parsed here and handed on."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from kragrec import __version__
from kragrec.config import Settings, load_settings
from kragrec.errors import KragrecError, error_line
from kragrec.files import require_folder
from kragrec.library_output import quiet_libraries

app = typer.Typer(help="Knowledge-graph retrieval-augmented LLM recommendation.", no_args_is_help=True)
data_app = typer.Typer(help="Fetch datasets and prepare splits and candidate lists.", no_args_is_help=True)
kg_app = typer.Typer(help="Inspect or export the loaded knowledge graph.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(kg_app, name="kg")
bench_app = typer.Typer(help="Benchmarks that write reports.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

F = TypeVar("F", bound=Callable[..., Any])


def _option(flag: str, kind: Any, help_text: str) -> Any:
    return Annotated[kind | None, typer.Option(flag, help=help_text)]


# Options shared by several commands, by group; `uses_settings` adds them to a command's signature.
DATA_DIR = {"data_dir": _option("--data-dir", Path, "Data folder (env KRAGREC_DATA_DIR; default ./.kragrec).")}
DATASET = {"dataset": _option("--dataset", str, "Dataset name (default ml-100k).")}
GRAPH_STORE = {
    **DATASET,
    **DATA_DIR,
    "backend": _option("--backend", str, "Graph store: embedded (default) or neo4j."),
    "neo4j_uri": _option("--neo4j-uri", str, "bolt:// or neo4j:// URI (env KRAGREC_NEO4J_URI)."),
}
INDEX = {
    "vector_backend": _option(
        "--vector-backend", str, "Vector store: edge (qdrant-edge, HNSW; default) or local (Qdrant local mode)."
    ),
    "qdrant_url": _option("--qdrant-url", str, "Qdrant server URL; overrides --vector-backend (default: none)."),
    "encoder": _option("--encoder", str, "Sentence encoder name or path (default all-MiniLM-L6-v2)."),
    "indexer": _option("--indexer", str, "hop-field (paper, default) or official (released code)."),
    "hops": _option("--hops", int, "Hop layers L of the index (default 2)."),
}
# How K-RagRec retrieves (paper defaults); `--pop-threshold 1` and `--no-rerank` are the paper's ablations.
RETRIEVAL = {
    "policy": _option("--policy", str, "Popularity policy: paper (default), relative or official."),
    "pop_threshold": _option("--pop-threshold", float, "Popularity threshold p (default 0.5; 1 = every item)."),
    "top_k": _option("--top-k", int, "Sub-graphs per augmented item (default 3)."),
    "top_n": _option("--top-n", int, "Sub-graphs kept after re-ranking (default 5)."),
    "fanout": _option("--fanout", int, "Neighbours per node per hop (default 10)."),
    "rerank": Annotated[
        bool | None, typer.Option("--rerank/--no-rerank", help="Re-rank sub-graphs against the user (default on).")
    ],
}
# How LKG-RAG finds relation paths between history items and candidates.
PATHS = {
    "path_hops": _option("--path-hops", int, "Longest history-to-candidate path, 1..4 (default 4)."),
    "path_hub_cap": _option("--path-hub-cap", int, "Paths do not cross nodes linked to more items (default 300)."),
}
MinRating = _option("--min-rating", float, "Ratings below this are left out of splits (default 0).")
# Which prepared lists a command reads (they are written by `kragrec data prepare` with the same options).
PREPARED = {
    "history": _option("--history", int, "History length (default 10)."),
    "candidates": _option("--candidates", int, "Candidates per valid/test sample (default 20)."),
    "min_rating": MinRating,
    "seed": _option("--seed", int, "Seed of the candidate draw and of training (default 0)."),
}


def uses_settings(*groups: dict[str, Any], options: dict[str, Any] | None = None) -> Callable[[F], F]:
    """Add the groups' options to a command, which receives `settings_from` instead of them.

    settings_from(**own_options) resolves CLI > env > kragrec.toml > defaults, the shared options included;
    shared options that are not settings, and every one of `options` (even where a setting has the same
    name), are handed over as settings_from.options.
    A KragrecError raised by the command, or an OSError (a file or folder the system refuses), becomes one line
    `error: ...` on stderr and exit code 1; a data dir that is a file is refused as the settings are resolved.
    """
    shared = {name: annotation for group in (*groups, options or {}) for name, annotation in group.items()}
    setting_names = {f.name for f in dataclasses.fields(Settings)} - set(options or {})

    def decorate(command: F) -> F:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "settings_from"]
        extra = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=a) for n, a in shared.items()
        ]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            common = {name: kwargs.pop(name) for name in shared}

            def settings_from(**more: Any) -> Settings:
                settings = load_settings({**{n: v for n, v in common.items() if n in setting_names}, **more})
                require_folder(settings.data_dir, "data dir")
                return settings

            settings_from.options = {n: v for n, v in common.items() if n not in setting_names}  # type: ignore[attr-defined]

            try:
                return command(settings_from=settings_from, **kwargs)
            except (KragrecError, OSError) as error:
                typer.echo(f"error: {error_line(error)}", err=True)
                raise typer.Exit(1) from None

        wrapper.__signature__ = inspect.Signature([*own, *extra])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


SettingsFrom = Callable[..., Settings]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kragrec {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", help="Also show third-party libraries' warnings, info lines and progress bars."),
    ] = False,
) -> None:
    """kragrec: K-RagRec and LlamaRec-LKG-RAG on Neo4j/Qdrant or their embedded stand-ins."""
    if not verbose:
        quiet_libraries()


@data_app.command("fetch")
@uses_settings(DATA_DIR)
def data_fetch(
    settings_from: SettingsFrom,
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. ml-100k.")] = "ml-100k",
    source: Annotated[
        Path | None,
        typer.Option("--from", help="Register RecBole atomic files NAME.inter (+.item .user .kg .link) from here."),
    ] = None,
) -> None:
    """Fetch a packaged dataset offline, or register any RecBole atomic dataset with --from DIR."""
    from kragrec.data.fetch import fetch_packaged
    from kragrec.data.registry import register
    from kragrec.render import show_registered

    settings = settings_from(dataset=name)
    if source is None:
        dataset = fetch_packaged(settings, name)
    else:
        dataset = register(settings, source, name, origin=str(source.resolve()))
    show_registered(dataset)


@data_app.command("prepare")
@uses_settings(DATASET, DATA_DIR, PREPARED)
def data_prepare(settings_from: SettingsFrom) -> None:
    """Write the leave-one-out split, training windows and candidate lists as JSONL."""
    from kragrec.data.prepare import prepare
    from kragrec.render import show_prepared

    show_prepared(prepare(settings_from()))


@app.command("load-kg")
@uses_settings(GRAPH_STORE)
def load_kg_command(
    settings_from: SettingsFrom,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Rows per UNWIND batch (default 5000).")
    ] = None,
    min_rating: MinRating = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start from an empty store.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Re-merge every row even if the store is up to date.")] = False,
) -> None:
    """Load users, items, ratings and the KG into the graph store; verify counts by reading them back."""
    from kragrec.loading.loader import load_kg
    from kragrec.render import show_load_report

    settings = settings_from(batch_size=batch_size, min_rating=min_rating)
    show_load_report(load_kg(settings, fresh=fresh, force=force))


@kg_app.command("stats")
@uses_settings(GRAPH_STORE)
def kg_stats(settings_from: SettingsFrom) -> None:
    """Print node counts per label and relationship counts per type."""
    from kragrec.graph.browse import store_counts
    from kragrec.render import show_counts

    show_counts(store_counts(settings_from()))


@kg_app.command("query")
@uses_settings(GRAPH_STORE)
def kg_query(
    settings_from: SettingsFrom,
    cypher: Annotated[
        str, typer.Argument(help="One read-only Cypher statement (MATCH, UNWIND, WITH … RETURN); values via --param.")
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="name=value (JSON or string), once per $name.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per row.")] = False,
) -> None:
    """Run a parameterised read-only query for browsing; anything that writes, reads files or reaches the network
    is refused before the store sees it."""
    from kragrec.graph.browse import parse_params, read_only_query
    from kragrec.render import show_rows

    columns, rows = read_only_query(settings_from(), cypher, parse_params(param or []))
    show_rows(columns, rows, as_json)


@kg_app.command("export")
@uses_settings(GRAPH_STORE)
def kg_export(
    settings_from: SettingsFrom,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="cypher (a cypher-shell script), graphml (networkx, Gephi) or csv (a neo4j-admin import folder).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write (a folder for csv); replaced only when complete.")],
) -> None:
    """Write every node and relationship of the graph store, with labels, types and properties, for Neo4j or any
    GraphML reader."""
    from kragrec.graph.export import export_graph
    from kragrec.render import show_export

    show_export(export_graph(settings_from(), fmt, out))


@app.command("index")
@uses_settings(GRAPH_STORE, INDEX)
def index_command(
    settings_from: SettingsFrom,
    hub_cap: Annotated[
        int | None, typer.Option("--hub-cap", help="Neighbours averaged per entity at most (default 200).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the index is up to date.")] = False,
) -> None:
    """Embed every KG entity, build its hop layers and store their vectors (resumable, skips when up to date)."""
    from kragrec.render import show_index_report
    from kragrec.retrieval.index_builder import build_index

    show_index_report(build_index(settings_from(hub_cap=hub_cap), force=force))


@app.command("retrieve")
@uses_settings(GRAPH_STORE, INDEX, RETRIEVAL)
def retrieve_command(
    settings_from: SettingsFrom,
    user: Annotated[str, typer.Option("--user", help="User id.")],
    split: Annotated[str, typer.Option("--split", help="Prepared sample to use: test or valid.")] = "test",
    as_json: Annotated[bool, typer.Option("--json", help="Print the evidence as JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write an interactive view to this file.")] = None,
) -> None:
    """Show which history items were augmented and the KG sub-graphs kept for a user's sample."""
    import json

    from kragrec.data.records import user_record
    from kragrec.render import show_evidence
    from kragrec.retrieval.explain import evidence
    from kragrec.retrieval.session import open_retriever

    settings = settings_from()
    record = user_record(settings, user, split)
    with open_retriever(settings) as retriever:
        view = evidence(retriever, record, retriever.retrieve(record.history))
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False, indent=2))
    else:
        show_evidence(view)
    if html is not None:
        _write_html(view, html)


def _write_html(view: dict[str, Any], html: Path) -> None:
    """Write the interactive evidence view (its library is imported only when a page is asked for)."""
    from kragrec.retrieval.html_view import write_html

    write_html(view, html)
    typer.echo(f"wrote {html}", err=True)


LAUNCH_DEFAULTS = {"accelerator": "cpu", "devices": 1, "bf16": False, "shard": False}  # passed on only when changed
TRAIN_OPTION = {
    "method": (
        "--method",
        str,
        "k-ragrec (KG soft tokens, --llm-mode decides), k-ragrec-lora, k-ragrec-frozen, lora-no-kg, lora-kg-text, "
        "llamarec (LlamaRec prompt, no KG), lkg-rag (LlamaRec-LKG-RAG relation paths) or sasrec (sequential "
        "baseline; takes --epochs, --lr, --batch-size, --weight-decay, --val-every, --patience).",
    ),
    "llm": ("--llm", str, "LLM: HF id or local path (default the packaged SmolLM2-135M-Instruct)."),
    "llm_mode": ("--llm-mode", str, "lora (default) or frozen."),
    "llm_dtype": ("--llm-dtype", str, "Weights of the LLM: float32 (default), bfloat16 or float16."),
    "soft_tokens": ("--soft-tokens", str, "per-graph (paper, default) or mean (released code)."),
    "soft_norm": (
        "--soft-norm",
        str,
        "embedding (default: soft tokens rescaled to the LLM's mean token-embedding norm) or none (released code).",
    ),
    "answer": (
        "--answer",
        str,
        "title (default: each candidate scored by the mean log-probability of its title after the prompt) or letter "
        "(the papers' verbalizer over lettered candidates).",
    ),
    "title_options": (
        "--title-options",
        str,
        "With --answer title: hidden (default: the prompt ends with the history) or listed (candidates listed too).",
    ),
    "title_prompt": (
        "--title-prompt",
        str,
        "With --answer title: completion (default: the history is a plain list and the title its next item) or chat "
        "(an instruction in the LLM's chat template, the title its reply).",
    ),
    "title_scale": (
        "--title-scale",
        float,
        "With --answer title: the listwise loss is the cross-entropy of the title scores times this (default 1).",
    ),
    "lm_weight": (
        "--lm-weight",
        float,
        "With --answer title: weight of the target title's language-model loss added to the listwise loss (default 0).",
    ),
    "train_candidates": (
        "--train-candidates",
        int,
        "Candidates per training window: the target and N-1 sampled negatives (default: as many as evaluation).",
    ),
    "answer_loss": (
        "--answer-loss",
        str,
        "With --answer letter: vocab (default: cross-entropy of the answer letter over the whole vocabulary, the "
        "papers' loss) or letters (over the candidates' letters only, the verbalizer's softmax).",
    ),
    "epochs": ("--epochs", int, "Epochs (default 3)."),
    "batch_size": ("--batch-size", int, "Samples per step and rank (default 4)."),
    "grad_accum": ("--grad-accum", int, "Gradient accumulation steps (default 1)."),
    "lr": ("--lr", float, "AdamW learning rate of the LLM's adapter, and default of the others (paper 1e-5)."),
    "graph_lr": (
        "--graph-lr",
        float,
        "Learning rate of the graph encoder and projector, and of the --collab projector (default --lr).",
    ),
    "preference_lr": ("--preference-lr", float, "lkg-rag: learning rate of the preference module (default --lr)."),
    "weight_decay": ("--weight-decay", float, "AdamW weight decay (default 0.05)."),
    "warmup_ratio": ("--warmup-ratio", float, "Share of steps with linear warmup (default 0.05)."),
    "clip": ("--clip", float, "Gradient-norm clipping (default 1.0)."),
    "max_train": ("--max-train", int, "Train on a seeded subset of this many windows."),
    "max_valid": ("--max-valid", int, "Validate on a seeded subset of this many users."),
    "val_every": ("--val-every", int, "Validate every N optimizer steps (default: every epoch)."),
    "patience": ("--patience", int, "Stop after this many validations without a better ACC (default 2)."),
    "checkpoint_every": ("--checkpoint-every", int, "Save a resumable checkpoint every N steps (default 50)."),
    "num_workers": ("--num-workers", int, "DataLoader workers building sub-graph tensors (default 1)."),
    "gnn_hidden": ("--gnn-hidden", int, "Graph encoder width (default 1024)."),
    "gnn_layers": ("--gnn-layers", int, "Graph encoder layers (default 4)."),
    "gnn_heads": ("--gnn-heads", int, "Graph encoder attention heads (default 4)."),
    "lora_r": ("--lora-r", int, "LoRA rank (default 8)."),
    "lora_alpha": ("--lora-alpha", int, "LoRA alpha (default 16)."),
    "lora_dropout": ("--lora-dropout", float, "LoRA dropout (default 0.1)."),
    "lora_targets": ("--lora-targets", str, "Comma-separated module names LoRA adapts (default q_proj,v_proj)."),
    "path_select": (
        "--path-select",
        str,
        "lkg-rag: learned (user preferences trained by REINFORCE, default) or shortest (the paper's fallback).",
    ),
    "user_dim": ("--user-dim", int, "lkg-rag: user embedding width of the preference module (default 128)."),
    "collab": (
        "--collab",
        str,
        "A trained sasrec run folder: its item embeddings, projected, as collaborative tokens for the history and "
        "before each candidate's title (title answer, K-RagRec-family methods; the projector learns at --graph-lr).",
    ),
}


def parse_betas(text: str) -> tuple[float, float]:
    """AdamW betas from "B1,B2", each in [0, 1)."""
    try:
        first, second = (float(part) for part in text.split(","))
    except ValueError:
        raise KragrecError(f"--betas {text!r}: expected two numbers like 0.9,0.95") from None
    if not (0 <= first < 1 and 0 <= second < 1):
        raise KragrecError(f"--betas {text!r}: each beta must be in [0, 1)")
    return first, second


@app.command("train")
@uses_settings(
    GRAPH_STORE,
    INDEX,
    PREPARED,
    RETRIEVAL,
    PATHS,
    options={name: _option(*spec) for name, spec in TRAIN_OPTION.items()},
)
def train_command(
    settings_from: SettingsFrom,
    run_dir: Annotated[Path, typer.Option("--run-dir", help="Where the run's config, metrics and checkpoints go.")],
    gpus: Annotated[int | None, typer.Option("--gpus", help="Data-parallel training on N GPUs (DDP).")] = None,
    devices: Annotated[int, typer.Option("--devices", help="Processes for --accelerator (DDP when > 1).")] = 1,
    accelerator: Annotated[str, typer.Option("--accelerator", help="cpu, cuda or auto.")] = "cpu",
    bf16: Annotated[bool, typer.Option("--bf16/--no-bf16", help="bf16 autocast (mixed precision).")] = False,
    shard: Annotated[
        bool, typer.Option("--shard", help="One replica spread across all visible GPUs (device_map), one process.")
    ] = False,
    betas: Annotated[str | None, typer.Option("--betas", help="AdamW betas as B1,B2 (paper 0.9,0.95).")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --run-dir from its last checkpoint.")
    ] = False,
) -> None:
    """Train the KG-augmented LLM recommender (or SASRec); prints the best validation metrics."""
    from kragrec.recommenders import registry
    from kragrec.render import show_training_summary

    settings = settings_from()
    chosen = {name: value for name, value in settings_from.options.items() if value is not None}  # type: ignore[attr-defined]
    if gpus is not None:
        accelerator, devices = "cuda", gpus
    launch = {"accelerator": accelerator, "devices": devices, "bf16": bf16, "shard": shard}
    chosen.update({name: value for name, value in launch.items() if value != LAUNCH_DEFAULTS[name]})
    if betas is not None:
        chosen["betas"] = parse_betas(betas)
    show_training_summary(registry.train(settings, run_dir, chosen, resume=resume))


@app.command("eval")
@uses_settings(GRAPH_STORE, INDEX, PREPARED)
def eval_command(
    settings_from: SettingsFrom,
    run_dir: Annotated[Path | None, typer.Argument(help="A training run folder (omit with --method).")] = None,
    method: Annotated[
        str | None,
        typer.Option(
            "--method", help="A baseline without training instead of a run: random, popularity, llm-zero-shot."
        ),
    ] = None,
    llm: Annotated[
        str | None, typer.Option("--llm", help="With --method llm-zero-shot: its LLM (default packaged SmolLM2).")
    ] = None,
    answer: Annotated[
        str | None,
        typer.Option("--answer", help="How llm-zero-shot answers: title (default: title likelihood) or letter."),
    ] = None,
    title_options: Annotated[
        str | None,
        typer.Option(
            "--title-options", help="llm-zero-shot with --answer title: hidden (default) or listed candidates."
        ),
    ] = None,
    title_prompt: Annotated[
        str | None,
        typer.Option("--title-prompt", help="llm-zero-shot with --answer title: completion (default) or chat."),
    ] = None,
    split: Annotated[str, typer.Option("--split", help="valid or test (default test).")] = "test",
    checkpoint: Annotated[
        str | None, typer.Option("--checkpoint", help="With a run folder: best (default) or last.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default RUN/eval/SPLIT or DATA/eval/...).")
    ] = None,
    fictional: Annotated[
        int,
        typer.Option("--fictional", help="Hallucination test: turn N negatives per sample into fictional films."),
    ] = 0,
    max_samples: Annotated[
        int | None, typer.Option("--max-samples", help="Score a seeded subset of this many samples.")
    ] = None,
    full_ranking: Annotated[
        Path | None,
        typer.Option(
            "--full-ranking",
            help="LlamaRec protocol: this sasrec run retrieves the top-M of all items, the run re-ranks them.",
        ),
    ] = None,
    prior: Annotated[
        Path | None,
        typer.Option(
            "--prior",
            help="Mix in this run's scores (a sasrec run: collaborative prior), the share chosen on valid samples.",
        ),
    ] = None,
    prior_valid: Annotated[
        int | None,
        typer.Option("--prior-valid", help="With --prior and --method: valid samples that choose the share (200)."),
    ] = None,
) -> None:
    """Score every sample of a split's prepared candidate lists; write predictions.jsonl and metrics.json."""
    from kragrec.evaluation.request import EvaluationRequest, UntrainedChoices, run_evaluation
    from kragrec.render import show_evaluation_result

    untrained = UntrainedChoices(llm, answer, title_options, title_prompt, prior_valid)
    request = EvaluationRequest(
        run_dir, method, split, checkpoint, out, fictional, max_samples, full_ranking, prior, untrained
    )
    show_evaluation_result(run_evaluation(request, settings_from()))


@app.command("recommend")
@uses_settings(GRAPH_STORE, INDEX)
def recommend_command(
    settings_from: SettingsFrom,
    run_dir: Annotated[Path, typer.Argument(help="A training run folder (its best checkpoint ranks).")],
    user: Annotated[str, typer.Option("--user", help="User id.")],
    top: Annotated[int, typer.Option("--top", help="How many ranked candidates to show.")] = 10,
    explain: Annotated[bool, typer.Option("--explain", help="Show the KG sub-graphs fed to the model.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="With --explain: write an interactive view.")] = None,
    all_items: Annotated[
        bool, typer.Option("--all-items", help="Candidates: a retriever's top-M unseen items, not the prepared list.")
    ] = False,
    retriever: Annotated[
        Path | None, typer.Option("--retriever", help="With --all-items: a sasrec run (default: popularity).")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="Prepared sample: test (default) or valid.")] = "test",
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="KRAGREC_SERVER",
            help="Ask a running `kragrec serve` of this run (its URL) instead of loading the model here.",
        ),
    ] = None,
) -> None:
    """Rank candidates for a user with a trained run; --explain shows the evidence it was given."""
    from kragrec.recommendation import RecommendRequest
    from kragrec.render import show_recommendation

    chosen = str(retriever.resolve()) if retriever is not None else None
    request = RecommendRequest(user, top, explain or html is not None, all_items, chosen, split)
    if server is not None:
        from kragrec.serve_client import recommend_from_server

        result = recommend_from_server(server, run_dir, settings_from(), request)
    else:
        from kragrec.recommend import recommend

        result = recommend(run_dir, settings_from(), request)
    show_recommendation(result)
    if html is not None and result.evidence is not None:
        _write_html(result.evidence, html)


@app.command("serve")
@uses_settings(GRAPH_STORE, INDEX)
def serve_command(
    settings_from: SettingsFrom,
    run_dir: Annotated[Path, typer.Argument(help="A training run folder (its best checkpoint ranks).")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on (local only by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free port).")] = 8765,
) -> None:
    """Keep a run's model and retriever loaded and answer `kragrec recommend RUN --server URL` until Ctrl-C."""
    from kragrec.serve import recommend_server, stop_on_terminate

    stop_on_terminate()
    with contextlib.suppress(KeyboardInterrupt), recommend_server(run_dir, settings_from(), host, port) as served:
        typer.echo(f"serving {run_dir} at {served.url} (Ctrl-C stops)", err=True)
        served.serve_forever()
    typer.echo("stopped; the retrieval cache is saved", err=True)


@bench_app.command("quality")
@uses_settings(GRAPH_STORE, INDEX)
def bench_quality_command(
    settings_from: SettingsFrom,
    out: Annotated[Path, typer.Option("--out", help="Folder of quality.md and quality.png.")] = Path("reports"),
    ablations: Annotated[bool, typer.Option("--ablations/--no-ablations", help="Also run the ablations.")] = True,
    fresh: Annotated[bool, typer.Option("--fresh", help="Discard earlier results of this benchmark.")] = False,
    max_train: Annotated[int | None, typer.Option("--max-train", help="Training windows per LLM method.")] = None,
    test_users: Annotated[int | None, typer.Option("--test-users", help="Seeded subset of test users.")] = None,
    fictional: Annotated[int | None, typer.Option("--fictional", help="Fictional films per list.")] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only this row (repeatable); finished rows stay reported.")
    ] = None,
) -> None:
    """Train and evaluate every method (and ablation) on the same test lists; resumable; writes the report."""
    from kragrec.benchmark.quality import QualityBudget
    from kragrec.benchmark.session import quality_benchmark, whole_benchmark_command

    chosen = {"max_train": max_train, "test_users": test_users, "fictional": fictional}
    budget = QualityBudget(**{name: value for name, value in chosen.items() if value is not None})
    command = whole_benchmark_command(sys.argv[1:])
    markdown = quality_benchmark(settings_from(), budget, out, ablations, fresh, command, tuple(only or ()))
    typer.echo(f"wrote {markdown} and {markdown.with_suffix('.png')}")


def main() -> None:
    """Console-script entry point."""
    app()
