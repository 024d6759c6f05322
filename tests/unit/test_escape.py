"""Property tests of gate.escape: text from a model or a dataset stays inert wherever it goes."""

from __future__ import annotations

import html
import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from gate.escape import (
    ZWJ,
    ZWSP,
    clip,
    code_fence,
    escape_block,
    escape_cell,
    escape_code,
    escape_fenced,
    escape_inline,
    escape_plain,
    escape_url,
    escape_wrapped,
    longest_run,
    neutralise_commands,
    normalize_text,
)

HOSTILE = [
    "|",
    "\n",
    "\r\n",
    "\r",
    "</details>",
    "</pre>",
    "<pre>",
    "<script>alert(1)</script>",
    "![x](http://evil.test/p.png)",
    "[link](javascript:alert(1))",
    "@octocat",
    "@acme/security",
    "a@b.com",
    "#1",
    "acme/app#12",
    "```",
    "````",
    "`",
    "~~~",
    "::set-output name=x::y",
    "::add-mask::secret",
    "::error::boom",
    "  ::add-mask::indented",
    "\u00a0::warning::nbsp",
    "\u3000::error::ideographic space",
    "##[add-mask]legacy",
    "##[set-output name=verdict;]pass",
    ":",
    "&lt;b&gt;",
    "&amp;",
    "&#124;",
    "\\",
    "\\|",
    "\x1b[31m",
    "\x00",
    "\u202e",
    "\t",
    " ",
    "<br>",
    ZWJ,
]

hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text()), max_size=12).map("".join)
limits = st.one_of(st.none(), st.integers(min_value=1, max_value=200))
fast = settings(max_examples=300, deadline=None)


def no_mention(text: str) -> bool:
    """No `@` is directly followed by a word character (GitHub would link a user or team)."""
    return re.search(r"@\w", text) is None


def no_issue_reference(text: str) -> bool:
    """No `#` is directly followed by a digit, except in our own character references."""
    return re.search(r"(?<!&)#\d", text) is None


def no_command_line(text: str) -> bool:
    """No line starts with `::` after its leading whitespace (the runner trims it), and no
    legacy `##[` command appears anywhere (a workflow command if it ever reached a job log)."""
    return re.search(r"^[^\S\n]*::", text, re.MULTILINE) is None and "##[" not in text


def decoded(text: str) -> str:
    """What a reader sees, minus the invisible joiners."""
    return html.unescape(text).replace(ZWJ, "")


@fast
@given(hostile_text, limits)
def test_cell_is_one_inert_table_cell(text: str, limit: int | None) -> None:
    """A cell has no raw `|`, newline, tag (but `<br>`), mention, issue link or command line."""
    cell = escape_cell(text, limit)
    assert "|" not in cell and "\n" not in cell and "\r" not in cell
    assert "<" not in cell.replace("<br>", "") and ">" not in cell.replace("<br>", "")
    assert "`" not in cell and "[" not in cell and "\\" not in cell
    assert no_mention(cell) and no_issue_reference(cell) and no_command_line(cell)


@fast
@given(hostile_text, limits)
def test_cell_shows_the_text(text: str, limit: int | None) -> None:
    """Decoding a cell gives back the (capped) text: escaping hides nothing."""
    cell = escape_cell(text, limit)
    expected = clip(normalize_text(text), limit).replace(ZWJ, "")
    assert decoded(cell.replace("<br>", "\n")) == expected


@fast
@given(hostile_text, limits)
def test_inline_is_one_inert_line(text: str, limit: int | None) -> None:
    """Inline text has no newline, tag, pipe, backtick, link bracket, mention or command."""
    inline = escape_inline(text, limit)
    assert not any(c in inline for c in "\n\r<>|`[]\\")
    assert no_mention(inline) and no_issue_reference(inline) and no_command_line(inline)
    expected = clip(" ".join(normalize_text(text).split("\n")), limit).replace(ZWJ, "")
    assert decoded(inline) == expected


@fast
@given(hostile_text, limits)
def test_block_cannot_close_anything(text: str, limit: int | None) -> None:
    """A <pre> block's content has no tag at all, so `</pre>` or `</details>` cannot appear."""
    block = escape_block(text, limit)
    assert "<" not in block and ">" not in block and "`" not in block
    assert no_mention(block) and no_issue_reference(block) and no_command_line(block)
    assert "\r" not in block


@fast
@given(hostile_text)
def test_block_keeps_whitespace_and_text(text: str) -> None:
    """An uncapped block shows exactly the normalised text, newlines and spaces included."""
    assert decoded(escape_block(text)) == normalize_text(text).replace(ZWJ, "")


def test_block_says_how_much_was_cut() -> None:
    """A capped block ends with a line giving the number of characters left out."""
    assert escape_block("x" * 1_500, 1_000) == "x" * 1_000 + "…\n[500 more characters]"


@fast
@given(hostile_text, limits)
def test_code_span_cannot_be_closed_early(text: str, limit: int | None) -> None:
    """The code span's delimiter is longer than any backtick run of its content."""
    span = escape_code(text, limit)
    fence = re.match(r"`+", span)
    assert fence is not None and span.endswith(fence.group(0))
    inner = span[len(fence.group(0)) : -len(fence.group(0))]
    assert longest_run(inner, "`") < len(fence.group(0))
    assert "\n" not in span and "\r" not in span


@fast
@given(hostile_text)
def test_code_fence_is_longer_than_any_backtick_run(text: str) -> None:
    """A fenced block's fence cannot be closed by its content."""
    fence = code_fence(text)
    assert len(fence) >= 3 and len(fence) > longest_run(text, "`")


@fast
@given(hostile_text)
def test_fenced_content_starts_no_command(text: str) -> None:
    """Diff content keeps its text but no line starts with `::` or holds a control character."""
    fenced = escape_fenced(text)
    assert no_command_line(fenced)
    assert not any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in fenced)


@fast
@given(hostile_text, limits)
def test_plain_has_no_control_characters(text: str, limit: int | None) -> None:
    """A terminal line has no escape sequence, newline or leading workflow command."""
    plain = escape_plain(text, limit)
    assert not any(unicodedata.category(c) == "Cc" and c != "\t" for c in plain)
    assert no_command_line(plain)


@fast
@given(hostile_text)
def test_url_stays_one_link_destination(text: str) -> None:
    """A link destination has no space, parenthesis, angle bracket or newline."""
    url = escape_url(text)
    assert not any(c in url for c in ' ()<>\n\r\t"`')


@fast
@given(hostile_text)
def test_neutralised_text_starts_no_command(text: str) -> None:
    """After neutralise_commands no line starts with `::`."""
    assert no_command_line(neutralise_commands(text))


def test_mentions_and_references_look_the_same() -> None:
    """Neutralised mentions read as before: only an invisible joiner is added."""
    assert escape_inline("ping @octocat about #12") == f"ping @{ZWJ}octocat about #{ZWJ}12"


def test_clip_marks_the_cut() -> None:
    """Clipped text ends with an ellipsis and keeps the limit."""
    assert clip("abcdef", 4) == "abc…"
    assert clip("abc", 4) == "abc"
    assert clip("abc", 0) == ""


def test_indented_and_legacy_commands_are_broken() -> None:
    """The runner trims leading whitespace before `::` and finds `##[` anywhere in a line."""
    assert escape_plain("  ::add-mask::x") == f"  {ZWSP}::add-mask::x"
    assert escape_plain("ok ##[add-mask]x") == f"ok ##{ZWSP}[add-mask]x"
    assert neutralise_commands("a\n\t::error::b") == f"a\n\t{ZWSP}::error::b"
    assert escape_block("x\n   ::set-output name=a::b") == "x\n   &#58;:set-output name=a::b"


@fast
@given(hostile_text, limits)
def test_wrapped_output_is_one_inert_line(text: str, limit: int | None) -> None:
    """An output for a <code> element: one line, no tag but `<br>`, no mention or command."""
    wrapped = escape_wrapped(text, limit)
    assert "\n" not in wrapped and "\r" not in wrapped
    assert "<" not in wrapped.replace("<br>", "") and "`" not in wrapped
    assert no_mention(wrapped) and no_issue_reference(wrapped)


@fast
@given(hostile_text)
def test_wrapped_output_copies_as_the_text(text: str) -> None:
    """An uncapped output reads back as the normalised text, newlines and spaces included."""
    wrapped = escape_wrapped(text).replace("<br>", "\n")
    assert decoded(wrapped) == normalize_text(text).replace(ZWJ, "")


def test_wrapped_output_says_how_much_was_cut() -> None:
    """A capped output ends with a line giving the number of characters left out."""
    assert escape_wrapped("x" * 1_500, 1_000) == "x" * 1_000 + "…<br>[500 more characters]"


def test_markup_that_github_would_render_is_referenced() -> None:
    """Autolinks, emphasis, strikethrough, emoji shortcodes and block starts stay text."""
    assert escape_inline("see http://evil.test and www.evil.test") == (
        "see http&#58;//evil.test and www&#46;evil.test"
    )
    assert escape_inline("**b** _i_ ~~s~~ json_valid") == (
        "&#42;&#42;b&#42;&#42; &#95;i&#95; &#126;&#126;s&#126;&#126; json_valid"
    )
    assert escape_inline("ok :shipit:") == f"ok :{ZWJ}shipit:"
    assert escape_inline("# title") == "&#35; title"
    assert escape_inline("1. item") == "&#49;. item"
    assert escape_inline("  x") == "&#32;&#32;x"
