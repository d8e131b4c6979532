"""DL.engine.allocator: glibc keeps freed training arrays for reuse when the user opts
in (DL_MALLOC_TUNING=1, or keep_freed_memory()), so that a loop allocating the same
large arrays stops faulting their pages in afresh each time.  Importing DL alone
leaves malloc as it was; the user's own malloc settings win."""
import os
import platform
import subprocess
import sys

import pytest
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="the settings are glibc's")

# Allocate and fill four 13 MB arrays (an LSTM's gates, their gradient, ... at IMDB
# shapes), then free them, 20 times; print whether DL tuned malloc and the page
# faults of the last 10 rounds.
LOOP = """
import resource, numpy
import sys
import DL.backend
from DL.engine import allocator
if "--call" in sys.argv:
    allocator.keep_freed_memory()
def step():
    arrays = [numpy.empty((100, 64, 512), dtype="float32") for _ in range(4)]
    for array in arrays:
        array.fill(1.0)
    del arrays
for _ in range(10):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(allocator.tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
PAGES = 4 * 100 * 64 * 512 * 4 // 4096  # 12800 pages of 4 KB a round


def faults_per_round(*arguments, **environment):
    env = {name: value for name, value in os.environ.items()
           if name != "GLIBC_TUNABLES" and not name.startswith("MALLOC_")}
    env.update(environment)
    result = subprocess.run([sys.executable, "-c", LOOP, *arguments], env=env, capture_output=True, text=True, timeout=HANG)
    assert result.returncode == 0, result.stderr[-2000:]
    tuned, faults = result.stdout.split()
    return tuned == "True", int(faults) / 10


def test_DL_MALLOC_TUNING_1_keeps_freed_arrays_for_reuse():
    tuned, faults = faults_per_round(DL_MALLOC_TUNING="1")
    assert tuned
    assert faults < PAGES / 100  # the arrays' pages are reused, not faulted in again


def test_keep_freed_memory_is_the_same_opt_in_from_code():
    tuned, faults = faults_per_round("--call", DL_MALLOC_TUNING="")
    assert tuned
    assert faults < PAGES / 100


@pytest.mark.parametrize("setting", ["", "0"])
def test_importing_DL_leaves_glibcs_defaults(setting):
    tuned, faults = faults_per_round(DL_MALLOC_TUNING=setting)
    assert not tuned
    # glibc's defaults: the heap is trimmed and regrown each round (about 2000 faults a
    # round here, fewer than PAGES because NumPy asks for transparent huge pages)
    assert faults > PAGES / 100


def test_the_users_own_malloc_settings_win():
    tuned, faults = faults_per_round("--call", DL_MALLOC_TUNING="1",
                                     GLIBC_TUNABLES="glibc.malloc.mmap_threshold=65536")
    assert not tuned
    assert faults > PAGES / 100  # every array a fresh mmap, as the user asked
