# keytool_py: `make demo` makes a full kit in demo/, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
KTPY   := $(BIN)/ktpy
DEMO   := demo

.PHONY: demo test lint fuzz clean mutants

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps record what was installed; they are redone when setup.cfg changes.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed

# A throwaway kit: demo/ is replaced on every run. Passwords are generated into 0600 files.
# `ktpy kit` is the one-shot form of create-ca, issue-client, export-pem and build-keystore x3
# (the README shows those steps one by one).
demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(KTPY) kit --out-dir $(DEMO) --subject "CN=mule-client,O=Demo" \
	    --storepass generate:$(DEMO)/storepass.txt
	@echo
	@echo "The demo kit is in $(DEMO)/:"
	@cd $(DEMO) && find . -type f | sort | sed 's/^\.\//  /'
	@echo
	@echo "Read $(DEMO)/README.txt: what to upload to Salesforce, what goes into the Mule project."
	@echo "Check a store: keytool -list -v -keystore $(DEMO)/keystore.jks -storepass:file $(DEMO)/storepass.txt"

# KTPY_REQUIRE_INTEROP=1 (set by .ci/run) turns any skipped test into a failure; the summary
# says how many were skipped ("skipped: N").
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -rs

# Planted faults (tests/mutants/catalogue.py): each in a copy of the tree, its tests must fail.
mutants: $(VENV)/.installed-test
	$(BIN)/python tests/mutants/run.py

# The fuzzing tests with many more inputs (about 10000 per input kind; several minutes).
fuzz: $(VENV)/.installed-test
	KTPY_FUZZ_EXAMPLES=$${KTPY_FUZZ_EXAMPLES:-10000} $(BIN)/python -m pytest -q -p no:randomly tests/test_fuzz.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory typecheck

# The site: the user guide (README.md as the front page, every docs/*.md as a page) and the API
# reference (keytool_py.__all__ from the docstrings, by pdoc) in build/docs/. Any warning, a page
# without a title or a link to a missing page fails it (CI runs it). docs/site.py says why pdoc.
.PHONY: docs
docs: $(VENV)/.installed-test
	rm -rf build/docs && mkdir -p build
	$(BIN)/python -W error -m pdoc keytool_py -o build/docs/api 2> build/docs-warnings.txt \
	    || { cat build/docs-warnings.txt; exit 1; }
	@if [ -s build/docs-warnings.txt ]; then cat build/docs-warnings.txt; echo "docs: warnings above"; exit 1; fi
	$(BIN)/python -W error docs/site.py build/docs

# mypy --strict over keytool_py/ (mypy.ini lists each relaxation and why).
.PHONY: typecheck
typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(DEMO) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Benchmarks (scripts, not tests; about 15 minutes, most of it the OpenSSL + keytool batch loop).
# Results: bench/RESULTS.md. One at a time: $(BIN)/python bench/bench_kit.py (see bench/README.md).
.PHONY: bench
bench: $(VENV)/.installed
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_kit.py
	$(BIN)/python bench/bench_batch.py
	$(BIN)/python bench/bench_hostile.py
