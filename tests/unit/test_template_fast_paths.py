"""Fast template paths render exactly what jinja2 renders (cache keys depend on every byte)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import SandboxedEnvironment

from gate.errors import TemplateError
from gate.models import ScorerSpec
from gate.plan import _compile, _RenderError
from gate.scorers import render_value

ROOT = Path(__file__).resolve().parents[2]
JINJA = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
NAMES = ["question", "a", "b_2", "none", "True"]  # jinja2 reads the last two itself
VALUES = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
PIECES = st.one_of(
    st.text(alphabet="ab \n\r\t:?é}{%#-", max_size=8),
    st.sampled_from(NAMES).map(lambda n: f"{{{{ {n} }}}}"),
    st.sampled_from(NAMES).map(lambda n: f"{{{{{n}}}}}"),
    st.sampled_from(["{{ a }", "{{- a }}", "{{ a|upper }}", "{% if a %}x{% endif %}", "{# c #}"]),
)


def jinja(text: str, variables: dict[str, Any]) -> str | None:
    """What jinja2 renders, or None when it cannot."""
    try:
        return JINJA.from_string(text).render(variables)
    except jinja2.TemplateError:
        return None


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(PIECES, max_size=6), values=st.fixed_dictionaries({n: VALUES for n in NAMES})
)
def test_prompt_templates_render_as_jinja2_does(pieces: list[str], values: dict[str, Any]) -> None:
    """Substitution (when a prompt's only tags are `{{ name }}`) gives jinja2's exact text."""
    text = "".join(pieces)
    expected = jinja(text, values)
    if expected is None:
        return  # a syntax or render error: the plan reports it through jinja2 either way
    assert _compile("p.j2", text).render(values) == expected


def test_a_missing_column_is_still_jinja2s_error() -> None:
    """A prompt naming a column the case lacks fails as jinja2 fails, not with a KeyError."""
    template = _compile("p.j2", "Q: {{ question }}")
    assert template.parts is not None
    with pytest.raises(_RenderError, match="'question' is undefined") as caught:
        template.render({"other": 1})
    assert caught.value.undefined


def test_line_breaks_of_the_template_become_newlines_not_those_of_values() -> None:
    """CRLF in the template's text renders as LF; a value's own CRLF is kept."""
    template = _compile("p.j2", "a\r\nb {{ question }}\r")
    assert template.render({"question": "x\r\ny"}) == "a\nb x\r\ny\n"


@pytest.mark.parametrize(
    ("value", "variables"),
    [
        ("{{ expected }}", {"expected": "Paris\n"}),
        ("{{expected}}", {"expected": "a b"}),
        ("\\d+", {}),
        ("no tags at all\r\n", {}),
        ("{{ expected }}", {"expected": 42}),
        ("{{ expected | upper }}", {"expected": "x"}),
        ("{{ none }}", {"none": "a column jinja2 does not read"}),
        ("{{ True }}", {"True": "nor this one"}),
    ],
)
def test_scorer_values_render_as_jinja2_does(value: str, variables: dict[str, Any]) -> None:
    """A scorer's `{{ column }}` or tag-free value takes a shortcut to jinja2's own result."""
    spec = ScorerSpec(name="m", type="contains", value=value)
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    assert render_value(spec, variables) == environment.from_string(value).render(variables)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(PIECES, max_size=6), values=st.fixed_dictionaries({n: VALUES for n in NAMES})
)
def test_scorer_values_with_any_tags_render_as_jinja2_does(
    pieces: list[str], values: dict[str, Any]
) -> None:
    """Scorer values take the prompts' substitution: it gives jinja2's exact text as well."""
    text = "".join(pieces)
    expected = jinja(text, values)
    if expected is None:
        return  # a syntax or render error: render_value reports it through jinja2 either way
    assert render_value(ScorerSpec(name="m", type="contains", value=text), values) == expected


def test_a_scorer_value_naming_a_missing_column_is_a_template_error() -> None:
    """The shortcut never hides a missing column."""
    spec = ScorerSpec(name="m", type="contains", value="{{ expected }}")
    with pytest.raises(TemplateError, match="uses the column 'expected'"):
        render_value(spec, {"other": "x"})


def test_plain_prompts_and_values_never_import_jinja2() -> None:
    """jinja2 (a tenth of a second to import) waits until a template needs more than
    `{{ column }}`: a plan of plain prompts and scorer values starts its calls without it."""
    code = (
        "import sys\n"
        "from gate.plan import _compile\n"
        "from gate.models import ScorerSpec\n"
        "from gate.scorers import render_value\n"
        "assert _compile('p.j2', 'Q: {{ q }}\\n').render({'q': 1}) == 'Q: 1\\n'\n"
        "spec = ScorerSpec(name='m', type='contains', value='{{ a }}')\n"
        "assert render_value(spec, {'a': 'x'}) == 'x'\n"
        "print('jinja2' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
