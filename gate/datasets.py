"""Eval datasets: JSONL, CSV or YAML text → cases (an id and the columns as template variables).

Pure: takes the file's text. Every error is one line naming the file and, where there is
one, the line: `evals/support.jsonl:7: not valid JSON (Expecting ',' delimiter)`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from gate.errors import ConfigError, DatasetError
from gate.escape import clip, normalize_text
from gate.values import check_unicode, load_yaml, parse_failure


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    variables: dict[str, Any]


def parse_dataset(path: str, text: str, id_column: str = "id") -> tuple[Case, ...]:
    """Parse a dataset; ids come from `id_column` when every row has it, else the row number."""
    lower = path.lower()
    try:
        if lower.endswith((".jsonl", ".ndjson")):
            rows = _jsonl(path, text)
        elif lower.endswith(".csv"):
            rows = _csv(path, text)
        elif lower.endswith((".yaml", ".yml", ".json")):
            rows = _document(path, text)
        else:
            raise DatasetError(f"{path}: unknown dataset format; use .jsonl, .csv, .yaml or .json")
    except DatasetError:
        raise
    except ConfigError as exc:  # the YAML and Unicode checks shared with the config
        raise DatasetError(str(exc)) from None
    if not rows:
        raise DatasetError(f"{path}: the dataset has no cases; add at least one row")
    return _with_ids(path, rows, id_column)


def _jsonl(path: str, text: str) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, 10,000 brackets
            raise DatasetError(f"{path}:{number}: not valid JSON ({parse_failure(exc)})") from None
        if not isinstance(value, dict):
            raise DatasetError(f"{path}:{number}: expected a JSON object with the case's columns")
        if "\\u" in line:
            check_unicode(value, path, number)
        rows.append((number, value))
    return rows


def _csv(path: str, text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise DatasetError(f"{path}:1: not valid CSV ({_csv_problem(exc)})") from None
    if len(set(header)) != len(header) or any(not h.strip() for h in header):
        raise DatasetError(f"{path}:1: the header needs distinct, non-empty column names")
    rows: list[tuple[int, dict[str, Any]]] = []
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a field over the csv module's limit (128 KiB)
            raise DatasetError(
                f"{path}:{reader.line_num}: not valid CSV ({_csv_problem(exc)})"
            ) from None
        number = reader.line_num
        if not values:
            continue
        if len(values) != len(header):
            raise DatasetError(
                f"{path}:{number}: {len(values)} fields where the header has {len(header)}; "
                "quote values that contain commas"
            )
        rows.append((number, dict(zip(header, values, strict=True))))
    return rows


def _csv_problem(exc: csv.Error) -> str:
    text = " ".join(str(exc).split())
    if "field limit" in text:
        return f"{text}; keep long texts in a JSONL dataset"
    return text


def _document(path: str, text: str) -> list[tuple[int, dict[str, Any]]]:
    data = load_yaml(text, path)
    try:  # columns become template variables and JSON: an alias that contains itself cannot
        json.dumps(data, default=str)
    except (ValueError, RecursionError):
        raise DatasetError(f"{path}: a YAML alias refers to itself; write the value out") from None
    if data is None:
        return []
    if isinstance(data, dict) and isinstance(data.get("cases"), list):
        data = data["cases"]
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a list of cases (or a `cases:` list)")
    rows: list[tuple[int, dict[str, Any]]] = []
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise DatasetError(f"{path}: case {index} is not a mapping of columns")
        rows.append((index, item))
    return rows


def _with_ids(
    path: str, rows: list[tuple[int, dict[str, Any]]], id_column: str
) -> tuple[Case, ...]:
    has_ids = all(id_column in row for _, row in rows)
    if not has_ids and any(id_column in row for _, row in rows):
        missing = next(number for number, row in rows if id_column not in row)
        raise DatasetError(f"{path}:{missing}: this case has no `{id_column}` while others do")
    seen: dict[str, int] = {}
    cases: list[Case] = []
    for index, (number, row) in enumerate(rows, start=1):
        case_id = str(row[id_column]) if has_ids else str(index)
        if case_id in seen:
            shown = clip(" ".join(normalize_text(case_id).split()), 80)
            raise DatasetError(
                f"{path}:{number}: duplicate case id '{shown}' (first at {seen[case_id]}); "
                "case ids must be unique"
            )
        seen[case_id] = number
        cases.append(Case(case_id, row))
    return tuple(cases)
