# The virtualenv lives in .venv/; every target creates it on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run playground screenshots test lint typecheck check postgres package clean chaos bench bench-quick messages

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	# Bytecode at the image's PYTHONOPTIMIZE too (pip compiles only unoptimized), so the bot
	# the tests and the bench start runs as the image's does without compiling first.
	$(PY) -OO -m compileall -q -j 0 $(VENV)/lib
	touch $(STAMP)

# The Agents Playground and playwright-core, exactly as package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

## playground: the bot on SQLite and the Agents Playground at http://localhost:56150, no tenant needed
playground: $(STAMP) $(NODE_STAMP)
	$(PY) -m playground.launch

## screenshots: docs/screenshots/*.png, the real cards photographed in the playground (needs Debian's chromium)
screenshots: $(STAMP) $(NODE_STAMP)
	$(PY) -m playground.screenshots

## run: serve the bot on PORT (default 3978), on SQLite under ./data/, no credentials needed
run: $(STAMP)
	$(PY) app.py

## postgres: make sure the local PostgreSQL the tests use is up
postgres:
	bash scripts/ensure_postgres.sh

## test: lint, type-check, the whole suite (SQLite and PostgreSQL), then the end-to-end and dialog tests pseudo-localized
test: $(STAMP) $(NODE_STAMP) postgres lint typecheck
	$(PY) -m pytest -n auto
	$(PY) -m pytest -n auto -q --pseudo-localize tests/e2e tests/dialogs

## package: build build/appPackage.zip for Teams (needs TEAMS_APP_ID, MicrosoftAppId, DEVELOPER_*, PRIVACY_URL, TERMS_URL)
package: $(STAMP)
	$(PY) -m manifest.package

REF_VENV := bench/.venv-ref
REF_STAMP := $(REF_VENV)/.installed

# The reference bots' own virtualenv: their SDKs never touch the product's pinned deps.
$(REF_STAMP): bench/requirements-ref.txt
	test -x $(REF_VENV)/bin/python || $(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements-ref.txt
	touch $(REF_STAMP)

## bench: the bot beside the botbuilder and Agents SDK echo bots on loopback, pinned to its own CPU; prints a table and the targets (not part of test)
bench: $(STAMP) $(REF_STAMP) postgres
	$(PY) bench/run.py

## bench-quick: the same scenarios and targets as bench, shorter runs: about 4 minutes once the seeds are cached
bench-quick: $(STAMP) $(REF_STAMP) postgres
	$(PY) bench/run.py --quick

## messages: collect the marked texts into i18n/messages.pot and update every language's .po
messages: $(STAMP)
	$(PY) -m i18n.extract

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy .

clean:
	rm -rf $(VENV) node_modules build .mypy_cache .pytest_cache .ruff_cache

## chaos: break the running bot (flaky connector, SIGKILL, two replicas, database cut) and print a table
chaos: $(STAMP) postgres
	$(PY) scripts/chaos.py
