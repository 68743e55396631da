# sitt: every target installs what it needs on first use (make setup), so each works first on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PROFILE ?= default
JOBS ?= $(shell nproc)

SEEDS ?= 0-9
ABLATION_SEEDS ?= 0-7
# The without_alignment run's teacher IS a plain PPO teacher (no student-informed term reaches it): it gives panel (a),
# the student of panel (e) and the teacher that BC and DAgger imitate. The `plain_teacher` arm (no student at all)
# would cost one more training per seed for the same teacher, so the default sweep leaves it out.
MAIN_ARMS ?= without_alignment,bc,dagger,sitt_release,sitt_paper

.PHONY: setup test unit reproduce sweep lab bench verify

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), f"Python 3.11 required, found {sys.version}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Every notebook executed on the smoke profile, then the test suite (CI runs this; pytest's summary closes it).
test: setup
	$(MAKE) smoke
	$(BIN)/python -m pytest -q

unit: setup
	$(BIN)/python -m pytest -q

lab: setup
	$(BIN)/jupyter lab notebooks/

bench: setup
	$(BIN)/python benchmarks/env_throughput.py
	$(BIN)/python benchmarks/throughput.py

# The study: every run of the PROFILE (resumable: complete runs are skipped), then every notebook. The second sweep
# goes seed by seed over both smaller studies; a run they share with each other or with main (sitt_release,
# sitt_paper, without_alignment, quirks_fixed, -1.9 x KL) is trained once and copied (provenance: reused_from).
sweep: setup
	$(BIN)/python -m study.sweep --experiment main --arms $(MAIN_ARMS) --profile $(PROFILE) --seeds $(SEEDS) --jobs $(JOBS)
	$(BIN)/python -m study.sweep --experiment release_vs_paper,ablations --profile $(PROFILE) --seeds $(ABLATION_SEEDS) --jobs $(JOBS)

reproduce: sweep
	$(MAKE) figures

# Check committed results: re-train RUN=<experiment>/<arm>/seed_<k> (or N runs of a seeded draw) into a temporary store,
# at the run's recorded commit and at HEAD (MODE=commit|head|both), and compare with the committed records (README).
N ?= 1
VERIFY_SEED ?= 0
MODE ?= both
comma := ,
verify: setup
	$(BIN)/python -m study.verify --mode $(MODE) $(if $(RUN),$(foreach r,$(subst $(comma), ,$(RUN)),--run $(r)),--n $(N) --seed $(VERIFY_SEED))

include notebooks/Makefile.inc
