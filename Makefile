# Three targets people use: `make demo` (install + run the gate on the bundled example, offline),
# `make test`, and `make lint`; `make bench` prints the speed and statistics benchmarks,
# `make test-image` builds the image on a real Docker engine and runs it as the runner does,
# and `make lock` compiles the hash-pinned lock files the image installs from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-image lock lint bench clean

$(BIN)/llm-gate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/llm-gate

demo: install
	bash examples/demo.sh

test: install
	$(BIN)/pytest -q -p no:cacheprovider

test-image: install
	$(BIN)/pytest -q -p no:cacheprovider -m image tests/image

# The image's dependencies, from pyproject.toml's, hash-pinned; the build backend's likewise.
# tests/unit/test_lock.py fails when the lock and pyproject.toml disagree.
lock: install
	UV_NO_CONFIG=1 $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
		--generate-hashes --no-strip-markers --custom-compile-command 'make lock' -o requirements.lock
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
		| UV_NO_CONFIG=1 $(BIN)/uv pip compile - --quiet --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command 'make lock' -o requirements-build.lock

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml examples/workflows/*.yml
	$(BIN)/zizmor --offline action.yml .github/workflows/*.yml examples/workflows/*.yml

bench: install
	$(BIN)/python bench/bench_stats.py
	$(BIN)/python bench/bench_speed.py

clean:
	rm -rf $(VENV) build *.egg-info .llm-gate
