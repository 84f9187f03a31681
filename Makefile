# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench simulate clean redis chromium faults

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	@mkdir -p var
	$(BIN)/buyerbot run

redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "redis-server missing: installing it with apt-get"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server >/dev/null; }

# the browser tests drive Debian's Chromium through Playwright (never `playwright install`)
chromium:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || { \
	  echo "chromium missing: installing it with apt-get"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# the e2e tests mostly wait (for processes, timers, the fakes): three workers keep 2 cores busy;
# loadfile keeps a module's tests (and its browser, its Redis) on one worker
test: $(STAMP) redis chromium
	$(BIN)/pytest -q -n 3 --dist loadfile

# the fault suite in full (make test runs each fault once); the table goes to RELIABILITY.md
faults: $(STAMP) redis
	@mkdir -p var && rm -f var/faults.jsonl
	BUYERBOT_FAULT_RUNS=full BUYERBOT_FAULT_REPORT=var/faults.jsonl $(BIN)/pytest -q -p no:randomly --timeout=1800 -m faults tests/faults
	$(BIN)/python -m tests.faults.report var/faults.jsonl
	$(BIN)/pytest -q tests/security tests/contract/test_number_binding.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

simulate: $(STAMP)
	@for s in scenarios/*.yaml; do echo "== $$s"; $(BIN)/buyerbot simulate $$s; done

bench: $(STAMP) redis
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
