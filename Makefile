# Purchasing Live: `make run` serves the demo, `make test` runs every test.
#
# Every install is the lock's (uv.lock): uv, bootstrapped with pip into .tools/, syncs .venv to
# exactly the locked versions, and refuses when pyproject.toml and the lock disagree.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.10
UV := .tools/uv/bin/uv
SYNC = $(UV) sync --locked --compile-bytecode --python $(PYTHON)
export UV_PROJECT_ENVIRONMENT := $(VENV)
TIMED := sh .ci/timed

.PHONY: run test locked install install-test install-bench lock upgrade deps-latest browser \
	proxy lint types unit integration e2e flake-check gallery-shots clean bench bench-quick i18n

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .tools/uv uv==$(UV_VERSION)

# The lock must describe pyproject.toml before anything is installed from it.
locked: $(UV)
	@$(UV) lock --check --quiet || { \
	  echo "uv.lock does not match pyproject.toml. Run 'make lock' to record the change"; \
	  echo "(it keeps every other version as locked), or 'make upgrade' to move everything."; \
	  exit 1; }

# The app alone (no test tool), or with the lint and test tools, or with the bench's peer too:
# each synced (and compiled: PYTHONDONTWRITEBYTECODE may be set) when the lock has changed since,
# or when the venv last held another of the three.
install: locked $(VENV)/.app
install-test: locked $(VENV)/.test
install-bench: locked $(VENV)/.bench

$(VENV)/.app: uv.lock pyproject.toml
	$(SYNC) --no-default-groups
	rm -f $(VENV)/.test $(VENV)/.bench && touch $@
$(VENV)/.test: uv.lock pyproject.toml
	$(SYNC) --no-default-groups --group lint --group test
	$(BIN)/python -m compileall -q src  # every server a test starts reads it compiled
	rm -f $(VENV)/.app $(VENV)/.bench && touch $@
$(VENV)/.bench: uv.lock pyproject.toml
	$(SYNC) --no-default-groups --group test --group bench
	rm -f $(VENV)/.app $(VENV)/.test && touch $@

lock: $(UV)
	$(UV) lock

# The newest versions pyproject.toml allows, locked, then checked: commit uv.lock if it passes.
upgrade: $(UV)
	$(UV) lock --upgrade
	$(MAKE) lint types unit

# The newest of everything in a throwaway environment (var/deps-latest), checked the same way:
# whether the next `make upgrade` will pass, leaving uv.lock as it is.
LATEST := var/deps-latest
deps-latest: $(UV)
	rm -rf $(LATEST)
	$(UV) venv --quiet --python $(PYTHON) $(LATEST)
	VIRTUAL_ENV=$(LATEST) $(UV) pip install --quiet --upgrade -e . --group lint --group test
	$(MAKE) lint types unit VENV=$(LATEST) INSTALL_TEST=

run: install
	$(BIN)/purchasing migrate
	$(BIN)/purchasing seed-demo --if-empty
	$(BIN)/purchasing serve

# The translations (src/purchasing/i18n.py reads each language's .po when the app starts).
# `make i18n` extracts the messages from the code and templates and updates the catalogs;
# translate what it marks new or changed (tests/unit/test_translations.py names them).
LOCALE := src/purchasing/locale
i18n: install-test
	$(BIN)/pybabel extract -F $(LOCALE)/babel.cfg --project="Purchasing Live" \
	  --no-location --sort-by-file -c "Translators:" -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel update --init-missing --no-fuzzy-matching -l id -i $(LOCALE)/messages.pot -d $(LOCALE)

browser: install-test
	VENV=$(VENV) sh .ci/ensure-chromium

# nginx for the proxy test (e2e/test_proxy.py, deploy/nginx.conf).
proxy:
	sh .ci/ensure-nginx

# The checks below install what they need first, unless told to use what $(VENV) holds.
INSTALL_TEST ?= install-test
E2E_NEEDS ?= browser proxy

lint: $(INSTALL_TEST)
	$(BIN)/ruff check src tests e2e bench templates
	$(BIN)/ruff format --check src tests e2e bench templates
	$(BIN)/lint-imports

types: $(INSTALL_TEST)
	$(BIN)/mypy

unit: $(INSTALL_TEST)
	$(BIN)/pytest tests/unit

# Each tier ends by naming its 15 slowest tests. Most of their time is spent waiting (on servers,
# browsers, streams), so each runs more workers than the machine has cores.
integration: $(INSTALL_TEST)
	$(BIN)/pytest tests/integration -n 4 --dist worksteal --durations=15

e2e: $(E2E_NEEDS)
	$(BIN)/pytest e2e -n 2 --dist worksteal --durations=15

# The e2e suite 5 times over; names every test that failed in any run (e2e/flake_check.py).
flake-check: browser proxy
	$(BIN)/python -m e2e.flake_check 5

# Every gallery page (templates/README.md) at a desktop and a narrow width, into var/gallery/.
gallery-shots: browser
	GALLERY_SHOTS=1 $(BIN)/pytest e2e/test_gallery.py

# Every tier in turn, each one's time kept and printed at the end (.ci/timed).
test:
	@rm -f var/tier-times
	@$(TIMED) install $(MAKE) --no-print-directory install-test browser proxy
	@$(TIMED) lint $(MAKE) --no-print-directory lint INSTALL_TEST=
	@$(TIMED) types $(MAKE) --no-print-directory types INSTALL_TEST=
	@$(TIMED) unit $(MAKE) --no-print-directory unit INSTALL_TEST=
	@$(TIMED) integration $(MAKE) --no-print-directory integration INSTALL_TEST=
	@$(TIMED) e2e $(MAKE) --no-print-directory e2e E2E_NEEDS=
	@echo "Time per tier:"; cat var/tier-times

# Benchmarks (bench/README.md): results printed and kept in var/bench/latest.json.
bench: install-bench
	VENV=$(VENV) sh .ci/ensure-chromium
	$(BIN)/python -m bench --mode full

bench-quick: install-bench
	VENV=$(VENV) sh .ci/ensure-chromium
	$(BIN)/python -m bench --mode quick

clean:
	rm -rf $(VENV) .tools var .pytest_cache .mypy_cache .ruff_cache
