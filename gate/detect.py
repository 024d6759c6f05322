"""Which suites a pull request touches, and why: git's diff → ChangeSet.

Pure: the shell passes the diff and the text of every referenced file on both sides; nothing
here runs git, reads files or looks at the environment.

A suite runs only when something it depends on changed:

- a referenced file's content (`prompt`, `system_prompt`, `tools`, `rubric`, `schema`,
  `dataset`);
- a changed path matching one of its `watch` globs (`code`);
- the VALUE of its model or sampling params, literal in llm-gate.yml or kept in another file
  as `{file, key}` (`model`, `sampling`): other keys of a shared models file do not count;
- its own section of llm-gate.yml, or the suite is new (`config`).

The head's config defines the suites; the base side's references come from the base config
when the suite exists there, else from the head's config read at the base commit.
"""

from __future__ import annotations

import difflib
import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, cast, get_args

from gate.config import GateConfig, Suite, Target
from gate.errors import ConfigError
from gate.models import Category, ChangedFile, ChangeSet, ValueChange
from gate.scorers.registry import scorer_for
from gate.targets.base import FileKey
from gate.values import format_value, read_value

FileStatus = Literal["added", "modified", "deleted", "renamed"]
_DIFFED = frozenset(
    {Category.PROMPT, Category.SYSTEM_PROMPT, Category.RUBRIC, Category.SCHEMA, Category.TOOLS}
)
_ABSENT: Any = object()  # a value missing on the base side (file or key not there yet)


def referenced_paths(config: GateConfig) -> set[str]:
    """Every file the suites' targets and scorers reference, normalised like git spells it."""
    paths: set[str] = set()
    for suite in config.suites.values():
        paths.update(ref.path for ref in _file_refs(suite))
        for value in (suite.target.model, suite.target.params):
            if isinstance(value, FileKey):
                paths.add(normalize_path(value.file))
    return paths


def possibly_relevant(config: GateConfig, config_path: str, changed: Sequence[str]) -> list[str]:
    """The changed paths any suite could depend on, judged by path alone.

    For when the base side cannot be read (a shallow checkout) and only the PR's file list is
    known: a `{file, key}` file counts as relevant whatever key changed, so this errs towards
    evaluating.
    """
    watched = referenced_paths(config) | {normalize_path(config_path)}
    globs = [compile_glob(p) for suite in config.suites.values() for p in suite.watch]
    return sorted(
        path
        for path in {normalize_path(p) for p in changed}
        if path in watched or any(g.fullmatch(path) for g in globs)
    )


def watched_files(config: GateConfig) -> dict[str, list[tuple[Category, str]]]:
    """Per suite, (category, path or `file#key` or glob) it watches, for `llm-gate check`."""
    out: dict[str, list[tuple[Category, str]]] = {}
    for name in sorted(config.suites):
        suite = config.suites[name]
        watched = [(ref.category, ref.path) for ref in _file_refs(suite)]
        for category, value in (
            (Category.MODEL, suite.target.model),
            (Category.SAMPLING, suite.target.params),
        ):
            if isinstance(value, FileKey):
                watched.append((category, f"{normalize_path(value.file)}#{value.key}"))
        watched.extend((Category.CODE, pattern) for pattern in suite.watch)
        out[name] = watched
    return out


def detect_changes(
    config: GateConfig,
    base_config: GateConfig | None,
    config_path: str,
    changed: Sequence[tuple[str, str, str | None]],
    base_files: Mapping[str, str | None],
    head_files: Mapping[str, str | None],
    base_sha: str,
    head_sha: str,
) -> ChangeSet:
    """Classify the diff per suite; see the module docstring for the rules.

    `changed` is git's diff as (status, path, old path of a rename). `base_files`/`head_files`
    hold the text of every referenced path (of both configs) and of the config file on each
    side, None when absent (or not text). Raises ConfigError when the head side's `{file, key}`
    reference does not resolve: the head must be evaluable.
    """
    config_path = normalize_path(config_path)
    diff = _Diff.of(changed)
    files: dict[str, _FileNote] = {}
    values: list[ValueChange] = []
    reasons: dict[str, set[Category]] = {}

    def note(path: str, suite: str, category: Category) -> _FileNote | None:
        reasons.setdefault(suite, set()).add(category)
        entry = diff.entry(path)
        if entry is None:
            return None
        record = files.setdefault(entry[1], _FileNote(entry[0]))
        record.categories.add(category)
        record.suites.add(suite)
        return record

    for name in sorted(config.suites):
        head_suite = config.suites[name]
        base_suite = base_config.suites.get(name) if base_config is not None else None
        side = base_suite if base_suite is not None else head_suite  # base side's references

        if base_suite is None or _section(base_suite) != _section(head_suite):
            note(config_path, name, Category.CONFIG)

        base_refs = {(ref.category, ref.role): ref.path for ref in _file_refs(side)}
        for ref in _file_refs(head_suite):
            base_path = base_refs.get((ref.category, ref.role), ref.path)
            before, after = base_files.get(base_path), head_files.get(ref.path)
            in_diff = diff.entry(base_path) is not None or diff.entry(ref.path) is not None
            if not _content_changed(before, after, in_diff):
                continue
            paths = dict.fromkeys((ref.path, base_path))  # one path, or two when repointed
            records = [note(path, name, ref.category) for path in paths]
            shown = next((record for record in records if record is not None), None)
            if shown is not None and ref.category in _DIFFED and not shown.diff:
                shown.diff = unified_diff(base_path, before, ref.path, after)

        for change, sources in _value_changes(
            name, side.target, head_suite.target, config_path, base_files, head_files
        ):
            values.append(change)
            for path in sources:
                note(path, name, change.category)

        patterns = [compile_glob(pattern) for pattern in head_suite.watch]
        for path, old_path in diff.paths():
            if any(p.fullmatch(q) for p in patterns for q in (path, old_path) if q is not None):
                note(path, name, Category.CODE)

    return ChangeSet(
        base_sha=base_sha,
        head_sha=head_sha,
        changed_paths=tuple(sorted(path for path, _ in diff.paths())),
        files=tuple(
            ChangedFile(
                path=path,
                status=record.status,
                categories=tuple(sorted(record.categories)),
                suites=tuple(sorted(record.suites)),
                diff=record.diff,
            )
            for path, record in sorted(files.items())
        ),
        values=tuple(values),
        suites_to_run=tuple(sorted(reasons)),
        reasons={suite: tuple(sorted(cats)) for suite, cats in sorted(reasons.items())},
    )


# --------------------------------------------------------------------------- globs


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A `watch` glob as a regex over repository paths (match it with `fullmatch`).

    `*` matches within one path segment, `?` one character but `/`, `**` any number of
    segments (`src/**/x.py` matches `src/x.py`); everything else is literal. Patterns are
    anchored at the repository root, and one that names a directory (`src/support`,
    `src/support/`, `src/*`) also matches everything inside it: watching too much costs a
    run, watching too little misses a regression.
    """
    text = pattern.strip()
    while text.startswith("./"):
        text = text[2:]
    text = text.strip("/")
    if not text:
        return re.compile("(?!)")  # an empty pattern watches nothing
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("**", i):
            i += 2
            at_segment_start = not out or text[i - 3] == "/"
            if text.startswith("/", i) and at_segment_start:
                out.append("(?:.*/)?")  # `**/`: zero or more whole directories
                i += 1
            else:
                out.append(".*")
        elif text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif text[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    return re.compile("".join(out) + "(?:/.*)?", re.DOTALL)


def normalize_path(path: str) -> str:
    """`./prompts//a.md` → `prompts/a.md`: the spelling git uses in its diff."""
    normal = posixpath.normpath(path) if path else path
    return "" if normal == "." else normal


# --------------------------------------------------------------------------- diffs


def unified_diff(base_path: str, before: str | None, head_path: str, after: str | None) -> str:
    """git-style unified diff (3 lines of context); `/dev/null` names an absent side."""
    lines = difflib.unified_diff(
        (before or "").splitlines(keepends=True),
        (after or "").splitlines(keepends=True),
        fromfile=f"a/{base_path}" if before is not None else "/dev/null",
        tofile=f"b/{head_path}" if after is not None else "/dev/null",
        n=3,
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True, slots=True)
class _FileRef:
    category: Category
    role: str  # pairs the base side's reference with the head's: "prompt", "judge:helpful"
    path: str


@dataclass(slots=True)
class _FileNote:
    status: FileStatus
    categories: set[Category] = field(default_factory=set)
    suites: set[str] = field(default_factory=set)
    diff: str = ""


@dataclass(frozen=True, slots=True)
class _Diff:
    """The diff's entries, found by their path or by the old path of a rename."""

    by_path: dict[str, tuple[FileStatus, str, str | None]]

    @classmethod
    def of(cls, changed: Sequence[tuple[str, str, str | None]]) -> _Diff:
        by_path: dict[str, tuple[FileStatus, str, str | None]] = {}
        for status, path, old_path in changed:
            entry = (_status(status), normalize_path(path), old_path and normalize_path(old_path))
            by_path[entry[1]] = entry
        for entry in list(by_path.values()):
            if entry[2] is not None:
                by_path.setdefault(entry[2], entry)
        return cls(by_path)

    def entry(self, path: str) -> tuple[FileStatus, str, str | None] | None:
        return self.by_path.get(path)

    def paths(self) -> list[tuple[str, str | None]]:
        """(path, old path of a rename) of every entry."""
        return [(path, old) for key, (_, path, old) in self.by_path.items() if key == path]


def _status(status: str) -> FileStatus:
    if status in get_args(FileStatus):
        return cast(FileStatus, status)
    raise ValueError(f"unknown file status {status!r}")


def _file_refs(suite: Suite) -> list[_FileRef]:
    target = suite.target
    refs = [
        _FileRef(Category.DATASET, "dataset", suite.dataset),
        _FileRef(Category.PROMPT, "prompt", target.prompt),
    ]
    if target.system is not None:
        refs.append(_FileRef(Category.SYSTEM_PROMPT, "system", target.system))
    if target.tools is not None:
        refs.append(_FileRef(Category.TOOLS, "tools", target.tools))
    for scorer in suite.scorers:
        metric = scorer.name or scorer.type
        for category, role, path in scorer_for(scorer.type).watched(scorer, metric):
            refs.append(_FileRef(category, role, path))
    return [_FileRef(r.category, r.role, normalize_path(r.path)) for r in refs]


def _section(suite: Suite) -> dict[str, Any]:
    """The suite's settings apart from model and params, whose values are compared instead."""
    return suite.model_dump(mode="json", exclude={"target": {"model", "params"}})


def _content_changed(before: str | None, after: str | None, in_diff: bool) -> bool:
    if before is not None and after is not None:
        return before != after  # a mode-only change (chmod) changes nothing
    if before is None and after is None:
        return in_diff  # binary or unreadable on both sides: trust git
    return True  # added or removed


def _value_changes(
    suite: str,
    base: Target,
    head: Target,
    config_path: str,
    base_files: Mapping[str, str | None],
    head_files: Mapping[str, str | None],
) -> list[tuple[ValueChange, tuple[str, ...]]]:
    """ValueChanges of model and params, each with the files that hold the two values."""
    out: list[tuple[ValueChange, tuple[str, ...]]] = []
    where = f"{config_path}: suites.{suite}.target"

    before = _resolve(base.model, base_files, None)
    after = _resolve(head.model, head_files, f"{where}.model")
    sources = _sources(base.model, head.model, config_path)
    if _canonical(before) != _canonical(after):
        out.append((_value(suite, Category.MODEL, "model", before, after), sources))

    before = _resolve(base.params, base_files, None)
    after = _resolve(head.params, head_files, f"{where}.params")
    sources = _sources(base.params, head.params, config_path)
    old = {} if before is _ABSENT else before
    if isinstance(old, dict) and isinstance(after, dict):
        for key in sorted(set(old) | set(after), key=str):
            was, now = old.get(key, _ABSENT), after.get(key, _ABSENT)
            if _canonical(was) != _canonical(now):
                out.append((_value(suite, Category.SAMPLING, str(key), was, now), sources))
    elif _canonical(before) != _canonical(after):
        out.append((_value(suite, Category.SAMPLING, "params", before, after), sources))
    return out


def check_values(config: GateConfig, config_path: str, files: Mapping[str, str | None]) -> None:
    """Resolve every `{file, key}` of the head side as detect_changes does (same errors)."""
    for name, suite in sorted(config.suites.items()):
        where = f"{config_path}: suites.{name}.target"
        _resolve(suite.target.model, files, f"{where}.model")
        _resolve(suite.target.params, files, f"{where}.params")


def _resolve(value: Any, files: Mapping[str, str | None], head_where: str | None) -> Any:
    """A literal, or the value behind `{file, key}`; on the base side a missing one is absent.

    A broken base side must not block the pull request that fixes it; a broken head side is
    an error, with where llm-gate.yml references it (`head_where`).
    """
    if not isinstance(value, FileKey):
        return value
    try:
        return read_value(files.get(normalize_path(value.file)), value.file, value.key)
    except ConfigError as exc:
        if head_where is None:
            return _ABSENT
        raise ConfigError(f"{exc} (referenced by {head_where})") from None


def _sources(base: Any, head: Any, config_path: str) -> tuple[str, ...]:
    """The files behind a value change: the `{file}`s, and llm-gate.yml when it changed."""
    paths = [normalize_path(v.file) for v in (base, head) if isinstance(v, FileKey)]
    if base != head or not paths:
        paths.append(config_path)
    return tuple(dict.fromkeys(paths))


def _canonical(value: Any) -> str:
    """Equal when the request would be: `1` and `1.0` differ, as they do in the JSON body."""
    if value is _ABSENT:
        return "\0absent"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _value(suite: str, category: Category, name: str, before: Any, after: Any) -> ValueChange:
    return ValueChange(
        suite=suite,
        category=category,
        name=name,
        before=None if before is _ABSENT else format_value(before),
        after=None if after is _ABSENT else format_value(after),
    )
