# Two entry points for a fresh machine: `make demo` (the main job on the built-in emulator) and
# `make test`. Both create the virtual environment in .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The older clients the emulator is tested against, installed beside the project (not into it).
NPM_DIR := $(VENV)/npm
OLD_CLIENT_DIR := $(VENV)/mtnmomo-3.0.1

.PHONY: demo test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# mtnmomo 3.0.1 pins click 7 and has an `mtnmomo` script of its own: it goes beside the
	@# project, without its pins (its code runs fine on click 8), for the tests to import.
	$(BIN)/python -m pip install --quiet --no-deps --target $(OLD_CLIENT_DIR) mtnmomo==3.0.1
	touch $@

$(NPM_DIR)/.installed:
	mkdir -p $(NPM_DIR)
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(NPM_DIR) mtn-momo@2.0.0 || echo "mtn-momo could not be installed: its test will say so"; fi
	touch $@

demo: $(VENV)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" ./scripts/demo

test: $(VENV)/.installed $(NPM_DIR)/.installed
	MTN_MOMO_NPM_DIR="$(CURDIR)/$(NPM_DIR)" MTNMOMO_TARGET_DIR="$(CURDIR)/$(OLD_CLIENT_DIR)" \
		$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
