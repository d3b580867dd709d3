# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint lock clean system-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install -p $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -p $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/feedwell demo

# Services the tests start themselves: Debian's chromium (report rendering) and redis-server
# (shared session state). Installed with apt-get when missing; CI runs as root.
system-deps:
	@command -v chromium >/dev/null && command -v redis-server >/dev/null || \
	  ( (apt-get update -qq || sudo apt-get update -qq) && \
	    (apt-get install -y -qq chromium redis-server || sudo apt-get install -y -qq chromium redis-server) )

# The whole suite, slow end-to-end tests included (CI runs this).
test: install system-deps
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -m "slow or not slow"

# The fast inner loop: everything but tests marked slow (also plain `pytest`).
test-fast: install
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

# Re-resolve the locked dependency set after editing pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra test -o requirements.lock -p $(BIN)/python

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

# Headless Chromium alone (kept for the report test's own instructions).
.PHONY: browser
browser: system-deps
