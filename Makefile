# The two commands a new user needs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.zi2zi-installed
# fontbakery (the export tests' font checker) pins freetype-py < 2.4, which the renderer cannot
# use, so it lives in an environment of its own.
FB_VENV := .venv-fontbakery
FB_STAMP := $(FB_VENV)/.installed

.PHONY: setup fonts corpus-fonts demo test bench ablation base few-shot refiner font-quality handwriting-bench clean ui browser

setup: $(STAMP) $(FB_STAMP)

# torch: the CPU build (2.13.0) when no torch is present; a plain `torch` requirement would pull
# a multi-GB CUDA build. GPU users install their CUDA torch first (see README).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test,ui]'
	touch $(STAMP)

$(FB_STAMP):
	test -x $(FB_VENV)/bin/python || $(PYTHON) -m venv $(FB_VENV)
	$(FB_VENV)/bin/python -m pip install -q fontbakery==1.1.0
	touch $(FB_STAMP)

fonts:
	scripts/install-demo-fonts.sh

corpus-fonts:
	scripts/install-corpus-fonts.sh

demo: setup fonts
	$(BIN)/zi2zi demo --out demo-out --overwrite

# Lint (with import order) and types first: they take seconds and fail before minutes of tests.
test: setup browser
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The web app's browser tests drive Debian's Chromium (Playwright's own download is not used).
browser:
	scripts/install-browser.sh

# The web app on http://127.0.0.1:8765 with projects in ./projects; UI_ARGS="--base RUN" adds a base.
ui: setup fonts
	$(BIN)/zi2zi ui --projects projects $(UI_ARGS)

bench: setup fonts
	$(BIN)/python -m benchmarks.run_all

# The discriminator blur measured where a discriminator takes part: many hours on a CPU; its runs
# live in ablation-work/, so run it again to go on (ABLATION_ARGS="--dry-run" shows the plan).
ablation: setup corpus-fonts
	$(BIN)/python -m benchmarks.blur_ablation $(ABLATION_ARGS)

# The 64 px base model from scratch: hours on a CPU; run it again to resume, then package it.
base: setup corpus-fonts
	$(BIN)/python scripts/train_base.py --work base-work
	$(BIN)/python scripts/train_base.py --work base-work --package base-64

few-shot: setup corpus-fonts
	$(BIN)/python -m benchmarks.few_shot

# The shipped refiner (64 -> 256 px) from the shipped base's own outputs on the corpus fonts: about
# an hour of one CPU core; run it again to resume, then package it.
refiner: setup corpus-fonts
	$(BIN)/python scripts/train_refiner.py --work refiner-work
	$(BIN)/python scripts/train_refiner.py --work refiner-work --package refine-256

# The exported fonts rendered back and measured against the real fonts, with and without the refiner.
font-quality: setup corpus-fonts
	$(BIN)/python -m benchmarks.font_quality

# The handwriting chain measured: the demo's synthetic hand written, scanned, completed from the
# shipped base and scored against the hand font, every stage timed; run again with
# HANDWRITING_ARGS="--discriminator fresh" for the other cell (the report sets both side by side).
handwriting-bench: setup fonts
	$(BIN)/python -m benchmarks.handwriting $(HANDWRITING_ARGS)

clean:
	rm -rf $(VENV) $(FB_VENV) demo-out .pytest_cache

# Handwriting end to end with a synthetic hand: template -> filled and photographed sheets -> scan
# -> export (about half a minute on 2 cores) -> completion with the installed base model, skipped
# and reported when none is installed; writes handwriting-demo-out/report.html.
.PHONY: handwriting-demo
handwriting-demo: setup fonts
	$(BIN)/zi2zi demo --handwriting --out handwriting-demo-out --overwrite
