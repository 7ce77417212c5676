# Purchasing Live: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test browser proxy lint types unit integration e2e flake-check gallery-shots clean bench bench-quick i18n

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.app: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# The translations (src/purchasing/i18n.py): each language's catalog, compiled whenever it
# changes. `make i18n` extracts the messages from the code and templates and updates the
# catalogs; translate what it marks new or changed (tests/unit/test_translations.py names them).
LOCALE := src/purchasing/locale
CATALOGS := $(wildcard $(LOCALE)/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

$(LOCALE)/%/LC_MESSAGES/messages.mo: $(LOCALE)/%/LC_MESSAGES/messages.po $(VENV)/.app
	$(BIN)/pybabel compile --statistics -l $* -d $(LOCALE)
	test -f $@

i18n: $(VENV)/.app
	$(BIN)/pybabel extract -F $(LOCALE)/babel.cfg --project="Purchasing Live" \
	  --no-location --sort-by-file -c "Translators:" -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel update --init-missing --no-fuzzy-matching -l id -i $(LOCALE)/messages.pot -d $(LOCALE)

$(VENV)/.test: $(VENV)/.app
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q src  # every server a test starts reads it compiled
	touch $@

install: $(VENV)/.app $(COMPILED)
install-test: $(VENV)/.test $(COMPILED)

run: install
	$(BIN)/purchasing migrate
	$(BIN)/purchasing seed-demo --if-empty
	$(BIN)/purchasing serve

browser: install-test
	VENV=$(VENV) sh .ci/ensure-chromium

# nginx for the proxy test (e2e/test_proxy.py, deploy/nginx.conf).
proxy:
	sh .ci/ensure-nginx

lint: install-test
	$(BIN)/ruff check src tests e2e bench templates
	$(BIN)/ruff format --check src tests e2e bench templates
	$(BIN)/lint-imports

types: install-test
	$(BIN)/mypy

unit: install-test
	$(BIN)/pytest tests/unit

# Each tier ends by naming its 15 slowest tests. Most of their time is spent waiting (on servers,
# browsers, streams), so each runs more workers than the machine has cores.
integration: install-test
	$(BIN)/pytest tests/integration -n 4 --dist worksteal --durations=15

e2e: browser proxy
	$(BIN)/pytest e2e -n 2 --dist worksteal --durations=15

# The e2e suite 5 times over; names every test that failed in any run (e2e/flake_check.py).
flake-check: browser proxy
	$(BIN)/python -m e2e.flake_check 5

# Every gallery page (templates/README.md) at a desktop and a narrow width, into var/gallery/.
gallery-shots: browser
	$(BIN)/pytest e2e/test_gallery.py

test: lint types unit integration e2e

# Benchmarks (bench/README.md): results printed and kept in var/bench/latest.json.
bench: browser
	$(BIN)/python -m bench --mode full

bench-quick: browser
	$(BIN)/python -m bench --mode quick

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
