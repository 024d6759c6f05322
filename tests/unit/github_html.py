"""The comment as GitHub shows it: cmark-gfm with GitHub's extensions, then GitHub's sanitiser
and the text filters GitHub runs after it, parsed into a small tree to assert on.

GitHub renders comments with its fork of cmark (PyPI `cmarkgfm`) and the extensions `table`,
`strikethrough`, `autolink`, `tagfilter` and `tasklist`, with raw HTML allowed; then it
sanitises the HTML (an allowlist of elements and attributes: `style`, `class`, scripts, frames
and forms go) and turns `@user`, `#123` and `:emoji:` in text outside `code`, `pre` and links
into links and images. `render_github` does the first two; `Node.live_references` finds what
the third would link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

EXTENSIONS = ["table", "strikethrough", "autolink", "tagfilter", "tasklist"]

# GitHub's allowlist (html-pipeline's SanitizationFilter, which github.com's sanitiser follows).
ALLOWED = frozenset(
    [
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "h7",
        "h8",
        "br",
        "b",
        "i",
        "strong",
        "em",
        "a",
        "pre",
        "code",
        "img",
        "tt",
        "div",
        "ins",
        "del",
        "sup",
        "sub",
        "p",
        "ol",
        "ul",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "blockquote",
        "dl",
        "dt",
        "dd",
        "kbd",
        "q",
        "samp",
        "var",
        "hr",
        "ruby",
        "rt",
        "rp",
        "li",
        "tr",
        "td",
        "th",
        "s",
        "strike",
        "summary",
        "details",
        "caption",
        "figure",
        "figcaption",
        "abbr",
        "bdo",
        "cite",
        "dfn",
        "mark",
        "small",
        "span",
        "time",
        "wbr",
        "input",
    ]
)
DROPPED_WITH_CONTENT = frozenset(
    ["script", "style", "iframe", "object", "embed", "frame", "frameset", "noscript"]
)
ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt", "longdesc"},
    "td": {"align"},
    "th": {"align"},
    "input": {"type", "checked", "disabled"},
    "details": {"open"},
}
VOID = frozenset(["br", "hr", "img", "input", "wbr"])
NO_TEXT_FILTERS = frozenset({"code", "pre", "a", "tt"})  # mentions, references and emoji


@dataclass
class Node:
    """An element (or the root, tag "") with its attributes and children (text is str)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find(self, *tags: str) -> list[Node]:
        """Every element below with one of `tags`, in document order."""
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag in tags:
                    found.append(child)
                found.extend(child.find(*tags))
        return found

    def elements(self) -> list[Node]:
        return [n for c in self.children if isinstance(c, Node) for n in (c, *c.elements())]

    def live_references(self) -> list[str]:
        """The mentions, issue references and emoji shortcodes GitHub would turn into links or
        images: in text outside code, pre and links."""
        found: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                found += re.findall(r"(?<![\w`])@[A-Za-z0-9][\w-]*", child)
                found += re.findall(r"(?<![\w&])#\d+", child)
                found += re.findall(r":[a-z0-9_+-]+:", child)
            elif child.tag not in NO_TEXT_FILTERS:
                found += child.live_references()
        return found


class _TreeBuilder(HTMLParser):
    """Sanitises as it parses: drops what GitHub drops, and checks that tags nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("")
        self.stack = [self.root]
        self.skipping = 0
        self.errors: list[str] = []
        self.comments: list[str] = []
        self.seen: set[str] = set()  # every tag cmark-gfm wrote, kept or not

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)
        if tag in DROPPED_WITH_CONTENT:
            self.skipping += 1
            return
        if self.skipping or tag not in ALLOWED:
            return
        kept = {k: v or "" for k, v in attrs if k in ATTRIBUTES.get(tag, set())}
        if tag == "a" and not re.match(r"^(https?:|mailto:|#|/)", kept.get("href", "")):
            kept.pop("href", None)  # javascript: and other protocols go
        node = Node(tag, kept)
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and tag in ALLOWED and not self.skipping:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping or tag not in ALLOWED or tag in VOID:
            return
        if self.stack[-1].tag != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1].tag or 'root'}>")
            if tag not in [n.tag for n in self.stack]:
                return
            while self.stack[-1].tag != tag:
                self.stack.pop()
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.stack[-1].children.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


@dataclass
class Rendered:
    html: str  # what cmark-gfm wrote
    root: Node  # sanitised, parsed
    errors: list[str]  # tags that did not nest
    comments: list[str]  # HTML comments (GitHub keeps them hidden)
    seen: set[str]  # every tag in cmark-gfm's HTML, before sanitising


def render_github(markdown: str) -> Rendered:
    """`markdown` rendered and sanitised the way GitHub shows a comment."""
    html = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=Options.CMARK_OPT_UNSAFE, extensions=EXTENSIONS
    )
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    unclosed = [n.tag for n in builder.stack[1:]]
    errors = builder.errors + [f"<{tag}> never closed" for tag in unclosed]
    return Rendered(html, builder.root, errors, builder.comments, builder.seen)


def sanitised_html(node: Node) -> str:
    """The sanitised tree as HTML again (for a browser to show)."""

    if node.tag == "":
        return "".join(_html_of(c) for c in node.children)
    return _html_of(node)


def _html_of(child: Node | str) -> str:
    import html

    if isinstance(child, str):
        return html.escape(child, quote=False)
    attrs = "".join(f' {k}="{html.escape(v)}"' for k, v in sorted(child.attrs.items()))
    if child.tag in VOID:
        return f"<{child.tag}{attrs}>"
    inner = "".join(_html_of(c) for c in child.children)
    return f"<{child.tag}{attrs}>{inner}</{child.tag}>"
