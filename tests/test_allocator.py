"""DL.engine.allocator: while DL trains (`kept_heap()`, inside `while_training()`, which
DL's training loop runs in) glibc keeps the loop's freed arrays for reuse, so a loop
allocating the same large arrays stops faulting their pages in afresh each time.
Outside the block, and after it, malloc behaves as glibc's defaults have it and what was
kept is given back; importing DL changes nothing; the user's own malloc settings and
DL_MALLOC_TUNING=0 win."""
import os
import platform
import subprocess
import sys

import numpy
import pytest
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

from DL.backend import T, floatX
from DL.engine import allocator
from DL.models.LogisticRegression import LogisticRegression
from DL.optimizers import Callback, EarlyStopping, compile_functions, train_loop
from DL.utils import load_data

pytestmark = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="the settings are glibc's")

# Allocate and fill four 13 MB arrays (an LSTM's gates, their gradient, ... at IMDB
# shapes), then free them: the page faults of 10 rounds, after 10 untimed ones, in
# the block the command line names (none, the kept heap, the kept heap nested in
# another thread's, or after leaving one).
LOOP = """
import resource, sys, threading, numpy
import DL.backend
from DL.engine import allocator
def step():
    arrays = [numpy.empty((100, 64, 512), dtype="float32") for _ in range(4)]
    for array in arrays:
        array.fill(1.0)
    del arrays
def faults_of(call):
    for _ in range(10):
        call()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        call()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
def faults():
    return faults_of(step)
where = sys.argv[1]
if where == "none":
    print(allocator.kept(), faults())
elif where == "kept":
    with DL.backend.while_training():
        print(allocator.kept(), faults())
elif where == "after":
    with allocator.kept_heap():
        faults()
    print(allocator.kept(), faults())
elif where == "crowded":  # long-lived blocks made in the block fill the reserve: it grows
    with allocator.kept_heap() as reserve:
        crowd = [numpy.ones(30 << 10, dtype="float32") for _ in range(allocator.RESERVE // (120 << 10))]
        for _ in range(5):
            reserve.run(step)
        print(len(reserve.fences) > 1, faults_of(lambda: reserve.run(step)))
elif where == "nested":  # another thread's block ends inside this one: the heap stays kept
    with allocator.kept_heap():
        def inner():
            with allocator.kept_heap():
                step()
        thread = threading.Thread(target=inner)
        thread.start(); thread.join()
        print(allocator.kept(), faults())
"""
PAGES = 4 * 100 * 64 * 512 * 4 // 4096  # 12800 pages of 4 KB a round


def faults_per_round(where, **environment):
    env = {name: value for name, value in os.environ.items()
           if name != "GLIBC_TUNABLES" and not name.startswith("MALLOC_") and name != "DL_MALLOC_TUNING"}
    env.update(environment)
    result = subprocess.run([sys.executable, "-c", LOOP, where], env=env, capture_output=True, text=True,
                            timeout=HANG)
    assert result.returncode == 0, result.stderr[-2000:]
    kept, faults = result.stdout.split()
    return kept == "True", int(faults) / 10


@pytest.mark.parametrize("where", ["kept", "nested", "crowded"])
def test_inside_the_block_freed_arrays_are_reused(where):
    kept, faults = faults_per_round(where)
    assert kept
    assert faults < PAGES / 100  # the arrays' pages are reused, not faulted in again


@pytest.mark.parametrize("where", ["none", "after"])
def test_outside_the_block_malloc_has_glibcs_defaults(where):
    kept, faults = faults_per_round(where)
    assert not kept
    # glibc's defaults: the heap is trimmed and regrown each round (about 2000 faults a
    # round here, fewer than PAGES because NumPy asks for transparent huge pages)
    assert faults > PAGES / 100


def test_what_was_kept_goes_back_to_the_system_after_the_block():
    code = ("import numpy\nfrom DL.engine import allocator\n"
            "def resident(): return int(open('/proc/self/statm').read().split()[1]) * 4096\n"
            "before = resident()\n"
            "with allocator.kept_heap():\n"
            "    for _ in range(3):\n"
            "        arrays = [numpy.ones((100, 64, 512), dtype='float32') for _ in range(4)]; del arrays\n"
            "    during = resident()\n"
            "print(during - before, resident() - before)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG)
    assert result.returncode == 0, result.stderr[-2000:]
    during, after = (int(size) for size in result.stdout.split())
    assert during > 4 * 13 * 10**6  # the four arrays' pages stayed with the process
    assert after < 4 * 10**6


def test_the_users_own_malloc_settings_win():
    kept, faults = faults_per_round("kept", GLIBC_TUNABLES="glibc.malloc.mmap_threshold=65536")
    assert faults > PAGES / 100  # every array a fresh mmap, as the user asked


def test_DL_MALLOC_TUNING_0_turns_it_off():
    kept, faults = faults_per_round("kept", DL_MALLOC_TUNING="0")
    assert not kept
    assert faults > PAGES / 100


class SeesKeptHeap(Callback):
    def __init__(self):
        self.kept = []

    def on_step(self, state, cost):
        self.kept.append(allocator.kept())


def test_the_training_loop_runs_in_the_block_and_leaves_it():
    rng = numpy.random.RandomState(0)
    data = load_data([(rng.randn(n, 3).astype(floatX), rng.randint(0, 2, n).astype("int32")) for n in (40, 20, 20)])
    x, t = T.matrix("x"), T.ivector("t")
    model = LogisticRegression(None, x, 3, 2)
    functions = compile_functions(data, [x, t], model.loss(t), model.params, model.errors(t), batch_size=10,
                                  rule="sgd", rule_options=dict(learning_rate=0.1))
    seen = SeesKeptHeap()
    train_loop(functions, EarlyStopping(validation_frequency=4), n_epochs=2, callbacks=[seen])
    assert seen.kept == [allocator.available()] * 8
    assert not allocator.kept()
