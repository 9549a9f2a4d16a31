# The two commands of the README: `make demo` (the notes' worked examples derived, checked and
# rendered) and `make test`. Each creates its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := test,plot,progress,data,fast,compiled
OUT := out

.PHONY: demo test bench install clean

$(VENV)/.installed-$(EXTRAS): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

install: $(VENV)/.installed-$(EXTRAS)

demo: install
	$(BIN)/python scripts/demo.py --out $(OUT)

test: install
	$(BIN)/python -m pytest -q

bench: install    # every case of the README's speed table, every peer side by side (a few minutes)
	$(BIN)/python benchmarks/bench_all.py

clean:
	rm -rf $(VENV) $(OUT)
