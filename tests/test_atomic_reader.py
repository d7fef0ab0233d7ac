"""The RecBole atomic reader: valid files parse, every broken fixture names its file, line and field."""

from __future__ import annotations

import pytest

from kragrec.data.atomic import read_atomic
from kragrec.data.dataset import load_dataset
from kragrec.errors import DataError

from conftest import BROKEN, TINY

BROKEN_CASES = {
    "bad_header": ("tiny.inter", 1, "item_id", "is not 'name:type'"),
    "wrong_type": ("tiny.inter", 4, "rating", "'five' is not a finite float"),
    "missing_column": ("tiny.kg", 1, "tail_id", "missing required column 'tail_id:token'"),
    "short_row": ("tiny.user", 3, "gender", "missing value (row has 2 of 4 columns)"),
    "dangling_link": ("tiny.link", 22, "item_id", "linked item '999' is not in tiny.item"),
    "empty_file": ("tiny.item", 1, "header", "file is empty"),
    "duplicate_rows": ("tiny.inter", 40, "item_id", "user '1' already rated item '22' at line 6"),
    "non_utf8": ("tiny.item", 7, "movie_title", "invalid UTF-8 byte 0xff"),
    "unknown_user": ("tiny.inter", 40, "user_id", "user '77' is not in tiny.user"),
    "header_only": ("tiny.inter", 0, "file", "no interactions: the file has a header but no rows"),
}


def test_tiny_dataset_reads_with_types_and_drops_duplicate_triples():
    dataset = load_dataset(TINY, "tiny")
    assert len(dataset.users) == 6
    assert len(dataset.items) == 30
    assert len(dataset.links) == 20
    assert dataset.duplicate_triples == 1
    assert len(dataset.triples) == 101
    assert dataset.items["1"].year == 1981
    assert all(isinstance(i.rating, float) for i in dataset.interactions)
    assert "x'}) DETACH DELETE n //" in dataset.users


def test_header_types_and_line_numbers_are_kept():
    table = read_atomic(TINY / "tiny.item")
    assert [(f.name, f.type) for f in table.fields] == [
        ("item_id", "token"),
        ("movie_title", "token_seq"),
        ("release_year", "token"),
        ("class", "token_seq"),
    ]
    assert table.lines[0] == 2
    assert table.column("movie_title")[0] == ("Film", "1")


@pytest.mark.parametrize("case", sorted(BROKEN_CASES))
def test_broken_fixture_reports_file_line_and_field(case):
    file_name, line, field, problem = BROKEN_CASES[case]
    with pytest.raises(DataError) as raised:
        load_dataset(BROKEN / case, "tiny")
    error = raised.value
    assert (error.path.endswith(file_name), error.line, error.field) == (True, line, field)
    assert problem in error.problem
    assert str(error) == f"{BROKEN / case / file_name}:{line}: field '{field}': {error.problem}"
    assert "\n" not in str(error)


def test_every_broken_fixture_folder_has_an_expectation():
    assert sorted(p.name for p in BROKEN.iterdir()) == sorted(BROKEN_CASES)
