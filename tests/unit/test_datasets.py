"""Unit tests of dataset parsing: JSONL, CSV and YAML, with line-numbered errors."""

from __future__ import annotations

import pytest

from gate.datasets import parse_dataset
from gate.errors import DatasetError


def _error(path: str, text: str) -> str:
    with pytest.raises(DatasetError) as info:
        parse_dataset(path, text)
    return str(info.value)


def test_jsonl_with_ids() -> None:
    """JSONL rows keep their columns and use the `id` column."""
    cases = parse_dataset("d.jsonl", '{"id": "a", "q": 1}\n\n{"id": "b", "q": 2}\n')
    assert [c.id for c in cases] == ["a", "b"]
    assert cases[1].variables == {"id": "b", "q": 2}


def test_rows_without_ids_are_numbered() -> None:
    """Without an id column, cases are numbered from 1."""
    cases = parse_dataset("d.csv", "question,expected\nhi,hello\nbye,goodbye\n")
    assert [c.id for c in cases] == ["1", "2"]
    assert cases[0].variables == {"question": "hi", "expected": "hello"}


def test_yaml_list_and_cases_key() -> None:
    """YAML may be a list or a mapping with `cases:`."""
    assert len(parse_dataset("d.yaml", "- {q: 1}\n- {q: 2}\n")) == 2
    assert len(parse_dataset("d.yml", "cases:\n  - {q: 1}\n")) == 1


def test_jsonl_line_that_is_not_json() -> None:
    """A bad JSONL line is named by number."""
    assert _error("d.jsonl", '{"q": 1}\n{"q": 2,}\n').startswith("d.jsonl:2: not valid JSON")


def test_csv_ragged_row() -> None:
    """A CSV row with the wrong number of fields is named by line."""
    message = _error("d.csv", "a,b\n1,2\n3,4,5\n")
    assert message.startswith("d.csv:3: 3 fields where the header has 2")


def test_empty_dataset() -> None:
    """An empty dataset is an error, not a silent pass."""
    assert "no cases" in _error("d.jsonl", "\n\n")


def test_duplicate_ids() -> None:
    """Duplicate case ids are refused with both places."""
    message = _error("d.jsonl", '{"id": 1}\n{"id": 2}\n{"id": 1}\n')
    assert message == "d.jsonl:3: duplicate case id '1' (first at 1); case ids must be unique"


def test_partial_ids() -> None:
    """Some rows with an id and some without is an error."""
    assert "has no `id`" in _error("d.jsonl", '{"id": 1}\n{"q": 2}\n')


def test_unknown_format() -> None:
    """An unknown extension asks for a supported format."""
    assert "unknown dataset format" in _error("d.txt", "x")
