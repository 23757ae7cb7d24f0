# personas — the two commands of the README's Quickstart, and helpers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check

.PHONY: demo test lint docs docs-check docs-serve browser axe postgres format clean help

help:
	@echo "make demo   - create $(VENV), install personas, run the demo (writes demo-output/)"
	@echo "make test   - create $(VENV) with test extras, install chromium and postgresql (apt)"
	@echo "              and axe-core (npm) if missing,"
	@echo "              run ruff, build the docs (strict) and the whole test suite"
	@echo "make docs   - build the user guide and architecture (MkDocs) into site/"
	@echo "make format - format the code with ruff"
	@echo "make clean  - remove $(VENV), demo-output/ and caches"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/personas demo --out demo-output

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

# $(call apt_install,PACKAGE,CHECK,WHAT FOR): Debian's PACKAGE with apt-get (sudo when not
# root) unless CHECK says it is there; without apt, a warning: those tests skip, saying why.
apt_install = if $(2); then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing Debian's $(1) for $(3) (apt-get)"; \
	  ($$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends $(1)) \
	    || echo "warning: could not install $(1); $(3) will be skipped"; \
	else echo "warning: no $(1) and no apt-get; $(3) will be skipped"; fi

# The report tests open the HTML in a real headless Chromium: Debian's package, through
# Playwright (which cannot download its own browsers here).
browser:
	@$(call apt_install,chromium,command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ],the browser tests)

# The dashboard's accessibility test injects axe-core, the npm package, from a local file.
AXE := $(VENV)/axe-core/package/axe.min.js
axe: $(AXE)
$(AXE): | $(BIN)/python
	@$(call apt_install,npm,command -v npm >/dev/null 2>&1,the accessibility test)
	@if command -v npm >/dev/null 2>&1; then \
	  (mkdir -p $(VENV)/axe-core && cd $(VENV)/axe-core && rm -f axe-core-*.tgz && \
	   npm pack --silent axe-core@4 >/dev/null && tar xzf axe-core-*.tgz); \
	fi; [ -f $@ ] || echo "warning: axe-core not installed; the accessibility test will be skipped"

# The store's tests run a throwaway PostgreSQL server (a cluster in a temporary folder, on
# a loopback port, stopped at the end): Debian's package.
postgres:
	@$(call apt_install,postgresql,command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1,the PostgreSQL store tests)

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[docs]'
	@touch $@ $(VENV)/.installed

# The site: docs/ (user guide, architecture) built by MkDocs + Material into site/.
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve -a 127.0.0.1:8000

docs-check: $(VENV)/.installed-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site-check

test: lint docs-check browser axe postgres
	$(BIN)/python -m pytest

format: $(VENV)/.installed-test
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

clean:
	rm -rf $(VENV) demo-output site test-output .pytest_cache .ruff_cache build src/*.egg-info
