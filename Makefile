# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench bench-broadcast bench-console bench-messages lock assets clean

# The application's dependencies come pinned, with hashes, from requirements.lock
# (`make lock` regenerates it from pyproject.toml); the dev tools on top, unpinned.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: migrate, load the demo organisation and serve in sandbox mode on embedded defaults
run: $(STAMP)
	$(BIN)/helpline migrate
	$(BIN)/helpline demo
	@echo "Serving the demo in sandbox mode on http://127.0.0.1:8080 (Ctrl-C stops it)."
	@echo "In a second terminal:"
	@echo "  $(BIN)/helpline oncall --kommune asker"
	@echo "  $(BIN)/helpline simulate call --from '987 65 432' --answer second"
	@echo "  $(BIN)/helpline simulate sms --from '987 65 432' 'Hei, kan noen ringe oss?'"
	@echo "  $(BIN)/helpline outbox    # what was sent (sandbox: stored only)"
	@echo "The console: http://127.0.0.1:8080/console/ - log in with Kari Nordmann's number"
	@echo "  912 34 567 (koordinator, Asker); the code is in \`$(BIN)/helpline outbox\`."
	@echo "See README.md for the rest."
	$(BIN)/helpline serve

## test: lint, type checks and the whole test suite, on TEST_WORKERS processes
# (a test file stays on one: the browser tests share one served console per file)
TEST_WORKERS ?= 2
test: lint typecheck
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m bench.rota

## bench-broadcast: 10,000 recipients at 50 segments/s, two workers, one SIGKILLed, help
## throughout, on PostgreSQL + Redis (WIPED; BENCH_ARGS="--database-url URL --redis-url URL")
bench-broadcast: $(STAMP)
	$(BIN)/python -m bench.broadcast $(BENCH_ARGS)

## bench-console: page render p99 of Oversikt, Kontaktlogg (10,000 contacts) and Vaktplan
## (month) on the national organisation, against a bare aiohttp page, on PostgreSQL + Redis
## (WIPED; BENCH_ARGS="--database-url URL --redis-url URL")
bench-console: $(STAMP)
	$(BIN)/python -m bench.console $(BENCH_ARGS)

## bench-messages: SMS and Telegram webhook p50/p99 while 1,000 conversations open at 50
## concurrent, web + worker, against a bare aiohttp app, on PostgreSQL + Redis
## (WIPED; BENCH_ARGS="--database-url URL --redis-url URL")
bench-messages: $(STAMP)
	$(BIN)/python -m bench.messages $(BENCH_ARGS)

## lock: pin the application's dependencies with hashes (pip-tools)
lock: $(STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --allow-unsafe --generate-hashes --strip-extras \
	  --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

## assets: refresh the vendored CSS of Designsystemet and the tests' axe-core from npm
# Designsystemet's default theme ships in @digdir/designsystemet-css (`/theme`) since
# @digdir/designsystemet-theme was deprecated; both come from the same release.
DS_CSS_VERSION ?= 1.22.0
AXE_VERSION ?= 4.14.1
DS_DIR := helpline/web/static/designsystemet
AXE_DIR := tests/browser/vendor
assets:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd "$$tmp" && \
	  npm pack --silent @digdir/designsystemet-css@$(DS_CSS_VERSION) axe-core@$(AXE_VERSION) >/dev/null && \
	  mkdir css axe && tar xzf digdir-designsystemet-css-$(DS_CSS_VERSION).tgz -C css && \
	  tar xzf axe-core-$(AXE_VERSION).tgz -C axe && cd "$(CURDIR)" && \
	  cp "$$tmp/css/package/dist/src/index.css" $(DS_DIR)/designsystemet.css && \
	  cp "$$tmp/css/package/dist/theme/designsystemet.css" $(DS_DIR)/theme.css && \
	  cp "$$tmp/css/package/LICENSE" $(DS_DIR)/LICENSE && \
	  cp "$$tmp/axe/package/axe.min.js" $(AXE_DIR)/axe.min.js && \
	  cp "$$tmp/axe/package/LICENSE" $(AXE_DIR)/LICENSE && \
	  printf '%s\n' "@digdir/designsystemet-css $(DS_CSS_VERSION), MIT licence (LICENSE beside it)." \
	    "designsystemet.css: dist/src/index.css; theme.css: dist/theme/designsystemet.css." \
	    "Refreshed by \`make assets\` (DS_CSS_VERSION in the Makefile)." > $(DS_DIR)/VERSION && \
	  printf '%s\n' "axe-core $(AXE_VERSION), MPL-2.0 licence (LICENSE beside it): axe.min.js." \
	    "Test-only: injected into pages by tests/browser. Refreshed by \`make assets\`." > $(AXE_DIR)/VERSION
	@echo "vendored @digdir/designsystemet-css $(DS_CSS_VERSION) and axe-core $(AXE_VERSION)"

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
