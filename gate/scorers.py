"""Scoring one output: the deterministic scorers, and the judge's request and answer.

Pure: no network, files or clock. Deterministic scorers (`exact`, `contains`, `regex`,
`json_valid`) give 1.0 or 0.0. A judge scorer is two halves around a model call that the
engine makes: `judge_request` builds the (cacheable) request, `parse_judge_answer` reads the
score and the judge's reason out of whatever the judge answered, or raises JudgeUnparsable.
`explain_miss` says why a deterministic check failed, for the report's dropped cases.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from gate.errors import GateError, TemplateError
from gate.models import ChatRequest, Message, ScorerSpec

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


class JudgeUnparsable(GateError):
    """The judge's answer holds no score in range; recorded as that case's scorer error."""


# --------------------------------------------------------------------------- deterministic


def score_deterministic(spec: ScorerSpec, output: str, variables: dict[str, Any]) -> float:
    """1.0 when the output passes an exact/contains/regex/json_valid scorer, else 0.0."""
    expected = None if spec.type == "json_valid" else render_value(spec, variables)
    return score_against(spec, output, expected)


def score_against(spec: ScorerSpec, output: str, expected: str | None) -> float:
    """score_deterministic with the scorer's value already rendered (None for json_valid)."""
    if spec.type == "json_valid":
        try:
            json.loads(output)
        except ValueError:
            return 0.0
        return 1.0
    if spec.type == "judge":
        raise ValueError(f"scorer '{spec.name}' is a judge; use judge_request/parse_judge_score")
    if expected is None:
        raise TemplateError(f"scorer '{spec.name}' ({spec.type}) needs a `value`")
    if spec.type == "regex":
        flags = re.IGNORECASE if spec.ignore_case else 0
        try:
            pattern = _compile_regex(expected, flags)
        except re.error as exc:
            raise TemplateError(
                f"scorer '{spec.name}': invalid regular expression {expected!r}: {exc}"
            ) from None
        return 1.0 if pattern.search(output) else 0.0
    got, want = output.strip(), expected.strip()
    if spec.ignore_case:
        got, want = got.casefold(), want.casefold()
    if spec.type == "exact":
        return 1.0 if got == want else 0.0
    return 1.0 if want in got else 0.0  # contains


_SHOWN = 200  # characters of an expected value or pattern quoted in a reason


def explain_miss(spec: ScorerSpec, output: str, expected: str | None) -> str | None:
    """Why a deterministic check scored 0 (None when it passed): what the output lacked."""
    if score_against(spec, output, expected) == 1.0:
        return None
    if spec.type == "json_valid":
        try:
            json.loads(output)
        except ValueError as exc:
            return f"not valid JSON: {exc}"
        return None
    want = _quoted((expected or "").strip())
    case = " (ignoring case)" if spec.ignore_case else ""
    if spec.type == "contains":
        return f"missing {want}{case}"
    if spec.type == "exact":
        return f"expected exactly {want}{case}"
    return f"no match for the pattern {want}{case}"


def _quoted(text: str) -> str:
    return "“" + (text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…") + "”"


def render_value(spec: ScorerSpec, variables: dict[str, Any]) -> str:
    """The scorer's `value` template rendered with the case's columns (missing column → error)."""
    if spec.value is None:
        raise TemplateError(f"scorer '{spec.name}' ({spec.type}) needs a `value`")
    parts = substitution(spec.value)
    rendered = substitute(parts, variables) if parts is not None else None
    if rendered is not None:
        return rendered  # what jinja2 renders, 20× faster
    import jinja2  # only now: the common values above need none of it

    try:
        return _compile_template(spec.value).render(variables)
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


@lru_cache(maxsize=256)
def _compile_regex(source: str, flags: int) -> re.Pattern[str]:
    return re.compile(source, flags)


def _undefined_name(exc: jinja2.UndefinedError) -> str:
    match = re.search(r"'([^']+)' is undefined", str(exc.message))
    return match.group(1) if match else str(exc.message)


# --------------------------------------------------------------------------- judge

JUDGE_INSTRUCTIONS = """\
You are grading the output of an AI assistant against a rubric.

Rubric:
{rubric}

Score the output on an integer scale from 1 (worst) to {scale} (best), following the rubric.
Answer with a single JSON object and nothing else:
{{"score": <integer from 1 to {scale}>, "reason": "<one sentence>"}}"""


def judge_request(
    spec: ScorerSpec, variables: dict[str, Any], output: str, provider: str, base_url: str
) -> ChatRequest:
    """The request that asks the judge model to grade `output` (temperature 0, JSON answer)."""
    if spec.type != "judge" or spec.model is None or spec.rubric is None:
        raise ValueError(f"scorer '{spec.name}' is not a judge with a model and a rubric")
    system = JUDGE_INSTRUCTIONS.format(rubric=spec.rubric.strip(), scale=spec.scale)
    inputs = "\n".join(f"{name}: {_as_text(value)}" for name, value in variables.items())
    user = f"<input>\n{inputs}\n</input>\n\n<output>\n{output}\n</output>"
    return ChatRequest(
        provider=provider,
        base_url=base_url,
        model=spec.model,
        messages=(Message("system", system), Message("user", user)),
        params=(("temperature", 0),),
    )


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


_NUMBER = r"(\d+(?:\.\d+)?)"
_FENCED = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_PLAIN_FORMS = (
    # "Score: 4", "score = 4/5", "Final score: 4 out of 5", "Rating: 4", "Rating 4 out of 5"
    re.compile(
        rf"\b(?:score|rating|grade)\b\s*(?:is\s*)?[:=]?\s*\**\s*{_NUMBER}"
        rf"(?:\s*(?:/|out of)\s*(\d+))?",
        re.IGNORECASE,
    ),
    # "4/5", "4 out of 5"
    re.compile(rf"{_NUMBER}\s*(?:/|out of)\s*(\d+)", re.IGNORECASE),
    # a bare number: "4", "4."
    re.compile(rf"^\s*{_NUMBER}\s*\.?\s*$"),
)


REASON_LIMIT = 500  # characters of a judge's reason kept per case


def parse_judge_score(text: str, scale: int) -> float:
    """The score in a judge's answer (see parse_judge_answer)."""
    return parse_judge_answer(text, scale)[0]


def parse_judge_answer(text: str, scale: int) -> tuple[float, str | None]:
    """The score in a judge's answer and its reason, when it gave one.

    Read: `{"score": 4, "reason": "..."}` (also fenced, or inside prose), promptfoo's
    `{"pass": true, "score": 0.8, "reason": "..."}` (a 0..1 score, mapped onto 1..scale),
    "Score: 4", "4/5", "4 out of 5" and a bare "4".
    """
    found = _score_from_json(text, scale)
    score, reason = found if found is not None else (None, None)
    if score is None:
        score = _score_from_plain_text(text, scale)
    if score is None:
        raise JudgeUnparsable(f"the judge's answer holds no score: {_excerpt(text)}")
    if not 1 <= score <= scale:
        raise JudgeUnparsable(f"the judge's score {score:g} is outside 1..{scale}")
    return score, reason


def _score_from_json(text: str, scale: int) -> tuple[float | None, str | None] | None:
    candidates = [m.group(1) for m in _FENCED.finditer(text)] + [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            score = _json_score(data, scale)
            if score is not None:
                return score, _json_reason(data)
    return None


def _json_number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and re.fullmatch(_NUMBER, value.strip()):
        return float(value)
    return None


def _json_score(data: dict[str, Any], scale: int) -> float | None:
    passed = data.get("pass")
    if isinstance(passed, bool):  # promptfoo's grading result: a score in 0..1, or none
        number = _json_number(data.get("score"))
        if number is None:
            return float(scale) if passed else 1.0
        if 0 <= number <= 1:
            return 1 + number * (scale - 1)
        return number
    for key in ("score", "rating", "grade"):
        number = _json_number(data.get(key))
        if number is not None:
            return number
    return None


def _json_reason(data: dict[str, Any]) -> str | None:
    for key in ("reason", "reasoning", "explanation"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"
    return None


def _score_from_plain_text(text: str, scale: int) -> float | None:
    for form in _PLAIN_FORMS:
        match = form.search(text)
        if match is None:
            continue
        out_of = match.group(2) if form.groups >= 2 else None
        if out_of is not None and int(out_of) != scale:
            raise JudgeUnparsable(
                f"the judge scored on a scale of {out_of}, not 1..{scale}: {_excerpt(text)}"
            )
        return float(match.group(1))
    return None


def _excerpt(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    if not flat:
        return "(empty answer)"
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")
