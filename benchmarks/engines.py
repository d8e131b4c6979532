#!/usr/bin/env python
"""Start-up and step time of DL's two engines, PyTensor's Numba mode and JAX (issue 25 item 3).

Five cases, built by benchmarks/startup.py's build() (random data of the
examples' shapes: compiling depends on the graph, not on the values) and
compiled by `compile_functions` as optimize() compiles them, with `mode=` the
mode measured (and DL_MODE set to it, as a user picks an engine):

    mlp    MLP 784-500-10 tanh, adadelta, minibatches of 20
    lstm   word ids (16, 100) -> embedding 10000 x 128 -> LSTM 128 -> mean over
           the real words -> dropout 0.5 -> softmax, adadelta, minibatches of 16
    gru    the same with a GRU 128 in place of the LSTM
    use    USE, 5 observations, 2 actions, 50 relu state units, 20 steps, SGD with
           momentum, minibatches of 20
    lenet  LeNet (the deeplearning.net tutorial's) on flat MNIST-shaped rows,
           SGD learning rate 0.1, minibatches of 500

in two modes: NUMBA (PyTensor's Numba linker, DL's default) and JAX.  Each
figure comes from a fresh child process, one at a time:

    cold   every cache empty: a new temporary folder holds PyTensor's compile
           folder and its Numba cache (PYTENSOR_FLAGS=base_compiledir=<tmp>),
           Numba's own (NUMBA_CACHE_DIR=<tmp>/numba-internal), DL's graph cache
           (DL_GRAPH_CACHE_DIR=<tmp>/dl-graphs) and JAX's persistent compilation
           cache (JAX_COMPILATION_CACHE_DIR=<tmp>/jax, every program kept:
           JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0,
           JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0)
    warm   a second process on the folder the cold one filled

A start is the seconds from the moment the parent launched the child to the end
of its first training step (`train(0)`, which returns the cost as a float: on
JAX, which returns before it computes, that waits for the step), split into
Python's start and the imports, building the model and compiling its functions
(train, validate, test, as optimize does), and the first step (where Numba and
JAX compile machine code).  A later step is, in a warm process, the median of
up to 200 steps (at least 10; 3 s), in ms, on full minibatches, after up to 60
untimed ones (2 s: JAX's first few dozen steps run slower than its later ones,
and a training run takes thousands), inside DL.backend.while_training() as
optimize trains; the table gives the median of --step-runs (3) warm processes,
since JAX's step moves from process to process on a 2-core VM (the MLP's: 0.85-1.0
ms in most, 1.6-1.9 ms in some, where Numba's stays at 1.03-1.12 ms);
"JAX / NUMBA" is JAX's later step over Numba's.  The children
run with one OpenBLAS thread unless the caller set it.

Targets (issue 25), judged on JAX: cold start <= 5 s for the mlp and <= 8 s for
the lstm, gru and use; warm start <= 2 s for those four; the mlp's later step
within 1.3x of Numba's.  The recurrent cases' steps and LeNet are reported as
they are.  A case that fails in a child shows the error's first line in its row
(the traceback is printed under the table) and the script exits with 1.

    python benchmarks/engines.py                         # every case, NUMBA and JAX: 15-25 minutes
    python benchmarks/engines.py --cases mlp lstm
    python benchmarks/engines.py --modes JAX --native-openblas
"""
import argparse
import importlib.metadata
import json
import os
import statistics
import sys
import tempfile
import time
import traceback

from _child import cache_env, run_child
from _table import print_table
from startup import BUILT, build

MODES = ("NUMBA", "JAX")
LAUNCHED = "DL_BENCH_LAUNCHED"  # the child's environment: time.time() when the parent launched it
# A later step: untimed steps first (JAX's first ~50 steps of the MLP run 1.5-5x slower than its
# later ones while its buffers settle; a training run takes thousands), then the median of up to
# 200 timed steps; each phase stops early at its time budget (LeNet's steps take 0.2-0.4 s).
SETTLE_STEPS, SETTLE_SECONDS = 60, 2.0
TIMED_STEPS, TIMED_SECONDS, MIN_TIMED = 200, 3.0, 10
COLD_TARGETS = {"mlp": 5.0, "lstm": 8.0, "gru": 8.0, "use": 8.0}  # JAX, seconds
WARM_TARGET = 2.0                                                 # JAX, seconds, the same cases
STEP_TARGETS = {"mlp": 1.3}                                       # JAX's step / Numba's


def measure(case, mode):
    """In this fresh child: seconds from launch to the end of the imports, building and
    compiling, the first step; and the median later step in ms."""
    import numpy
    from DL.backend import T, floatX, shared, while_training
    from DL.optimizers.compiling import compile_functions
    seconds = {"start-up": time.time() - float(os.environ[LAUNCHED])}
    start = time.time()
    dataset, inputs, cost, params, errors, rule, options, batch_size, extra = build(case, numpy, T, shared, floatX)
    functions = compile_functions(dataset, inputs, cost, params, errors, batch_size=batch_size, rule=rule,
                                  rule_options=options, extra_updates=extra, mode=mode)
    seconds["compile"] = time.time() - start
    with while_training():  # as optimize trains
        start = time.time()
        functions.train(0)  # a float: JAX has computed the step (cost and updates are one program's outputs)
        seconds["first step"] = time.time() - start
        seconds["start"] = time.time() - float(os.environ[LAUNCHED])
        full_batches = functions.sizes[0] // batch_size  # one minibatch shape: JAX traces no other
        step = 1
        settle_end = time.time() + SETTLE_SECONDS
        while step <= SETTLE_STEPS and time.time() < settle_end:
            functions.train(step % full_batches)
            step += 1
        times = []
        timed_end = time.time() + TIMED_SECONDS
        while len(times) < MIN_TIMED or (len(times) < TIMED_STEPS and time.time() < timed_end):
            start = time.perf_counter()
            functions.train(step % full_batches)
            times.append(time.perf_counter() - start)
            step += 1
    seconds["step ms"] = 1000 * statistics.median(times)
    return seconds


def failure(error):
    """What the parent shows of an exception in the child: its first line, and the traceback."""
    lines = str(error).strip().splitlines()
    return {"error": type(error).__name__ + (": " + lines[0] if lines else ""), "traceback": traceback.format_exc()}


def start_child(case, mode, cache, native_openblas):
    """The seconds of `measure` in a fresh child on the cache folder `cache`, or {"error", "traceback"}."""
    env = cache_env(cache, native_openblas)
    env["DL_MODE"] = mode  # as a user picks the engine (the graph then gets only that engine's code)
    env[LAUNCHED] = repr(time.time())
    try:
        return run_child(__file__, "%s:%s" % (case, mode), env)
    except SystemExit as died:  # the child did not get to report (a crash, a kill)
        lines = str(died).strip().splitlines()
        return {"error": "the child died: " + lines[-1], "traceback": str(died)}


def measured(s, figure):
    """`figure` of a child's seconds `s`, or None when the child failed or did not run."""
    return s[figure] if s and "error" not in s else None


def figures(s):
    """The start and its parts, or the error in their place."""
    if s is None:
        return ["-", "not run: the cold start failed"]
    if "error" in s:
        return ["-", s["error"]]
    return ["%.1f" % s["start"], "%.1f + %.1f + %.1f" % (s["start-up"], s["compile"], s["first step"])]


def judge(figure, target, unit, failed=False):
    verdict = "FAIL (an error)" if failed else "not measured" if figure is None else \
        "PASS" if figure <= target else "FAIL"
    return "%s (<= %g%s)" % (verdict, target, unit)


def targets(case, cold, warm, ratio):
    """JAX's targets for `case`, each PASS or FAIL."""
    failed = [s is None or "error" in s for s in (cold, warm)]
    judged = []
    if case in COLD_TARGETS:
        judged += ["cold " + judge(measured(cold, "start"), COLD_TARGETS[case], " s", failed[0]),
                   "warm " + judge(measured(warm, "start"), WARM_TARGET, " s", any(failed))]
    if case in STEP_TARGETS:
        judged.append("step " + judge(ratio, STEP_TARGETS[case], "x", all(failed)))
    return "; ".join(judged)


def step_of(cold, warm, more):
    """A mode's later step in ms: the median over the warm processes (`warm` and `more`), or
    the cold one's when no warm one ran."""
    steps = [measured(s, "step ms") for s in [warm] + more]
    steps = [step for step in steps if step]
    return statistics.median(steps) if steps else measured(cold, "step ms")


def rows_of(case, results):
    """The table's rows of one case: `results` {mode: (cold, warm, more warm processes)}."""
    steps = {mode: step_of(*runs) for mode, runs in results.items()}
    rows = []
    for mode, (cold, warm, _) in results.items():
        ratio = steps[mode] / steps["NUMBA"] if mode == "JAX" and steps[mode] and steps.get("NUMBA") else None
        rows.append([case, mode] + figures(cold) + figures(warm)
                    + ["%.1f" % steps[mode] if steps[mode] else "-", "%.2f" % ratio if ratio else "",
                       targets(case, cold, warm, ratio) if mode == "JAX" else ""])
    return rows


HEADER = ["case", "mode", "cold start s", "cold: start-up + compile + first step s", "warm start s",
          "warm: start-up + compile + first step s", "later step ms", "JAX / NUMBA step", "targets (JAX)"]


def machine():
    """The CPU's model name, the number of cores and the load average, in one line."""
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    return "%s, %d cores, load average %s" % (model, os.cpu_count(), " ".join("%.1f" % v for v in os.getloadavg()))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=BUILT, default=["mlp", "lstm", "gru", "use", "lenet"])
    parser.add_argument("--modes", nargs="+", default=list(MODES), help="PyTensor modes (default NUMBA JAX)")
    parser.add_argument("--native-openblas", action="store_true",
                        help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the children (benchmarks/README.md)")
    parser.add_argument("--step-runs", type=int, default=3,
                        help="warm processes whose later step is measured (the median is shown)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        try:
            print(json.dumps(measure(*args.child.split(":"))))
        except Exception as error:  # reported in the table: the parent goes on with the other cases
            print(json.dumps(failure(error)))
        return

    print("machine: %s (at the start)" % machine())
    print("pytensor %s, numba %s, jax %s" % tuple(importlib.metadata.version(name)
                                                 for name in ("pytensor", "numba", "jax")))
    print("command: python " + " ".join(sys.argv))
    rows, failed = [], []
    for case in args.cases:
        results = {}
        for mode in args.modes:
            with tempfile.TemporaryDirectory(prefix="dl-engines-") as cache:
                cold = start_child(case, mode, cache, args.native_openblas)
                warm = None if "error" in cold else start_child(case, mode, cache, args.native_openblas)
                more = [] if warm is None or "error" in warm else \
                    [start_child(case, mode, cache, args.native_openblas) for _ in range(args.step_runs - 1)]
            results[mode] = cold, warm, more
            failed += [(case, mode, s["traceback"]) for s in [cold, warm] + more if s and "error" in s]
            print("  %s %s: cold %s, warm %s" % (case, mode, figures(cold)[0], figures(warm)[0]), flush=True)
        rows += rows_of(case, results)
    print("machine: %s (at the end)" % machine())
    print()
    print_table(HEADER, rows)
    for case, mode, trace in failed:
        print("\n%s on %s failed:\n%s" % (case, mode, trace))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
