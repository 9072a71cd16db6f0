# sigap: the two commands of the README are `make demo` and `make test`.
# Both install what is missing first (deploy/bootstrap.sh: apt packages + .venv).
.PHONY: setup demo test lint unit integration bench clean lab-down

VENV := .venv/bin
PYTEST_ARGS ?=
ARGS ?=

setup:
	@./deploy/bootstrap.sh

# lab network + agent in the lab's NOC namespace + scripted outages (`make demo ARGS=--keep`)
demo: setup
	$(VENV)/sigap demo $(ARGS)

# the whole suite: lint, types, unit and integration (lab, PostgreSQL) tests; the pure unit
# tests run on every core first, the rest serially; each pass names its 40 slowest tests
test: setup lint
	@./deploy/run-pytest.sh --suite $(PYTEST_ARGS)

lint: setup
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy

unit: setup
	@./deploy/run-pytest.sh -m unit $(PYTEST_ARGS)

integration: setup
	@./deploy/run-pytest.sh -m integration $(PYTEST_ARGS)

# benchmarks against the anchor tools (fping, icmplib), printed ratios; writes tests/bench/RESULTS.md
bench: setup
	@./deploy/run-pytest.sh -m bench -s tests/bench $(PYTEST_ARGS)

lab-down:
	$(VENV)/sigap lab down

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache *.egg-info
