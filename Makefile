# Three targets people use: `make demo` (install + run the gate on the bundled example, offline),
# `make test`, and `make lint`; `make bench` prints the speed and statistics benchmarks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench clean

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

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/zizmor --offline action.yml examples/workflows/*.yml

bench: install
	$(BIN)/python bench/bench_stats.py
	$(BIN)/python bench/bench_speed.py

clean:
	rm -rf $(VENV) build *.egg-info .llm-gate
