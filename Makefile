# sitt: every target installs what it needs on first use (make setup), so each works first on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PROFILE ?= default
JOBS ?= $(shell nproc)

# What `make sweep` trains is each task's sweep plan (study.task.Task.sweeps: experiments, arms, seeds), defined once
# in the task's package (the maze: color_maze/design.py, SWEEPS). TASK=color_maze restricts it to one task.
TASK ?= all

.PHONY: help setup test unit lint reproduce sweep lab bench verify

help: ## this list
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:[^#]*## /\t/' | sort | awk -F'\t' '{printf "  make %-10s %s\n", $$1, $$2}'

# JupyterLab opens the notebooks' jupytext .py sources as notebooks on double-click (default viewer of `python`:
# jupytext's "Jupytext Notebook"), set as a default in the venv's own JupyterLab (application settings directory:
# .venv/share/jupyter/lab/settings), in overrides.d/ (jupyterlab_server reads every overrides.d/*.json there, then the
# singleton overrides.json, which stays free for the user). Not JUPYTERLAB_SETTINGS_DIR under `make lab`: that
# replaces the user's settings directory, so their own settings (theme, shortcuts) would vanish there and their edits
# land in the project. Overrides only change defaults: nothing outside .venv is written, the user's settings still
# win, and any JupyterLab started from this venv agrees. A recipe of its own, so an existing venv gets it without a
# re-install (tests/test_lab_settings.py asks a running server).
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/sitt-notebooks.json

setup: $(STAMP) $(LAB_OVERRIDES) ## create .venv and install the pinned packages (first use of any target does it)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 required, found {sys.version}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[all]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

$(LAB_OVERRIDES): notebooks/lab_overrides.json | $(STAMP)
	install -D -m 0644 $< $@

# Every notebook executed on the smoke profile, then the test suite (CI runs this; pytest's summary closes it).
test: setup ## lint, smoke-execute every notebook, then the whole test suite (what CI runs)
	$(MAKE) lint
	$(MAKE) smoke
	$(BIN)/python -m pytest -q

# ruff, pinned in the test extra, configured in pyproject.toml ([tool.ruff]): the whole checkout, results/ excepted
lint: setup ## ruff over the checkout (configured in pyproject.toml)
	$(BIN)/ruff check .

unit: setup ## the test suite only
	$(BIN)/python -m pytest -q

# The edit loop: the tests not marked slow (pyproject.toml's `slow` marker: trainings to a threshold, smoke sweeps,
# subprocess sweeps, servers), no notebook smoke; under 2 minutes on an idle 2-core machine. `make test` runs them all.
.PHONY: test-fast
test-fast: setup ## lint, then the tests not marked slow, no notebook smoke (the edit loop: under 2 minutes on 2 cores)
	$(MAKE) lint
	$(BIN)/python -m pytest -q -m "not slow"

# notebooks find the committed runs wherever the kernel starts (study.paths); root may run it (containers)
lab: setup ## JupyterLab on notebooks/
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: setup ## env and training throughput figures
	$(BIN)/python benchmarks/env_throughput.py
	$(BIN)/python benchmarks/throughput.py

# The study: every run of every task's sweep plan for the PROFILE (resumable: complete runs are skipped), then every
# notebook. A run two studies share (sitt_release of main and of the ablations) is trained once and copied
# (provenance: reused_from).
sweep: setup ## train the missing runs of every task's sweep plan (PROFILE=default, JOBS=cores, TASK=all)
	$(BIN)/python -m study.sweep --plan $(TASK) --profile $(PROFILE) --jobs $(JOBS)

reproduce: sweep ## train what is missing, then make figures
	$(MAKE) figures

# Check committed results: re-train RUN=<experiment>/<arm>/seed_<k> (or N runs of a seeded draw) into a temporary store,
# at the run's recorded commit and at HEAD (MODE=commit|head|both), and compare with the committed records (README).
N ?= 1
VERIFY_SEED ?= 0
MODE ?= both
comma := ,
verify: setup ## re-train committed runs into a temporary store and compare (RUN=exp/arm/seed_k or N=, MODE=commit|head|both)
	$(BIN)/python -m study.verify --mode $(MODE) $(if $(RUN),$(foreach r,$(subst $(comma), ,$(RUN)),--run $(r)),--n $(N) --seed $(VERIFY_SEED))

include notebooks/Makefile.inc
