# keytool_py: `make demo` makes a full kit in demo/, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
KTPY   := $(BIN)/ktpy
DEMO   := demo

.PHONY: demo test lint fuzz clean

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
demo: $(VENV)/.installed
	rm -rf $(DEMO)
	$(KTPY) create-ca --dir $(DEMO)/ca --subject "CN=ktpy Demo Root CA,O=Demo" \
	    --password generate:$(DEMO)/ca/ca-password.txt
	$(KTPY) issue-client --ca $(DEMO)/ca --ca-password file:$(DEMO)/ca/ca-password.txt \
	    --subject "CN=mule-client,O=Demo" --out-dir $(DEMO)/client --name mule-client
	$(KTPY) export-pem $(DEMO)/client/mule-client-chain.pem -o $(DEMO)/salesforce-upload.pem
	$(KTPY) export-pem $(DEMO)/client/mule-client-chain.pem --with-chain \
	    -o $(DEMO)/salesforce-upload-chain.pem
	$(KTPY) build-keystore --type jks --key $(DEMO)/client/mule-client.key \
	    --cert $(DEMO)/client/mule-client-chain.pem --alias mule-client \
	    --storepass generate:$(DEMO)/storepass.txt -o $(DEMO)/keystore.jks
	$(KTPY) build-keystore --type pkcs12 --key $(DEMO)/client/mule-client.key \
	    --cert $(DEMO)/client/mule-client-chain.pem --alias mule-client \
	    --storepass file:$(DEMO)/storepass.txt -o $(DEMO)/keystore.p12
	$(KTPY) build-keystore --type jceks --key $(DEMO)/client/mule-client.key \
	    --cert $(DEMO)/client/mule-client-chain.pem --alias mule-client \
	    --storepass file:$(DEMO)/storepass.txt -o $(DEMO)/keystore.jceks
	@echo
	@echo "The demo kit is in $(DEMO)/:"
	@cd $(DEMO) && find . -type f | sort | sed 's/^\.\//  /'
	@echo
	@echo "Upload $(DEMO)/salesforce-upload.pem in Salesforce (Setup > Certificate and Key Management)."
	@echo "Keystores: alias mule-client; store and key password in $(DEMO)/storepass.txt (mode 0600)."
	@echo "Check one: keytool -list -v -keystore $(DEMO)/keystore.jks -storepass:file $(DEMO)/storepass.txt"

# KTPY_REQUIRE_INTEROP=1 (set by .ci/run) turns a skipped Java/OpenSSL test into a failure.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -rs

# The fuzzing tests with many more inputs (about 10000 per input kind; several minutes).
fuzz: $(VENV)/.installed-test
	KTPY_FUZZ_EXAMPLES=$${KTPY_FUZZ_EXAMPLES:-10000} $(BIN)/python -m pytest -q -p no:randomly tests/test_fuzz.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

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
