"""The same model compiles to the same Numba cache key in every process.

PyTensor's Numba linker caches each compiled function on disk under a key made
from the graph's structure.  If a rewrite leaves a different (equivalent) graph
in each process, the key changes, the cache never hits, and every run of a
recurrent model's training compiles its machine code again: a minute or two
before the first step, warm cache or not.  PyTensor's `scan_push_out_add` did
this for the state estimators' gradients (DL.engine.scan_rewrites).  The keys
are computed here without compiling machine code (funcifying only), in fresh
processes, as a user's runs would.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from DL.backend import BACKEND
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

pytestmark = pytest.mark.skipif(BACKEND != "pytensor", reason="Numba cache keys are PyTensor's")

TESTS = Path(__file__).resolve().parent

# A deep USE's cost and gradients in float64, as tests/test_use.py builds it: its
# backward loop holds several `h + dot(a, b)` accumulations (one per weight matrix).
KEY_OF_USE_GRADIENTS = """
import sys
import numpy
sys.path.insert(0, %r)
import test_use
from DL.backend import function, grad
from DL.utils import flatten
from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key
use = test_use.use64(numpy.random.RandomState(1234), dropout_rate=0.3)
cost = use.loss()
compiled = function([use.obs, use.act], [cost] + grad(cost, flatten(use.params)), no_default_updates=True)
print(numba_funcify_and_cache_key(compiled.maker.fgraph)[1])
""" % str(TESTS)


def key_in_a_new_process():
    flags = ",".join(filter(None, [os.environ.get("PYTENSOR_FLAGS"), "mode=NUMBA"]))
    completed = subprocess.run([sys.executable, "-c", KEY_OF_USE_GRADIENTS], capture_output=True, text=True,
                               env=dict(os.environ, PYTENSOR_FLAGS=flags), timeout=HANG)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout.strip().splitlines()[-1]


@pytest.mark.slow  # left out of `make test-quick`: compiles in fresh processes
def test_a_state_estimators_gradients_have_one_cache_key_in_every_process():
    with ThreadPoolExecutor(max_workers=2) as pool:
        keys = list(pool.map(lambda _: key_in_a_new_process(), range(4)))
    assert all(keys), keys  # a key of None would mean "not cacheable"
    assert len(set(keys)) == 1, keys


def test_two_builds_in_one_process_have_one_cache_key():
    """The quick form: the same graph built twice in this process (new objects, so a set
    ordered by their ids iterates differently) gives one key."""
    import numpy
    from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key
    sys.path.insert(0, str(TESTS))
    import test_use
    from DL.backend import function, grad
    from DL.utils import flatten

    def key():
        use = test_use.use64(numpy.random.RandomState(1234), deep=False)  # its backward loop sums several products
        cost = use.loss()
        compiled = function([use.obs, use.act], [cost] + grad(cost, flatten(use.params)), mode="NUMBA")
        return numba_funcify_and_cache_key(compiled.maker.fgraph)[1]

    keys = [key() for _ in range(3)]
    assert keys[0] is not None and len(set(keys)) == 1, keys
