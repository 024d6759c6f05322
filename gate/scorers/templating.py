"""Rendering a scorer's value with a case's columns, and the sandbox prompts render in.

Pure: no network, files or clock. A value whose only tags are `{{ column }}` is substituted
without jinja2 (`substitution`, `substitute`; gate/plan.py renders prompts the same way);
anything else renders in jinja2's sandbox, where `regex_escape` is a filter.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from gate.errors import TemplateError
from gate.models import ScorerSpec

if TYPE_CHECKING:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

# `{{ expected }}`: a tag that renders one column. Prompts (gate/plan.py) and scorer values
# whose only tags are these are rendered by `substitution`, without jinja2.
COLUMN_TAG = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_JINJA_CONSTANTS = frozenset({"true", "false", "none"})


_LINE_BREAK = re.compile(r"\r\n?")


def is_column_name(name: str) -> bool:
    """Whether jinja2 reads `{{ name }}` as the variable `name`: not for a Python keyword (a
    syntax error, or True/False/None) nor for jinja2's own true/false/none."""
    return not keyword.iskeyword(name) and name not in _JINJA_CONSTANTS


@lru_cache(maxsize=256)
def substitution(text: str) -> tuple[str, ...] | None:
    """A template split around its `{{ column }}` tags (literal, name, literal, …, literal),
    when those are its only tags; None when only jinja2 can render it."""
    parts = tuple(COLUMN_TAG.split(_LINE_BREAK.sub("\n", text)))
    if any("{" in literal for literal in parts[0::2]):
        return None  # another tag, or a brace jinja2 might read differently: jinja2 decides
    if not all(is_column_name(name) for name in parts[1::2]):
        return None  # `{{ none }}` is jinja2's None, `{{ if }}` a syntax error, not a column
    return parts


def substitute(parts: tuple[str, ...], variables: Mapping[str, Any]) -> str | None:
    """What jinja2 renders for a template of `substitution` parts: `str(value)` for each tag
    and `\n` for each line break of the template's text. None when a column is missing, so
    that jinja2 gives its error."""
    if not all(name in variables for name in parts[1::2]):
        return None
    pieces = list(parts)
    for i in range(1, len(pieces), 2):
        pieces[i] = str(variables[pieces[i]])
    return "".join(pieces)


def render_value(spec: ScorerSpec, variables: dict[str, Any]) -> str:
    """The scorer's `value` template rendered with the case's columns (missing column → error)."""
    if spec.value is None:
        raise TemplateError(f"scorer '{spec.name}' ({spec.type}) needs a `value`")
    return render_text(spec, spec.value, variables)


def render_text(spec: ScorerSpec, source: str, variables: dict[str, Any]) -> str:
    """One of the scorer's templates (its `value`, an item of its `values`) rendered."""
    parts = substitution(source)
    rendered = substitute(parts, variables) if parts is not None else None
    if rendered is not None:
        return rendered  # what jinja2 renders, 20× faster
    import jinja2  # only now: the common values above need none of it

    try:
        return _compile_template(source).render(variables)
    except jinja2.UndefinedError as exc:
        column = _undefined_name(exc)
        known = ", ".join(sorted(variables)) or "none"
        raise TemplateError(
            f"scorer '{spec.name}': its value uses the column '{column}', "
            f"which this case does not have (columns: {known})"
        ) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"scorer '{spec.name}': cannot render its value: {exc}") from None


@cache
def _sandbox(regex_escape: bool) -> SandboxedEnvironment:
    """Prompts and scorer values come from the pull request: they render in jinja2's sandbox,
    inside a process that holds the keys. Scorer values also get `regex_escape`."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    if regex_escape:
        # `{{ expected | regex_escape }}` matches a column's text literally in a regex scorer
        env.filters["regex_escape"] = re.escape
    return env


def sandboxed(source: str, *, regex_escape: bool = False) -> jinja2.Template:
    """`source` compiled in the sandbox (jinja2's TemplateSyntaxError when it cannot be)."""
    template = _sandbox(regex_escape).from_string(source)
    # a plain dict, not jinja2's ChainMap over the environment's, which it copies into each
    # render's context: renders three times faster (nothing adds globals later)
    template.globals = dict(template.globals)
    return template


@lru_cache(maxsize=256)
def _compile_template(source: str) -> jinja2.Template:
    return sandboxed(source, regex_escape=True)


def _undefined_name(exc: jinja2.UndefinedError) -> str:
    match = re.search(r"'([^']+)' is undefined", str(exc.message))
    return match.group(1) if match else str(exc.message)
