"""Unit tests of change detection: which suites a diff touches, and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from gate.config import GateConfig, parse_config
from gate.detect import (
    compile_glob,
    detect_changes,
    referenced_paths,
    unified_diff,
    watched_files,
)
from gate.errors import ConfigError
from gate.models import Category, ChangeSet, ValueChange
from gate.values import format_value, read_value

CONFIG = "llm-gate.yml"

SUITES = """\
suites:
  support:
    dataset: evals/support.jsonl
    target:
      model: {file: config/models.yaml, key: support.model}
      params: {file: config/models.yaml, key: support.params}
      system: prompts/system.md
      prompt: prompts/support.md.j2
      tools: tools/support.json
    scorers:
      - {type: contains, value: "{{ expected }}"}
      - {type: judge, rubric: evals/rubrics/helpful.md, model: judge-model}
    watch: ["src/support/**"]
  billing:
    dataset: evals/billing.jsonl
    target:
      model: {file: config/models.yaml, key: billing.model}
      params: {file: config/models.yaml, key: billing.params}
      prompt: prompts/billing.md.j2
    scorers:
      - {type: exact, value: "{{ expected }}"}
"""

MODELS = """\
support:
  model: gpt-4o
  params: {temperature: 0.2, max_tokens: 400}
billing:
  model: gpt-4o
  params: {temperature: 0.0}
"""

FILES: dict[str, str | None] = {
    CONFIG: SUITES,
    "config/models.yaml": MODELS,
    "evals/support.jsonl": '{"id": "1", "question": "hi", "expected": "hello"}\n',
    "evals/billing.jsonl": '{"id": "1", "question": "refund?", "expected": "yes"}\n',
    "evals/rubrics/helpful.md": "Score 1-5 for helpfulness.\n",
    "prompts/system.md": "You are a support agent.\nBe brief.\n",
    "prompts/support.md.j2": "Answer: {{ question }}\n",
    "prompts/billing.md.j2": "Billing question: {{ question }}\n",
    "tools/support.json": '[{"type": "function", "function": {"name": "lookup"}}]\n',
}


def _detect(
    head_edits: Mapping[str, str | None],
    *,
    changed: Sequence[tuple[str, str, str | None]] | None = None,
    base: Mapping[str, str | None] | None = None,
    base_config: GateConfig | str | None = "same",
) -> ChangeSet:
    """Run detect_changes for a head side that differs from FILES by `head_edits`."""
    base_files = {**FILES, **(base or {})}
    head_files = {**base_files, **head_edits}
    if changed is None:
        changed = [
            ("added" if base_files.get(p) is None else "modified", p, None)
            for p in sorted(head_edits)
            if head_files[p] is not None
        ] + [("deleted", p, None) for p in sorted(head_edits) if head_files[p] is None]
    head = parse_config(CONFIG, head_files[CONFIG] or "")
    if base_config == "same":
        old = base_files[CONFIG]
        base_config = parse_config(CONFIG, old) if old is not None else None
    assert not isinstance(base_config, str)
    return detect_changes(
        head, base_config, CONFIG, changed, base_files, head_files, "b" * 40, "h" * 40
    )


# --------------------------------------------------------------------------- categories


def test_referenced_paths_lists_every_file_a_suite_reads() -> None:
    """Prompts, system, tools, models file, rubric and datasets are all referenced."""
    assert referenced_paths(parse_config(CONFIG, SUITES)) == set(FILES) - {CONFIG}


def test_watched_files_lists_each_suites_inputs() -> None:
    """`llm-gate check` shows files, `{file, key}` values and globs per suite."""
    watched = watched_files(parse_config(CONFIG, SUITES))
    assert watched["billing"] == [
        (Category.DATASET, "evals/billing.jsonl"),
        (Category.PROMPT, "prompts/billing.md.j2"),
        (Category.MODEL, "config/models.yaml#billing.model"),
        (Category.SAMPLING, "config/models.yaml#billing.params"),
    ]
    assert (Category.CODE, "src/support/**") in watched["support"]


def test_readme_only_change_runs_nothing() -> None:
    """A diff that touches no referenced or watched file runs no suite."""
    changes = _detect({"README.md": "# hello\n"})
    assert changes.suites_to_run == ()
    assert not changes.relevant
    assert changes.files == ()
    assert changes.changed_paths == ("README.md",)


def test_prompt_change_is_prompt_with_a_diff() -> None:
    """An edited prompt template runs its suite only, with a git-style unified diff."""
    changes = _detect({"prompts/support.md.j2": "Answer kindly: {{ question }}\n"})
    assert changes.suites_to_run == ("support",)
    assert changes.reasons == {"support": (Category.PROMPT,)}
    (file,) = changes.files
    assert (file.path, file.status, file.categories, file.suites) == (
        "prompts/support.md.j2",
        "modified",
        (Category.PROMPT,),
        ("support",),
    )
    assert file.diff == (
        "--- a/prompts/support.md.j2\n"
        "+++ b/prompts/support.md.j2\n"
        "@@ -1 +1 @@\n"
        "-Answer: {{ question }}\n"
        "+Answer kindly: {{ question }}\n"
    )


@pytest.mark.parametrize(
    ("path", "category", "diffed"),
    [
        ("prompts/system.md", Category.SYSTEM_PROMPT, True),
        ("tools/support.json", Category.TOOLS, True),
        ("evals/rubrics/helpful.md", Category.RUBRIC, True),
        ("evals/support.jsonl", Category.DATASET, False),
    ],
)
def test_each_referenced_file_has_its_category(path: str, category: Category, diffed: bool) -> None:
    """System prompt, tools, rubric and dataset files are classified by their role."""
    changes = _detect({path: (FILES[path] or "") + "one more line\n"})
    assert changes.reasons == {"support": (category,)}
    (file,) = changes.files
    assert file.categories == (category,)
    assert bool(file.diff) is diffed


def test_rubric_change_reruns_the_suite_that_judges_with_it() -> None:
    """A rubric edit runs the suite whose judge scorer reads it, as `rubric`."""
    changes = _detect({"evals/rubrics/helpful.md": "Score 1-5; penalise rudeness.\n"})
    assert changes.suites_to_run == ("support",)
    assert changes.files[0].diff.startswith("--- a/evals/rubrics/helpful.md\n")
    assert "+Score 1-5; penalise rudeness.\n" in changes.files[0].diff


def test_watched_code_change_is_code() -> None:
    """A file under a suite's `watch` glob runs that suite as `code`."""
    changes = _detect({"src/support/retrieval/index.py": "x = 1\n"})
    assert changes.reasons == {"support": (Category.CODE,)}
    assert changes.files[0].path == "src/support/retrieval/index.py"
    assert changes.files[0].diff == ""


def test_code_renamed_out_of_a_watched_directory_is_code() -> None:
    """A rename whose old path was watched still counts."""
    changes = _detect(
        {"lib/index.py": "x = 1\n"},
        changed=[("renamed", "lib/index.py", "src/support/index.py")],
    )
    assert changes.reasons == {"support": (Category.CODE,)}
    assert changes.files[0].status == "renamed"


# --------------------------------------------------------------------------- values


def test_model_change_in_shared_models_file_is_a_model_value_change() -> None:
    """`support.model` changing reads as `model: gpt-4o → gpt-4o-mini` for that suite only."""
    models = MODELS.replace(
        "  model: gpt-4o\n  params: {temperature: 0.2",
        "  model: gpt-4o-mini\n  params: {temperature: 0.2",
    )
    changes = _detect({"config/models.yaml": models})
    assert changes.suites_to_run == ("support",)
    assert changes.reasons == {"support": (Category.MODEL,)}
    assert changes.values == (
        ValueChange("support", Category.MODEL, "model", "gpt-4o", "gpt-4o-mini"),
    )
    (file,) = changes.files
    assert (file.path, file.categories, file.suites) == (
        "config/models.yaml",
        (Category.MODEL,),
        ("support",),
    )


def test_temperature_change_is_sampling() -> None:
    """`temperature: 0.2 → 1.5` is a sampling change, named by its key."""
    changes = _detect({"config/models.yaml": MODELS.replace("0.2", "1.5")})
    assert changes.reasons == {"support": (Category.SAMPLING,)}
    assert changes.values == (
        ValueChange("support", Category.SAMPLING, "temperature", "0.2", "1.5"),
    )


def test_added_and_removed_params_show_none_on_the_missing_side() -> None:
    """A param only on one side has None on the other."""
    models = MODELS.replace("{temperature: 0.2, max_tokens: 400}", "{temperature: 0.2, top_p: 0.9}")
    changes = _detect({"config/models.yaml": models})
    assert changes.values == (
        ValueChange("support", Category.SAMPLING, "max_tokens", "400", None),
        ValueChange("support", Category.SAMPLING, "top_p", None, "0.9"),
    )


def test_model_and_params_in_one_file_are_classified_by_key() -> None:
    """Both keys changing in the shared file gives both categories."""
    models = MODELS.replace("support:\n  model: gpt-4o", "support:\n  model: o3").replace(
        "max_tokens: 400", "max_tokens: 800"
    )
    changes = _detect({"config/models.yaml": models})
    assert changes.reasons == {"support": (Category.MODEL, Category.SAMPLING)}
    assert [v.name for v in changes.values] == ["model", "max_tokens"]
    assert changes.files[0].categories == (Category.MODEL, Category.SAMPLING)


def test_models_file_edit_to_another_suites_key_is_not_relevant() -> None:
    """Editing billing's keys does not run support, and vice versa."""
    models = MODELS.replace("billing:\n  model: gpt-4o", "billing:\n  model: gpt-4.1")
    changes = _detect({"config/models.yaml": models})
    assert changes.suites_to_run == ("billing",)
    assert changes.files[0].suites == ("billing",)
    unrelated = _detect({"config/models.yaml": MODELS + "other:\n  model: x\n"})
    assert unrelated.suites_to_run == ()
    assert unrelated.files == ()


def test_reformatting_the_models_file_changes_nothing() -> None:
    """Same values, different layout: no suite runs."""
    reformatted = (
        "support: {model: gpt-4o, params: {max_tokens: 400, temperature: 0.2}}\n"
        "billing: {model: gpt-4o, params: {temperature: 0.0}}\n"
    )
    assert _detect({"config/models.yaml": reformatted}).suites_to_run == ()


def test_integer_and_float_params_differ_as_the_request_would() -> None:
    """`1` and `1.0` are different JSON bodies, so they count as a change."""
    changes = _detect({"config/models.yaml": MODELS.replace("temperature: 0.0", "temperature: 0")})
    assert changes.values == (ValueChange("billing", Category.SAMPLING, "temperature", "0.0", "0"),)


def test_literal_model_change_in_config_is_model() -> None:
    """A literal `model:` edited in llm-gate.yml is a model change, not a config change."""
    base = SUITES.replace("{file: config/models.yaml, key: billing.model}", "gpt-4o")
    head = base.replace("model: gpt-4o\n", "model: gpt-4o-mini\n")
    changes = _detect({CONFIG: head}, base={CONFIG: base})
    assert changes.reasons == {"billing": (Category.MODEL,)}
    assert changes.values == (
        ValueChange("billing", Category.MODEL, "model", "gpt-4o", "gpt-4o-mini"),
    )
    (file,) = changes.files
    assert (file.path, file.categories) == (CONFIG, (Category.MODEL,))


def test_literal_params_change_in_config_is_sampling() -> None:
    """Literal params compare key by key too."""
    base = SUITES.replace(
        "{file: config/models.yaml, key: billing.params}", "{temperature: 0.2, seed: 7}"
    )
    head = base.replace("{temperature: 0.2, seed: 7}", "{temperature: 1.5, seed: 7}")
    changes = _detect({CONFIG: head}, base={CONFIG: base})
    assert changes.values == (
        ValueChange("billing", Category.SAMPLING, "temperature", "0.2", "1.5"),
    )


def test_moving_a_model_into_a_file_with_the_same_value_changes_nothing() -> None:
    """Literal `gpt-4o` → `{file, key}` holding `gpt-4o` is no change of behaviour."""
    base = SUITES.replace("{file: config/models.yaml, key: billing.model}", "gpt-4o")
    changes = _detect({CONFIG: SUITES}, base={CONFIG: base})
    assert changes.suites_to_run == ()


def test_models_file_added_in_this_pr_shows_no_value_before() -> None:
    """A `{file, key}` absent on the base side reads as None there, never as an error."""
    changes = _detect({"config/models.yaml": MODELS}, base={"config/models.yaml": None})
    assert changes.suites_to_run == ("billing", "support")
    assert ValueChange("support", Category.MODEL, "model", None, "gpt-4o") in changes.values
    assert changes.files[0].status == "added"


def test_missing_key_on_the_head_side_is_a_config_error() -> None:
    """The head must resolve: the error names the file, the key and the config reference."""
    with pytest.raises(ConfigError) as info:
        _detect({"config/models.yaml": MODELS.replace("billing:\n  model: gpt-4o\n", "billing:\n")})
    assert str(info.value) == (
        "config/models.yaml: key 'billing.model' not found (keys under 'billing': params) "
        "(referenced by llm-gate.yml: suites.billing.target.model)"
    )


# --------------------------------------------------------------------------- config


def test_new_suite_runs_as_config() -> None:
    """A suite added in this PR runs, with `config` among its reasons."""
    head = SUITES + (
        "  faq:\n"
        "    dataset: evals/faq.jsonl\n"
        "    target: {model: gpt-4o, prompt: prompts/faq.md}\n"
        "    scorers: [{type: contains, value: x}]\n"
    )
    changes = _detect({CONFIG: head, "prompts/faq.md": "Q\n", "evals/faq.jsonl": "{}\n"})
    assert changes.suites_to_run == ("faq",)
    assert changes.reasons["faq"] == (Category.CONFIG, Category.DATASET, Category.PROMPT)
    by_path = {f.path: f for f in changes.files}
    assert by_path[CONFIG].categories == (Category.CONFIG,)
    assert by_path["prompts/faq.md"].diff.startswith("--- /dev/null\n+++ b/prompts/faq.md\n")


def test_config_added_in_this_pr_runs_every_suite() -> None:
    """Without a base config every suite is new."""
    changes = _detect({}, changed=[("added", CONFIG, None)], base_config=None)
    assert changes.suites_to_run == ("billing", "support")
    assert all(reasons == (Category.CONFIG,) for reasons in changes.reasons.values())


def test_threshold_change_is_config() -> None:
    """Editing a suite's thresholds reruns that suite as `config`."""
    head = SUITES.replace("    watch:", "    thresholds: {default: {max_drop: 0.1}}\n    watch:")
    changes = _detect({CONFIG: head})
    assert changes.reasons == {"support": (Category.CONFIG,)}


def test_global_config_change_runs_no_suite() -> None:
    """`confidence` belongs to no suite's section."""
    assert _detect({CONFIG: SUITES + "confidence: 0.9\n"}).suites_to_run == ()


def test_renamed_prompt_with_same_content_is_config_only() -> None:
    """Renaming a prompt and pointing the config at it changes no prompt text."""
    head = SUITES.replace("prompts/billing.md.j2", "prompts/billing/main.md.j2")
    changes = _detect(
        {CONFIG: head, "prompts/billing/main.md.j2": FILES["prompts/billing.md.j2"]},
        changed=[
            ("modified", CONFIG, None),
            ("renamed", "prompts/billing/main.md.j2", "prompts/billing.md.j2"),
        ],
    )
    assert changes.reasons == {"billing": (Category.CONFIG,)}
    assert [f.path for f in changes.files] == [CONFIG]


def test_repointed_prompt_with_other_content_is_prompt_and_config() -> None:
    """Pointing the config at another existing file diffs the two files' texts."""
    head = SUITES.replace("prompts/billing.md.j2", "prompts/support.md.j2")
    changes = _detect({CONFIG: head})
    assert changes.reasons == {"billing": (Category.CONFIG, Category.PROMPT)}
    assert [f.path for f in changes.files] == [CONFIG]


def test_mode_only_change_is_not_a_content_change() -> None:
    """A file git lists whose text is the same on both sides (chmod) runs nothing."""
    changes = _detect({}, changed=[("modified", "prompts/system.md", None)])
    assert changes.suites_to_run == ()
    assert changes.changed_paths == ("prompts/system.md",)


def test_binary_file_on_both_sides_trusts_git() -> None:
    """Without text on either side, the diff's word decides."""
    changes = _detect(
        {"evals/support.jsonl": None},
        base={"evals/support.jsonl": None},
        changed=[("modified", "evals/support.jsonl", None)],
    )
    assert changes.reasons == {"support": (Category.DATASET,)}


def test_shared_file_lists_every_suite_and_output_is_sorted() -> None:
    """A file two suites read lists both; files and suites come out sorted."""
    head = SUITES.replace(
        "prompt: prompts/billing.md.j2",
        "prompt: prompts/billing.md.j2\n      system: prompts/system.md",
    )
    base = head
    changes = _detect(
        {"prompts/system.md": "Be kind.\n", "src/support/a.py": "", "README.md": "x"},
        base={CONFIG: base},
    )
    assert changes.suites_to_run == ("billing", "support")
    assert [f.path for f in changes.files] == ["prompts/system.md", "src/support/a.py"]
    assert changes.files[0].suites == ("billing", "support")
    assert changes.changed_paths == ("README.md", "prompts/system.md", "src/support/a.py")


# --------------------------------------------------------------------------- diffs


def test_diff_marks_a_missing_final_newline() -> None:
    """Like git, a last line without a newline is marked."""
    assert unified_diff("p.md", "a\n", "p.md", "a\nb") == (
        "--- a/p.md\n+++ b/p.md\n@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file\n"
    )


def test_diff_of_a_deleted_file_names_dev_null() -> None:
    """An absent head side is /dev/null."""
    assert (
        unified_diff("p.md", "a\n", "p.md", None)
        == "--- a/p.md\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n"
    )


# --------------------------------------------------------------------------- globs


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("src/support/**", "src/support/a.py", True),
        ("src/support/**", "src/support/deep/er/a.py", True),
        ("src/support/**", "src/supportive/a.py", False),
        ("src/**/x.py", "src/x.py", True),
        ("src/**/x.py", "src/a/b/x.py", True),
        ("src/**/x.py", "src/a/b/y.py", False),
        ("**/*.py", "a.py", True),
        ("**/*.py", "a/b/c.py", True),
        ("**/*.py", "a/b/c.pyc", False),
        ("**.py", "a/b/c.py", True),
        ("*.py", "a.py", True),
        ("*.py", "src/a.py", False),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/a/b.py", False),
        ("src/?.py", "src/a.py", True),
        ("src/?.py", "src/ab.py", False),
        ("src/?", "src//", False),
        ("src/support", "src/support/a.py", True),
        ("src/support/", "src/support/a.py", True),
        ("./src/support", "src/support/a.py", True),
        ("src/*", "src/a/b.py", True),
        ("src/a+b (1).py", "src/a+b (1).py", True),
        ("src/a.py", "src/aXpy", False),
        ("**", "anything/at/all", True),
        ("", "anything", False),
    ],
)
def test_glob_matcher(pattern: str, path: str, matches: bool) -> None:
    """`**` spans directories, `*` and `?` stay within one; a directory covers its contents."""
    assert bool(compile_glob(pattern).fullmatch(path)) is matches


# --------------------------------------------------------------------------- values


def test_read_value_follows_a_dotted_key() -> None:
    """YAML and JSON files are read by extension; digits index lists."""
    assert read_value(MODELS, "m.yaml", "support.params.max_tokens") == 400
    assert read_value('{"a": [{"b": "x"}]}', "m.json", "a.0.b") == "x"
    assert read_value("1: one\n", "m.yml", "1") == "one"


@pytest.mark.parametrize(
    ("text", "file", "key", "message"),
    [
        (
            MODELS,
            "config/models.yaml",
            "support.modle",
            "config/models.yaml: key 'support.modle' not found "
            "(keys under 'support': model, params)",
        ),
        (
            MODELS,
            "config/models.yaml",
            "nope",
            "config/models.yaml: key 'nope' not found (keys at the top level: billing, support)",
        ),
        (
            "[1, 2]",
            "m.json",
            "5",
            "m.json: key '5' not found (at the top level is a list of 2 items)",
        ),
        (
            "a: [\n",
            "m.yaml",
            "a",
            "m.yaml:2: invalid YAML: expected the node content, but found '<stream end>'",
        ),
        (
            "{",
            "m.json",
            "a",
            "m.json:1: invalid JSON: Expecting property name enclosed in double quotes",
        ),
        (
            "a = 1",
            "m.toml",
            "a",
            "m.toml: cannot read keys from a '.toml' file; use one of: .yaml, .yml, .json",
        ),
        (None, "m.yaml", "a", "m.yaml: file not found (or not text); it should hold the key 'a'"),
    ],
)
def test_read_value_errors_name_file_and_key(
    text: str | None, file: str, key: str, message: str
) -> None:
    """Every problem is one ConfigError line naming the file (and key)."""
    with pytest.raises(ConfigError) as info:
        read_value(text, file, key)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("gpt-4o", "gpt-4o"),
        (0.2, "0.2"),
        (400, "400"),
        (True, "true"),
        (None, "null"),
        ({"b": 1, "a": [1, "x"]}, '{"a": [1, "x"], "b": 1}'),
    ],
)
def test_format_value(value: object, shown: str) -> None:
    """Scalars plain, containers as one-line JSON with sorted keys."""
    assert format_value(value) == shown
