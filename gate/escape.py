"""Making untrusted text inert in the markdown llm-gate writes.

Model outputs, dataset rows, case ids and file contents reach the PR comment, the job summary
and the terminal. On GitHub such text could otherwise break a table (`|`, newlines), close the
report's own HTML (`</details>`), embed tracking images (`![x](http://...)`), ping people or
teams (`@org/team`), link unrelated issues (`#123`) or, when printed to a workflow log, run a
workflow command (`::add-mask::`, `::set-output`). Each function here is made for one place in
the markdown and is pure, so the templates pick the right one explicitly.

- `escape_cell`: one markdown table cell.
- `escape_inline`: a word or phrase in running text or inside an HTML tag (`<summary>`).
- `escape_block`: the content of a `<pre>` block (multi-line, whitespace kept).
- `escape_wrapped`: a model output inside `<code>` in running text: wraps at the comment's
  width (GitHub never wraps `<pre>` and strips `style`), newlines as `<br>`, copyable as is.
- `escape_code`: an inline code span, delimiters included.
- `code_fence`: a fence that no backtick run of a fenced block's content can close.
- `escape_url`: a link destination.
- `escape_plain`: a terminal or log line (no control sequences, no workflow commands).
"""

from __future__ import annotations

import re
from urllib.parse import quote

ELLIPSIS = "…"
ZWJ = "\u200d"  # zero-width joiner: breaks `@user` and `#123` without changing what people see
ZWSP = "\u200b"  # zero-width space: keeps a line from starting with `::` where entities don't work

# Characters that mean something to GitHub-flavoured markdown or HTML in running text, and the
# numeric character references that display them literally in both contexts.
_INLINE_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "|": "&#124;",  # table cell separator (GFM splits cells before inline parsing)
    "`": "&#96;",  # code spans
    "\\": "&#92;",  # backslash escapes
    "[": "&#91;",  # links and images: `![x](http://...)`
    "]": "&#93;",
    "*": "&#42;",  # emphasis: `**x**`, `*x*`
    "~": "&#126;",  # strikethrough: `~~x~~`
}
_BLOCK_CHARS = "&<>`[]"  # inside <pre>: tags, and fences or links should a renderer look

# GFM's autolink extension links `http://…`, `https://…`, `ftp://…` and `www.…` in any text
# (https://github.github.com/gfm/#autolinks-extension-); a character reference for the `:`
# or the `.` keeps cmark-gfm from seeing the pattern, and shows the same characters.
_SCHEME = re.compile(r":(?=//)")
_WWW = re.compile(r"(?<![\w.])(www)\.", re.IGNORECASE)
# GitHub turns `:shipit:` into an emoji after rendering, on the HTML's text (character
# references are decoded by then), so an invisible joiner after the first colon breaks it.
_EMOJI = re.compile(r":(?=[\w+-]+:)")
# What makes a line's start a block: a heading (`# `), a list item (`- `, `+ `, `1. `, `1) `),
# a setext underline or thematic break (`=`, `-`), or an indented code block (spaces, tabs).
_BLOCK_START = re.compile(r"^(?:[#+=-]|\d{1,9}[.)])")
_INDENT = re.compile(r"^[ \t]+")


# `_` opens or closes emphasis only at the edge of a word (GFM's flanking rules): `json_valid`
# stays as it is, `_x_` and `__x__` become references.
_EDGE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")


def _replace(text: str, chars: str | None = None) -> str:
    # Chained str.replace runs in C, much faster than str.translate with a dict; `&` goes
    # first so the references added afterwards are not escaped again.
    for char, entity in _INLINE_ENTITIES.items():
        if chars is None or char in chars:
            text = text.replace(char, entity)
    if chars is None and "_" in text:
        text = _EDGE_UNDERSCORE.sub("&#95;", text)
    return text


# `@user`, `@org/team`, emails; `#123`, `org/repo#123` (an issue reference makes GitHub add a
# "mentioned this" event to that issue).
_MENTION = re.compile(r"@(?=\w)")
_ISSUE_REF = re.compile(r"#(?=\d)")
# Workflow commands are lines of the job log that start with `::` once leading whitespace is
# trimmed (the runner's `ActionCommand.TryParseV2` calls `TrimStart()` first), or that hold
# `##[` anywhere (the legacy form its `TryParse` still accepts):
# https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions and
# https://github.com/actions/runner/blob/main/src/Runner.Common/ActionCommand.cs
_COMMAND_LINE = re.compile(r"^([^\S\n]*):", re.MULTILINE)
_COMMAND_START = re.compile(r"^([^\S\n]*)::", re.MULTILINE)
LEGACY_COMMAND = "##["
# C0 and C1 controls other than tab and newline (ANSI escapes, carriage returns, NUL, ...).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional overrides and isolates can make text read differently than it is.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def normalize_text(text: str) -> str:
    """Unify line endings and drop control and bidi-override characters (tabs stay)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return _BIDI.sub("", text)


def clip(text: str, limit: int | None) -> str:
    """`text` cut to at most `limit` characters, the last of them "…" when anything was cut."""
    if limit is None or len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1] + ELLIPSIS


def _neutralise_references(text: str) -> str:
    text = _MENTION.sub("@" + ZWJ, text)
    text = _EMOJI.sub(":" + ZWJ, text)
    return _ISSUE_REF.sub("#" + ZWJ, text)


def _neutralise_links(text: str) -> str:
    """No autolink: `http&#58;//…` and `www&#46;…` (after `&` was escaped)."""
    text = _SCHEME.sub("&#58;", text)
    return _WWW.sub(r"\1&#46;", text)


def _neutralise_line_start(text: str) -> str:
    """A first character that would start a block, or leading whitespace, as a reference."""
    text = _INDENT.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group(0)), text)
    match = _BLOCK_START.match(text)
    if match is None:
        return text
    return f"&#{ord(text[0])};{text[1:]}"


def escape_inline(text: str, limit: int | None = None) -> str:
    """One line of inert text for running markdown or the inside of an HTML tag.

    HTML and the characters that start links, images, code spans or table cells become
    character references; newlines become spaces; mentions and issue references are broken
    with an invisible joiner. `limit` caps the number of characters taken from `text`.
    """
    text = clip(" ".join(normalize_text(text).split("\n")), limit)
    text = _neutralise_links(_replace(_neutralise_references(text)))
    return _neutralise_line_start(_COMMAND_LINE.sub(r"\1&#58;", text))


def escape_cell(text: str, limit: int | None = None) -> str:
    """Inert text for one markdown table cell: like `escape_inline`, newlines become `<br>`."""
    lines = clip(normalize_text(text), limit).split("\n")
    return "<br>".join(escape_inline(line) for line in lines)


def escape_block(text: str, limit: int | None = None) -> str:
    """The inert content of a `<pre>` block: HTML escaped, so nothing inside can close a tag.

    Whitespace and newlines are kept. When `text` is longer than `limit` characters it is cut
    and a last line says how much was left out.
    """
    text = normalize_text(text)
    more = ""
    if limit is not None and len(text) > limit:
        text, more = text[:limit], f"{ELLIPSIS}\n[{len(text) - limit:,} more characters]"
    text = _replace(_neutralise_references(text), _BLOCK_CHARS)
    return _COMMAND_LINE.sub(r"\1&#58;", text) + more


def escape_wrapped(text: str, limit: int | None = None) -> str:
    """The inert content of a `<code>` element in running text, for a model's output.

    GitHub never wraps `<pre>` or a fenced block (a long line hides behind a scrollbar) and
    strips `style`; its stylesheet gives `code` `white-space: break-spaces`, so the text
    wraps at the comment's width and keeps its spaces. Newlines become `<br>` (a blank line
    would end the paragraph), everything that markdown or HTML would read is a character
    reference, so a copy of the text is the output itself. When `text` is longer than `limit`
    characters it is cut, and a last line says how much was left out.
    """
    text = normalize_text(text)
    more = ""
    if limit is not None and len(text) > limit:
        text, more = text[:limit], f"{ELLIPSIS}<br>[{len(text) - limit:,} more characters]"
    text = _neutralise_links(_replace(_neutralise_references(text)))
    return text.replace("\n", "<br>") + more


def longest_run(text: str, char: str) -> int:
    """The length of the longest run of `char` in `text`."""
    runs = re.findall(f"{re.escape(char)}+", text)
    return max((len(run) for run in runs), default=0)


def escape_code(text: str, limit: int | None = None) -> str:
    """`text` as one inline code span, delimiters included (for running markdown, not tables).

    Inside a code span GitHub shows HTML literally and links no mentions; the delimiter is
    one backtick longer than any backtick run of the content, so the content cannot close it.
    """
    text = clip(" ".join(normalize_text(text).split("\n")), limit) or " "
    fence = "`" * (longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_fence(text: str, minimum: int = 3) -> str:
    """A backtick fence longer than any backtick run in `text` (a fenced block's delimiter)."""
    return "`" * max(minimum, longest_run(text, "`") + 1)


def escape_fenced(text: str) -> str:
    """The content of a fenced code block: no control characters, no line starting with `::`.

    Character references are not decoded inside code blocks, so a zero-width space keeps a
    workflow command from starting a line.
    """
    return neutralise_commands(normalize_text(text))


def escape_url(url: str) -> str:
    """`url` as a markdown link destination: spaces, parentheses and brackets percent-encoded."""
    return quote(normalize_text(url).strip(), safe=":/?#@!$&'*+,;=%~-._")


def escape_plain(text: str, limit: int | None = None) -> str:
    """One line for a terminal or a workflow log: no control sequences, no workflow command.

    Newlines become "⏎", escape sequences (ANSI colours, cursor moves) are dropped, a
    leading `::` (after any whitespace) gets a zero-width space in front and `##[` one inside.
    """
    text = clip(normalize_text(text).replace("\n", "⏎"), limit)
    return neutralise_commands(text)


def neutralise_commands(text: str) -> str:
    """`text` with no workflow command: a zero-width space before every `::` that would start
    a line (after its leading whitespace) and inside every legacy `##[`."""
    text = text.replace(LEGACY_COMMAND, "##" + ZWSP + "[")
    return _COMMAND_START.sub(r"\1" + ZWSP + "::", text)
