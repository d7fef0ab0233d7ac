"""The `kragrec` command line: one thin command per verb; options are parsed here and handed on."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from kragrec import __version__
from kragrec.config import Settings, load_settings
from kragrec.errors import KragrecError

app = typer.Typer(help="Knowledge-graph retrieval-augmented LLM recommendation.", no_args_is_help=True)
data_app = typer.Typer(help="Fetch datasets and prepare splits and candidate lists.", no_args_is_help=True)
kg_app = typer.Typer(help="Inspect the loaded knowledge graph.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(kg_app, name="kg")

F = TypeVar("F", bound=Callable[..., Any])

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data folder [env KRAGREC_DATA_DIR; default ./.kragrec].")
]
DatasetOpt = Annotated[str | None, typer.Option("--dataset", help="Dataset name [default ml-100k].")]
Backend = Annotated[str | None, typer.Option("--backend", help="Graph store: embedded (default) or neo4j.")]
Neo4jUri = Annotated[str | None, typer.Option("--neo4j-uri", help="bolt:// or neo4j:// URI [env KRAGREC_NEO4J_URI].")]
Encoder = Annotated[str | None, typer.Option("--encoder", help="Sentence encoder name or path [all-MiniLM-L6-v2].")]
Indexer = Annotated[
    str | None, typer.Option("--indexer", help="hop-field (paper, default) or official (released code).")
]
Hops = Annotated[int | None, typer.Option("--hops", help="Hop layers L of the index [2].")]
QdrantUrl = Annotated[str | None, typer.Option("--qdrant-url", help="Qdrant server URL [default: local mode].")]
MinRating = Annotated[float | None, typer.Option("--min-rating", help="Ratings below this are left out of splits.")]


def reports_errors(command: F) -> F:
    """Turn a KragrecError into one line on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KragrecError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _settings(**overrides: Any) -> Settings:
    return load_settings(overrides)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kragrec {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """kragrec: K-RagRec and LlamaRec-LKG-RAG on Neo4j/Qdrant or their embedded stand-ins."""


@data_app.command("fetch")
@reports_errors
def data_fetch(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. ml-100k.")] = "ml-100k",
    source: Annotated[
        Path | None,
        typer.Option(
            "--from", help="Register RecBole atomic files NAME.inter (+.item .user .kg .link) from this folder."
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Fetch a packaged dataset offline, or register any RecBole atomic dataset with --from DIR."""
    from kragrec.data.fetch import fetch_packaged
    from kragrec.data.registry import register
    from kragrec.render import show_registered

    settings = _settings(data_dir=data_dir, dataset=name)
    if source is None:
        dataset = fetch_packaged(settings, name)
    else:
        dataset = register(settings, source, name, origin=str(source.resolve()))
    show_registered(dataset)


@data_app.command("prepare")
@reports_errors
def data_prepare(
    dataset: DatasetOpt = None,
    history: Annotated[int | None, typer.Option(help="History length [default 10].")] = None,
    candidates: Annotated[int | None, typer.Option(help="Candidates per valid/test sample [default 20].")] = None,
    min_rating: MinRating = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the candidate draw [default 0].")] = None,
    data_dir: DataDir = None,
) -> None:
    """Write the leave-one-out split, training windows and candidate lists as JSONL."""
    from kragrec.data.prepare import prepare
    from kragrec.render import show_prepared

    settings = _settings(
        data_dir=data_dir, dataset=dataset, history=history, candidates=candidates, min_rating=min_rating, seed=seed
    )
    show_prepared(prepare(settings))


@app.command("load-kg")
@reports_errors
def load_kg_command(
    dataset: DatasetOpt = None,
    backend: Backend = None,
    neo4j_uri: Neo4jUri = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Rows per UNWIND batch [default 5000].")
    ] = None,
    min_rating: MinRating = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start from an empty store.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Re-merge every row even if the store is up to date.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Load users, items, ratings and the KG into the graph store; verify counts by reading them back."""
    from kragrec.kg_loader.loader import load_kg
    from kragrec.render import show_load_report

    settings = _settings(
        data_dir=data_dir,
        dataset=dataset,
        backend=backend,
        neo4j_uri=neo4j_uri,
        batch_size=batch_size,
        min_rating=min_rating,
    )
    show_load_report(load_kg(settings, fresh=fresh, force=force))


@kg_app.command("stats")
@reports_errors
def kg_stats(
    dataset: DatasetOpt = None,
    backend: Backend = None,
    neo4j_uri: Neo4jUri = None,
    data_dir: DataDir = None,
) -> None:
    """Print node counts per label and relationship counts per type."""
    from kragrec.kg_loader.browse import store_counts
    from kragrec.render import show_counts

    settings = _settings(data_dir=data_dir, dataset=dataset, backend=backend, neo4j_uri=neo4j_uri)
    show_counts(store_counts(settings))


@kg_app.command("query")
@reports_errors
def kg_query(
    cypher: Annotated[str, typer.Argument(help="A read-only Cypher query; pass values with --param.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="name=value (JSON or string).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per row.")] = False,
    dataset: DatasetOpt = None,
    backend: Backend = None,
    neo4j_uri: Neo4jUri = None,
    data_dir: DataDir = None,
) -> None:
    """Run a parameterised read-only query for browsing; queries that write are refused."""
    from kragrec.kg_loader.browse import parse_params, read_only_query
    from kragrec.render import show_rows

    settings = _settings(data_dir=data_dir, dataset=dataset, backend=backend, neo4j_uri=neo4j_uri)
    columns, rows = read_only_query(settings, cypher, parse_params(param or []))
    show_rows(columns, rows, as_json)


@app.command("index")
@reports_errors
def index_command(
    encoder: Encoder = None,
    indexer: Indexer = None,
    hops: Hops = None,
    hub_cap: Annotated[
        int | None, typer.Option("--hub-cap", help="Neighbours averaged per entity at most [200].")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the index is up to date.")] = False,
    dataset: DatasetOpt = None,
    backend: Backend = None,
    neo4j_uri: Neo4jUri = None,
    qdrant_url: QdrantUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Embed every KG entity, build its hop layers and store them in Qdrant (resumable, skips when up to date)."""
    from kragrec.render import show_index_report
    from kragrec.retrieval.index_builder import build_index

    settings = _settings(
        data_dir=data_dir,
        dataset=dataset,
        backend=backend,
        neo4j_uri=neo4j_uri,
        qdrant_url=qdrant_url,
        encoder=encoder,
        indexer=indexer,
        hops=hops,
        hub_cap=hub_cap,
    )
    show_index_report(build_index(settings, force=force))


@app.command("retrieve")
@reports_errors
def retrieve_command(
    user: Annotated[str, typer.Option("--user", help="User id.")],
    split: Annotated[str, typer.Option("--split", help="Prepared sample to use: test or valid.")] = "test",
    as_json: Annotated[bool, typer.Option("--json", help="Print the evidence as JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write an interactive view to this file.")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="paper (default), relative or official.")] = None,
    pop_threshold: Annotated[
        float | None, typer.Option("--pop-threshold", help="Popularity threshold p [0.5].")
    ] = None,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Sub-graphs per augmented item [3].")] = None,
    top_n: Annotated[int | None, typer.Option("--top-n", help="Sub-graphs kept after re-ranking [5].")] = None,
    fanout: Annotated[int | None, typer.Option("--fanout", help="Neighbours per node per hop [10].")] = None,
    encoder: Encoder = None,
    indexer: Indexer = None,
    hops: Hops = None,
    dataset: DatasetOpt = None,
    backend: Backend = None,
    neo4j_uri: Neo4jUri = None,
    qdrant_url: QdrantUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Show which history items were augmented and the KG sub-graphs kept for a user's sample."""
    import json

    from kragrec.render import show_evidence
    from kragrec.retrieval.explain import evidence, prepared_sample
    from kragrec.retrieval.html_view import write_html
    from kragrec.retrieval.session import open_retriever

    settings = _settings(
        data_dir=data_dir,
        dataset=dataset,
        backend=backend,
        neo4j_uri=neo4j_uri,
        qdrant_url=qdrant_url,
        encoder=encoder,
        indexer=indexer,
        hops=hops,
        policy=policy,
        pop_threshold=pop_threshold,
        top_k=top_k,
        top_n=top_n,
        fanout=fanout,
    )
    sample = prepared_sample(settings, user, split)
    with open_retriever(settings) as retriever:
        view = evidence(retriever, sample, retriever.retrieve(sample["history"]))
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False, indent=2))
    else:
        show_evidence(view)
    if html is not None:
        write_html(view, html)
        typer.echo(f"wrote {html}", err=True)


PLANNED_VERBS = {
    "train": ("Train the graph-augmented LLM recommender.", 4),
    "eval": ("Evaluate a run or a baseline on the prepared candidate lists.", 5),
    "recommend": ("Rank candidates for a user and explain them.", 5),
}


def _planned(verb: str, summary: str, issue: int) -> None:
    @app.command(
        verb,
        help=f"{summary} (not built yet)",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )
    def not_built(ctx: typer.Context) -> None:
        typer.echo(f"kragrec {verb}: not built yet (planned in issue #{issue}); nothing was done.", err=True)
        raise typer.Exit(2)


for _verb, (_summary, _issue) in PLANNED_VERBS.items():
    _planned(_verb, _summary, _issue)


def main() -> None:
    """Console-script entry point."""
    app()
