"""Values kept in other files: `{file: config/models.yaml, key: support.model}`.

Pure: callers pass the file's text (the shell reads it from the working tree or at a commit).
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any

import yaml

from gate.errors import ConfigError

VALUE_FILE_TYPES = (".yaml", ".yml", ".json")
_SURROGATE = re.compile("[\ud800-\udfff]")
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
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{file}:{exc.lineno}: invalid JSON: {exc.msg}") from None
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, 10,000 brackets
            raise ConfigError(f"{file}: invalid JSON: {parse_failure(exc)}") from None
        if "\\u" in text:
            check_unicode(data, file)
        return data
    if suffix in (".yaml", ".yml"):
        return load_yaml(text, file)
    raise ConfigError(
        f"{file}: cannot read keys from a '{suffix or 'extensionless'}' file; "
        f"use one of: {', '.join(VALUE_FILE_TYPES)}"
    )


def load_yaml(text: str, file: str) -> Any:
    """`yaml.safe_load`, with whatever the parser raises as one ConfigError line naming the file.

    Besides YAMLError, PyYAML's constructors raise ValueError (a 5,000-digit integer, month
    13 in a date), AttributeError (`!!timestamp x`) and RecursionError (deep nesting): text
    from a pull request must never turn into a traceback.
    """
    try:
        data = yaml.safe_load(text)
    except Exception as exc:  # the parser's failure is the file's problem, never a crash
        raise yaml_error(exc, text, file) from None
    if "\\u" in text or "\\U" in text:
        check_unicode(data, file)
    return data


def check_unicode(data: Any, file: str, line: int | None = None) -> None:
    """Raise ConfigError when a string in `data` holds an unpaired surrogate.

    Only an escape (`"\\ud800"` in JSON or YAML) makes one, and no UTF-8 text, request body
    or cache entry can hold it.
    """
    stack, seen = [data], set()
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                where = f"{file}:{line}" if line else file
                raise ConfigError(
                    f"{where}: holds an unpaired surrogate escape (such as \\ud800), "
                    "which is not text; remove or fix it"
                )
        elif isinstance(value, dict | list | tuple | set) and id(value) not in seen:
            seen.add(id(value))
            stack.extend(value.values() if isinstance(value, dict) else value)
            if isinstance(value, dict):
                stack.extend(value)


def yaml_error(exc: BaseException, text: str, file: str) -> ConfigError:
    """What went wrong while loading YAML `text`, as `file:line: invalid YAML: problem`."""
    line: int | None = None
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
    elif isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        problem = f"unacceptable character #x{ord(char):04x}: {exc.reason}"
    else:
        problem = parse_failure(exc)
    where = f"{file}:{line}" if line else file
    return ConfigError(f"{where}: invalid YAML: {' '.join(problem.split())}")


def parse_failure(exc: BaseException) -> str:
    """A parser's unexpected exception in words (never a traceback)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = " ".join(str(exc).split())
    if "integer string conversion" in text:
        return "a number has too many digits"
    return text or type(exc).__name__


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
