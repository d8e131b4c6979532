"""The environment the benchmark scripts start their measured child processes in (one copy for all)."""
import os

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
