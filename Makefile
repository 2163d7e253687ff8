# Every target makes its own virtual environment (.venv) from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
REPORT ?= lab-report

.PHONY: run test bench lint docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job: train the chapter's Iris network from the command line (prints its accuracy),
# then the chapter's six exercises as one HTML report (its path is printed last).
run: $(STAMP)
	$(BIN)/layerwise train --data iris --layers 8,4 --lr 0.01 --epochs 100 --seed 42 --quiet
	$(BIN)/layerwise lab all --out $(REPORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# The targets hold at 1 and at 2 threads: one table, every case timed at each thread count.
BENCH_THREADS ?= 1,2
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --threads $(BENCH_THREADS) $(BENCH_ARGS)
	$(BIN)/python benchmarks/onnx_bench.py
	$(BIN)/python benchmarks/dask_bench.py $(DASK_BENCH_ARGS)

# The documentation site, into site/ (open site/index.html); --strict: any warning fails.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/mypy src/layerwise

clean:
	rm -rf $(VENV) $(REPORT) site build dist src/*.egg-info
