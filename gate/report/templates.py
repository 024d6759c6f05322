"""The jinja2 environment of the report's templates (gate/templates/), built once and cached.

Pure. Text that came from a model, a dataset or the repository is escaped explicitly with
`gate.escape` before it reaches a template; autoescape is off.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from gate.escape import (
    escape_block,
    escape_cell,
    escape_code,
    escape_fenced,
    escape_inline,
    escape_plain,
    escape_url,
    escape_wrapped,
)
from gate.report.numbers import _count

if TYPE_CHECKING:
    from jinja2 import Environment, Template


@cache
def _environment() -> Environment:
    # jinja2 and tabulate are imported on first use: a cold run imports them on a thread
    # while its calls are in flight (gate/pipeline.py), not before the first call.
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("gate", "templates"),
        undefined=StrictUndefined,
        autoescape=False,  # markdown, not HTML: escaping is explicit, per place (gate.escape)
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        cell=escape_cell,
        inline=escape_inline,
        block=escape_block,
        wrapped=escape_wrapped,
        code=escape_code,
        fenced=escape_fenced,
        url=escape_url,
        plain=escape_plain,
        count=_count,
    )
    return env


def _template(name: str) -> Template:
    return _environment().get_template(name)


def compile_templates() -> None:
    """Compile every template now (jinja2 keeps them): a cold run calls this on a thread while
    its calls are in flight, so its report does not wait the 0.1 s compiling takes."""
    environment = _environment()
    for name in environment.list_templates():
        environment.get_template(name)
