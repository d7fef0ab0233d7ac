"""Settings precedence (CLI > env > kragrec.toml > defaults), validation and secrecy."""

from __future__ import annotations

from pathlib import Path

import pytest

from kragrec.config import Settings, load_settings
from kragrec.errors import SettingsError


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kragrec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_apply_without_any_source(tmp_path):
    settings = load_settings(environ={}, config_file=tmp_path / "absent.toml")
    assert settings == Settings()
    assert settings.data_dir == Path(".kragrec")


def test_cli_beats_env_beats_toml(tmp_path):
    toml = write_toml(tmp_path, 'seed = 3\nhistory = 7\ndata_dir = "from-toml"\nbatch_size = 11\n')
    env = {"KRAGREC_SEED": "5", "KRAGREC_HISTORY": "8"}
    settings = load_settings({"seed": 9, "history": None}, environ=env, config_file=toml)
    assert settings.seed == 9  # CLI
    assert settings.history == 8  # env over toml; a None CLI value is "not given"
    assert settings.batch_size == 11  # toml over default
    assert settings.data_dir == Path("from-toml")


def test_config_file_location_comes_from_env(tmp_path):
    toml = write_toml(tmp_path, "candidates = 10\n")
    assert load_settings(environ={"KRAGREC_CONFIG": str(toml)}).candidates == 10


def test_unknown_toml_key_names_file_and_key(tmp_path):
    toml = write_toml(tmp_path, "sed = 3\n")
    with pytest.raises(SettingsError, match=r"kragrec.toml: field 'sed': unknown setting"):
        load_settings(environ={}, config_file=toml)


def test_bad_env_value_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match=r"KRAGREC_SEED: field 'seed': 'abc' is not a valid int"):
        load_settings(environ={"KRAGREC_SEED": "abc"}, config_file=tmp_path / "absent.toml")


def test_neo4j_backend_needs_a_uri(tmp_path):
    with pytest.raises(SettingsError, match="neo4j_uri"):
        load_settings({"backend": "neo4j"}, environ={}, config_file=tmp_path / "absent.toml")
    with pytest.raises(SettingsError, match="'postgres' is not one of embedded, neo4j"):
        load_settings({"backend": "postgres"}, environ={}, config_file=tmp_path / "absent.toml")


def test_the_vector_backend_defaults_to_edge_and_a_server_url_overrides_it(tmp_path):
    from kragrec.vectors.backends import vector_backend

    absent = tmp_path / "absent.toml"
    assert vector_backend(load_settings(environ={}, config_file=absent)) == "edge"
    local = load_settings(environ={"KRAGREC_VECTOR_BACKEND": "local"}, config_file=absent)
    assert vector_backend(local) == "local"
    env = {"KRAGREC_VECTOR_BACKEND": "local"}
    server = load_settings({"qdrant_url": "http://localhost:6333"}, environ=env, config_file=absent)
    assert vector_backend(server) == "server"
    with pytest.raises(SettingsError, match="setting 'vector_backend': 'faiss' is not one of edge, local"):
        load_settings({"vector_backend": "faiss"}, environ={}, config_file=absent)


def test_password_never_appears_in_repr_str_or_format(tmp_path):
    env = {"KRAGREC_NEO4J_PASSWORD": "hunter2-secret", "KRAGREC_NEO4J_URI": "bolt://localhost:7687"}
    settings = load_settings({"backend": "neo4j"}, environ=env, config_file=tmp_path / "absent.toml")
    assert settings.neo4j_password is not None
    assert settings.neo4j_password.reveal() == "hunter2-secret"
    shown = repr(settings) + str(settings) + f"{settings.neo4j_password}" + str(settings.neo4j_password)
    assert "hunter2" not in shown


def test_prepared_dir_names_every_option(tmp_path):
    settings = Settings(data_dir=tmp_path, dataset="tiny", history=5, candidates=10, min_rating=4, seed=2)
    assert settings.prepared_dir == tmp_path / "prepared" / "tiny" / "h5-c10-r4-s2"


@pytest.mark.parametrize(("raw", "expected"), [("0", False), ("false", False), ("yes", True), ("1", True)])
def test_boolean_settings_from_the_environment(raw, expected):
    assert load_settings(environ={"KRAGREC_RERANK": raw}, config_file=Path("/nonexistent")).rerank is expected


def test_a_bad_boolean_names_its_source():
    with pytest.raises(SettingsError, match="KRAGREC_RERANK: field 'rerank': 'maybe' is not a valid bool"):
        load_settings(environ={"KRAGREC_RERANK": "maybe"}, config_file=Path("/nonexistent"))
