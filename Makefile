# The README's two commands live here.
#   make mnist   set up, fetch MNIST if missing, train an MLP, print its test error
#   make test    set up and run the tests
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# Data: $DL_DATA_DIR if set; else the shared copies beside the checkout, when present.
SHARED_DATA := $(abspath ../shared/data)
ifeq ($(DL_DATA_DIR),)
ifneq ($(wildcard $(SHARED_DATA)/mnist.pkl.gz),)
export DL_DATA_DIR := $(SHARED_DATA)
endif
endif
export MPLBACKEND ?= Agg
# One BLAS thread: these models' matrices are small, and on 2 cores OpenBLAS's
# threads fight the compiler and each other (steps measured up to 50x slower).
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: setup mnist test test-quick bench clean

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test,jax,studies]'
	touch $@

setup: $(VENV)/.installed

mnist: setup
	$(PY) examples/mlp-mnist-adadelta.py --epochs 20

# The suite, $(TEST_WORKERS) processes at a time (scripts/run-tests.py): each long module in
# a process of its own, the short ones six to a process; a module's compiled functions serve
# all its tests, and a process's memory is returned when it ends.
# `$(PY) -m pytest tests/test_x.py` runs one module as usual.
TEST_WORKERS ?= 2
test: setup
	$(PY) scripts/run-tests.py --workers $(TEST_WORKERS)

# The edit-test loop: every test module, six to a process, without the tests marked slow
# (examples on real data, studies, subprocess runs, learning to a bound); about 2 minutes warm.
test-quick: setup
	$(PY) scripts/run-tests.py --workers $(TEST_WORKERS) --group-long -m "not slow"

bench: setup
	$(PY) benchmarks/mnist_accuracy.py --epochs 20 sgd=200
	$(PY) -c 'import torch' 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0
	THEANO_ENV_BUILD_ONLY=1 scripts/theano-env.sh
	$(PY) benchmarks/compare.py

clean:
	rm -rf $(VENV) *.egg-info
