"""Values kept in other files: `{file: config/models.yaml, key: support.model}`.

Pure: callers pass the file's text (the shell reads it from the working tree or at a commit).
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

import yaml

from gate.errors import ConfigError

VALUE_FILE_TYPES = (".yaml", ".yml", ".json")
_HINT_KEYS = 10  # keys listed when one is not found


def read_value(text: str | None, file: str, key: str) -> Any:
    """The value at the dotted `key` of a YAML or JSON file's text.

    Each part of the key names a mapping key; a part made of digits may also index a list
    (`models.0.id`). Raise ConfigError naming the file and the key when it is not there.
    """
    if text is None:
        raise ConfigError(f"{file}: file not found (or not text); it should hold the key '{key}'")
    node = parse_value_file(text, file)
    walked: list[str] = []
    for part in key.split("."):
        found, node = _child(node, part)
        if not found:
            raise ConfigError(f"{file}: key '{key}' not found{_hint(node, walked)}")
        walked.append(part)
    return node


def parse_value_file(text: str, file: str) -> Any:
    """Parse a `.yaml`, `.yml` or `.json` file's text; ConfigError names the file and line."""
    suffix = posixpath.splitext(file)[1].lower()
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{file}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if suffix in (".yaml", ".yml"):
        try:
            return yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{file}:{mark.line + 1}" if mark else file
            raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: invalid YAML: {exc}") from None
    raise ConfigError(
        f"{file}: cannot read keys from a '{suffix or 'extensionless'}' file; "
        f"use one of: {', '.join(VALUE_FILE_TYPES)}"
    )


def format_value(value: Any) -> str:
    """Render a value for people: scalars plain, mappings and lists as one-line sorted JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple | bool) or value is None:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def _child(node: Any, part: str) -> tuple[bool, Any]:
    """(True, child) when `node` has `part`; else (False, node) so the hint can list keys."""
    if isinstance(node, dict):
        if part in node:
            return True, node[part]
        # YAML keys may load as numbers or booleans (`1:`, `true:`); match them by their text.
        for key, child in node.items():
            if not isinstance(key, str) and format_value(key) == part:
                return True, child
        return False, node
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return True, node[int(part)]
    return False, node


def _hint(node: Any, walked: list[str]) -> str:
    where = f"under '{'.'.join(walked)}'" if walked else "at the top level"
    if isinstance(node, dict) and node:
        keys = sorted(format_value(k) for k in node)
        shown = ", ".join(keys[:_HINT_KEYS]) + (", ..." if len(keys) > _HINT_KEYS else "")
        return f" (keys {where}: {shown})"
    if isinstance(node, list):
        return f" ({where} is a list of {len(node)} items)"
    return f" ({where} is not a mapping)"
