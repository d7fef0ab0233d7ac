"""Settings: CLI option > KRAGREC_* environment > kragrec.toml > defaults."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kragrec.errors import SettingsError

ENV_PREFIX = "KRAGREC_"
CONFIG_FILE_NAME = "kragrec.toml"
BACKENDS = ("embedded", "neo4j")
INDEXERS = ("hop-field", "official")
POLICIES = ("paper", "relative", "official")
VECTOR_BACKENDS = ("edge", "local")  # embedded vector stores; a qdrant_url selects the Qdrant server instead
MAX_PATH_HOPS = 4  # the literal bound in cypher/*/item_paths.cypher
MAX_HOPS = 4


class Secret(str):
    """A string that never shows its value in repr or logs."""

    def __repr__(self) -> str:
        return "Secret('***')"

    def reveal(self) -> str:
        """Return the plain value, for handing to a driver."""
        return str.__str__(self)

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return format("***", spec)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every setting kragrec reads; one object passed down from the CLI."""

    data_dir: Path = Path(".kragrec")
    cache_dir: Path = Path.home() / ".cache" / "kragrec"
    dataset: str = "ml-100k"
    backend: str = "embedded"
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: Secret | None = None
    neo4j_database: str = "neo4j"
    vector_backend: str = "edge"  # edge: qdrant-edge (HNSW) under the data dir; local: qdrant-client local mode
    qdrant_url: str | None = None  # a Qdrant server, whatever vector_backend says
    qdrant_api_key: Secret | None = None
    batch_size: int = 5000
    seed: int = 0
    history: int = 10
    candidates: int = 20
    min_rating: float = 0.0
    encoder: str = "all-MiniLM-L6-v2"
    indexer: str = "hop-field"
    hops: int = 2
    hub_cap: int = 200
    policy: str = "paper"
    pop_threshold: float = 0.5
    top_k: int = 3
    top_n: int = 5
    rerank: bool = True  # False: the ablation "-Re-ranking" keeps the top-N hits by their own search score
    fanout: int = 10
    path_hops: int = 4  # LKG-RAG: longest history-to-candidate path (item_paths.cypher holds the literal bound 4)
    path_hub_cap: int = 300  # LKG-RAG: paths do not cross nodes linked to more items than this

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise SettingsError(f"setting 'backend': {self.backend!r} is not one of {', '.join(BACKENDS)}")
        if self.backend == "neo4j" and not self.neo4j_uri:
            raise SettingsError(
                "setting 'neo4j_uri': the neo4j backend needs a URI "
                "(--neo4j-uri, KRAGREC_NEO4J_URI or neo4j_uri in kragrec.toml)"
            )
        for name, allowed in (("indexer", INDEXERS), ("policy", POLICIES), ("vector_backend", VECTOR_BACKENDS)):
            if getattr(self, name) not in allowed:
                raise SettingsError(f"setting '{name}': {getattr(self, name)!r} is not one of {', '.join(allowed)}")
        if not 0.0 <= self.pop_threshold <= 1.0:
            raise SettingsError(f"setting 'pop_threshold': must lie in [0, 1], got {self.pop_threshold}")
        for name in ("batch_size", "history", "candidates", "hops", "hub_cap", "top_k", "top_n", "fanout"):
            if getattr(self, name) < 1:
                raise SettingsError(f"setting '{name}': must be at least 1, got {getattr(self, name)}")
        if self.hops > MAX_HOPS:
            raise SettingsError(f"setting 'hops': at most {MAX_HOPS}, got {self.hops}")
        if not 1 <= self.path_hops <= MAX_PATH_HOPS:
            raise SettingsError(f"setting 'path_hops': must lie in 1..{MAX_PATH_HOPS}, got {self.path_hops}")
        if self.path_hub_cap < 1:
            raise SettingsError(f"setting 'path_hub_cap': must be at least 1, got {self.path_hub_cap}")
        if self.qdrant_url:
            _check_server_url("qdrant_url", self.qdrant_url)

    @property
    def datasets_dir(self) -> Path:
        """Registered datasets, one folder each."""
        return self.data_dir / "datasets"

    @property
    def graph_dir(self) -> Path:
        """Embedded graph stores, one per dataset."""
        return self.data_dir / "graph"

    @property
    def prepared_dir(self) -> Path:
        """Splits and candidate lists for the current dataset and options."""
        tag = f"h{self.history}-c{self.candidates}-r{self.min_rating:g}-s{self.seed}"
        return self.data_dir / "prepared" / self.dataset / tag


def public_url(url: str) -> str:
    """The URL without the user name and password it may embed, for messages and files."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _check_server_url(name: str, url: str) -> None:
    """A one-line error unless the URL is http(s)://host[:port][/prefix]."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or bracketed host
        usable = False
    if not usable or any(character.isspace() for character in url):
        raise SettingsError(f"setting '{name}': {public_url(url)!r} is not an http(s) URL like http://localhost:6333")


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
SECRET_FIELDS = frozenset(name for name, f in _FIELDS.items() if "Secret" in f.type)


def settings_record(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values for files kragrec writes (run folders, reports): paths as text, and the secret
    fields left out, since secrets are read from the environment or kragrec.toml and never written."""
    values = {name: getattr(settings, name) for name in _FIELDS if name not in SECRET_FIELDS}
    return {name: str(value) if isinstance(value, Path) else value for name, value in values.items()}


def _convert(name: str, raw: Any, source: str) -> Any:
    """Convert a raw value from the environment or TOML to the field's type."""
    kind = _FIELDS[name].type
    try:
        if "Path" in kind:
            return Path(raw)
        if "Secret" in kind:
            return Secret(raw)
        if kind == "int":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return _as_bool(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{source}: field '{name}': {raw!r} is not a valid {kind}") from None


def _as_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if str(raw).strip().lower() not in words:
        raise ValueError
    return words[str(raw).strip().lower()]


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: {error}") from None
    values = {}
    for key, raw in table.items():
        if key not in _FIELDS:
            raise SettingsError(f"{path}: field '{key}': unknown setting")
        values[key] = _convert(key, raw, str(path))
    return values


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values = {}
    for name in _FIELDS:
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ and environ[env_name] != "":
            values[name] = _convert(name, environ[env_name], env_name)
    return values


def _named_config_file(environ: Mapping[str, str]) -> Path:
    """KRAGREC_CONFIG's file, which must exist; else ./kragrec.toml, which may be absent."""
    named = environ.get(ENV_PREFIX + "CONFIG", "")
    if not named:
        return Path(CONFIG_FILE_NAME)
    if not Path(named).is_file():
        problem = "is not a file" if Path(named).exists() else "no such file"
        raise SettingsError(f"{ENV_PREFIX}CONFIG: {named}: {problem}")
    return Path(named)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve settings from defaults, kragrec.toml, KRAGREC_* variables and CLI overrides."""
    environ = os.environ if environ is None else environ
    if config_file is None:
        config_file = _named_config_file(environ)
    values: dict[str, Any] = {}
    if config_file.is_file():
        values.update(_from_toml(config_file))
    values.update(_from_env(environ))
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _convert(name, value, f"--{name.replace('_', '-')}")
    return Settings(**values)
