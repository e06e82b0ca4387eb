# The two commands a new user needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.zi2zi-installed
# fontbakery (the export tests' font checker) pins freetype-py < 2.4, which the renderer cannot
# use, so it lives in an environment of its own.
FB_VENV := .venv-fontbakery
FB_STAMP := $(FB_VENV)/.installed

.PHONY: setup fonts demo test bench ablation clean

setup: $(STAMP) $(FB_STAMP)

# torch: the CPU build (2.13.0) when no torch is present; a plain `torch` requirement would pull
# a multi-GB CUDA build. GPU users install their CUDA torch first (see README).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

$(FB_STAMP):
	test -x $(FB_VENV)/bin/python || $(PYTHON) -m venv $(FB_VENV)
	$(FB_VENV)/bin/python -m pip install -q fontbakery==1.1.0
	touch $(FB_STAMP)

fonts:
	scripts/install-demo-fonts.sh

demo: setup fonts
	$(BIN)/zi2zi demo --out demo-out --overwrite

test: setup
	$(BIN)/python -m pytest

bench: setup fonts
	$(BIN)/python benchmarks/run_all.py

ablation: setup fonts
	$(BIN)/python benchmarks/blur_ablation.py

clean:
	rm -rf $(VENV) $(FB_VENV) demo-out .pytest_cache
