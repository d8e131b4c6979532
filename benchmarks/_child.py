"""The environment the benchmark scripts start their measured child processes in (one copy for all)."""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child_env(cache=None):
    """os.environ with the checkout importable and one BLAS thread unless set (see
    benchmarks/mnist_accuracy.py); with `cache`, a folder, the engine caches live there
    (PYTENSOR_FLAGS base_compiledir, added to the user's flags: C modules and PyTensor's
    Numba cache; NUMBA_CACHE_DIR=<cache>/numba-internal: Numba's own), so an empty
    folder is a cold start."""
    env = dict(os.environ)
    if cache is not None:
        env["PYTENSOR_FLAGS"] = ",".join(filter(None, [env.get("PYTENSOR_FLAGS"), "base_compiledir=" + cache]))
        env["NUMBA_CACHE_DIR"] = os.path.join(cache, "numba-internal")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    return env


def cache_env(cache, native_openblas=False):
    """child_env(cache) with every engine cache in the folder `cache`, so that an empty folder
    empties them all: PyTensor's and Numba's (child_env), DL's graph cache (DL_GRAPH_CACHE_DIR)
    and JAX's persistent compilation cache (JAX_COMPILATION_CACHE_DIR), keeping every program
    (minimum compile time 0 s, minimum entry size 0 bytes).  With `native_openblas`,
    OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset: OpenBLAS picks this CPU's kernels
    (benchmarks/README.md)."""
    env = child_env(cache)
    if native_openblas:
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            env.pop(name, None)
    env.update(DL_GRAPH_CACHE_DIR=os.path.join(cache, "dl-graphs"),
               JAX_COMPILATION_CACHE_DIR=os.path.join(cache, "jax"),
               JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0", JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    return env


def run_child(script, mode, env):
    """Run `python script --child mode` in a fresh process with `env`; return the JSON dict it
    prints last, plus "process": the child's whole wall time (start-up included)."""
    start = time.time()
    completed = subprocess.run([sys.executable, script, "--child", mode], env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit("the %s run failed:\n%s" % (mode, completed.stderr[-3000:]))
    seconds = json.loads(completed.stdout.strip().splitlines()[-1])
    seconds["process"] = time.time() - start
    return seconds


def cold_then_warm(script, mode, env_of, prefix):
    """(cache state, seconds) of two children `python script --child mode` on one new cache
    folder: "cold", every cache empty, then "warm", on what the first filled.  `env_of(folder)`
    gives the children's environment (child_env or cache_env)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as cache:
        for cache_state in ("cold", "warm"):
            yield cache_state, run_child(script, mode, env_of(cache))
