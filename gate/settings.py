"""Settings: the action inputs, the runner's GITHUB_* variables and provider keys, validated.

The Actions runner hands a Docker action its inputs as `INPUT_<NAME>` with the name upper-cased
and hyphens kept (`INPUT_FAIL-ON`); users who set them by hand write `INPUT_FAIL_ON`. Both
spellings are read, an empty value means unset, and CLI options (the same names) win over the
environment. Secrets are `SecretStr`, so they never show in a repr or an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gate.errors import ConfigError
from gate.inputs import ACTION_INPUTS

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"  # the SDK's: no /v1, the path adds it
DEFAULT_RESULTS_DIR = ".llm-gate/results"
# Where actions/runner mounts the workspace for a Docker action (ContainerActionHandler.cs).
CONTAINER_WORKSPACE = Path("/github/workspace")


def _input(name: str, *extra: str) -> AliasChoices:
    """Accept `INPUT_FAIL-ON`, `INPUT_FAIL_ON` and the field name (for CLI overrides)."""
    upper = name.upper()
    return AliasChoices(
        name.replace("-", "_"), f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}", *extra
    )


class Settings(BaseSettings):
    """Everything the run needs to know about its environment."""

    model_config = SettingsConfigDict(
        env_ignore_empty=True,
        case_sensitive=False,
        extra="ignore",
        populate_by_name=True,
        frozen=True,
    )

    # ----------------------------------------------------------------- action inputs
    github_token: SecretStr | None = Field(
        None, validation_alias=_input("github-token", "GITHUB_TOKEN")
    )
    config: str = Field("llm-gate.yml", validation_alias=_input("config"))
    suites: str | None = Field(None, validation_alias=_input("suites"))
    base_ref: str | None = Field(None, validation_alias=_input("base-ref"))
    mode: Literal["gate", "publish", "baseline", "merge"] = Field(
        "gate", validation_alias=_input("mode")
    )
    fail_on: Literal["regression", "inconclusive", "never"] = Field(
        "regression", validation_alias=_input("fail-on")
    )
    status_context: str = Field("llm-gate", validation_alias=_input("status-context"))
    comment: Literal["update", "off"] = Field("update", validation_alias=_input("comment"))
    shard: str | None = Field(None, validation_alias=_input("shard"))
    concurrency: int = Field(16, ge=1, le=512, validation_alias=_input("concurrency"))
    cache_dir: str = Field(".llm-gate/cache", validation_alias=_input("cache-dir"))
    max_cost_usd: float | None = Field(None, ge=0, validation_alias=_input("max-cost-usd"))
    results_dir: str | None = Field(None, validation_alias=_input("results-dir"))
    allow_pull_request_target: bool = Field(
        False, validation_alias=_input("allow-pull-request-target")
    )

    # ----------------------------------------------------------------- local-only switches
    replay: bool = Field(False, validation_alias=AliasChoices("replay", "LLM_GATE_REPLAY"))
    debug: bool = Field(
        False, validation_alias=AliasChoices("debug", "LLM_GATE_DEBUG", "RUNNER_DEBUG")
    )

    # ----------------------------------------------------------------- the runner's variables
    github_actions: bool = Field(
        False, validation_alias=AliasChoices("github_actions", "GITHUB_ACTIONS")
    )
    github_event_name: str | None = Field(
        None, validation_alias=AliasChoices("github_event_name", "GITHUB_EVENT_NAME")
    )
    github_event_path: str | None = Field(
        None, validation_alias=AliasChoices("github_event_path", "GITHUB_EVENT_PATH")
    )
    github_repository: str | None = Field(
        None, validation_alias=AliasChoices("github_repository", "GITHUB_REPOSITORY")
    )
    github_api_url: str = Field(
        "https://api.github.com", validation_alias=AliasChoices("github_api_url", "GITHUB_API_URL")
    )
    github_server_url: str = Field(
        "https://github.com",
        validation_alias=AliasChoices("github_server_url", "GITHUB_SERVER_URL"),
    )
    github_run_id: str | None = Field(
        None, validation_alias=AliasChoices("github_run_id", "GITHUB_RUN_ID")
    )
    github_workspace: str | None = Field(
        None, validation_alias=AliasChoices("github_workspace", "GITHUB_WORKSPACE")
    )
    github_output: str | None = Field(
        None, validation_alias=AliasChoices("github_output", "GITHUB_OUTPUT")
    )
    github_step_summary: str | None = Field(
        None, validation_alias=AliasChoices("github_step_summary", "GITHUB_STEP_SUMMARY")
    )
    github_sha: str | None = Field(None, validation_alias=AliasChoices("github_sha", "GITHUB_SHA"))

    # ----------------------------------------------------------------- providers
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("openai_api_key", "OPENAI_API_KEY")
    )
    openai_base_url: str = Field(
        DEFAULT_OPENAI_BASE_URL, validation_alias=AliasChoices("openai_base_url", "OPENAI_BASE_URL")
    )

    anthropic_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("anthropic_api_key", "ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str = Field(
        DEFAULT_ANTHROPIC_BASE_URL,
        validation_alias=AliasChoices("anthropic_base_url", "ANTHROPIC_BASE_URL"),
    )

    @field_validator("openai_base_url", "anthropic_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    # ----------------------------------------------------------------- per target kind
    @property
    def api_keys(self) -> dict[str, str | None]:
        """Each model API's key by `provider:` (None when unset)."""
        keys = {"openai": self.openai_api_key, "anthropic": self.anthropic_api_key}
        return {name: v.get_secret_value() or None if v else None for name, v in keys.items()}

    @property
    def base_urls(self) -> dict[str, str]:
        """Where each model API's requests go by `provider:`, unless a target says otherwise."""
        return {"openai": self.openai_base_url, "anthropic": self.anthropic_base_url}

    # ----------------------------------------------------------------- derived
    @property
    def workspace(self) -> Path:
        return Path(self.github_workspace or ".").resolve()

    @property
    def run_url(self) -> str | None:
        if self.github_repository and self.github_run_id:
            repo, run = self.github_repository, self.github_run_id
            return f"{self.github_server_url}/{repo}/actions/runs/{run}"
        return None

    @property
    def results_path(self) -> Path:
        """Where the report, the JSON results and the publish manifest go (`mode: publish` reads
        them from here): `results-dir` (relative to the workspace), else `.llm-gate/results`
        in the workspace, which every later step of the job sees, container or not."""
        if self.results_dir:
            return self.workspace / self.results_dir  # an absolute results-dir stays as it is
        return self.workspace / DEFAULT_RESULTS_DIR

    def output_path(self, path: Path) -> str:
        """`path` as a step output names it: relative to the workspace when inside it.

        Later steps run in the workspace on the host, where a Docker action's `/github/...`
        paths do not exist; a relative path opens the same file in both places, and
        actions/upload-artifact resolves it the same way.
        """
        path = path.absolute()
        if path.is_relative_to(self.workspace):
            return path.relative_to(self.workspace).as_posix()
        return str(path)

    @property
    def suite_filter(self) -> tuple[str, ...]:
        if not self.suites:
            return ()
        return tuple(
            sorted({s.strip() for s in self.suites.replace("\n", ",").split(",") if s.strip()})
        )

    def secrets(self) -> list[str]:
        """Every secret value this run knows, for `::add-mask::` and leak checks."""
        values = [self.github_token, self.openai_api_key, self.anthropic_api_key]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    def check_supported(self) -> None:
        """Parts of the contract that later releases deliver are a clear error, never a no-op."""
        if self.mode not in ("gate", "publish"):
            raise ConfigError(
                f"input `mode`: '{self.mode}' is not supported yet; use mode 'gate' or 'publish' "
                "(stored baselines and shard merging arrive in a later release)"
            )
        if self.shard:
            raise ConfigError("input `shard`: sharding is not supported yet; remove the input")
        inside = self.results_path.absolute().is_relative_to(CONTAINER_WORKSPACE)
        if self.workspace == CONTAINER_WORKSPACE and not inside:
            # Only the workspace is shared with later steps at the same path on every runner:
            # RUNNER_TEMP is mounted at /github/runner_temp by runner 2.331 and later, and not at
            # all before, so a path there is not one a later step can open.
            raise ConfigError(
                f"input `results-dir`: {self.results_dir} is outside the workspace, where later "
                "steps cannot open it; use a path inside the workspace, such as llm-gate-results"
            )


def load_settings(**overrides: Any) -> Settings:
    """Read the environment (and CLI overrides); one line naming the input on bad values."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        name = next((k for k, v in ACTION_INPUTS.items() if v == field or k == field), field)
        name = (
            name.removeprefix("INPUT_").lower().replace("_", "-")
            if name.startswith("INPUT_")
            else name
        )
        got = "" if "token" in field or "key" in field else f" (got {first.get('input')!r})"
        raise ConfigError(f"input `{name}`: {first['msg']}{got}") from None
