"""Studies of many training runs on Dask: resumable, with records a researcher can read.

A study is a training function and a space of configs:

    import DL.sweep

    def fn(config):                          # runs on a Dask worker
        ...                                  # build a model, optimize(...)
        return {"valid_error": result.valid_loss, "test_error": result.test_loss,
                "history": result.history}   # (optional) the per-epoch curve

    space = {"optimizer": ["sgd", "adam"], "learning_rate": [0.01, 0.1], "seed": [0, 1, 2]}

    if __name__ == "__main__":
        DL.sweep.run(fn, space, store="runs/rules")   # 12 trials on a LocalCluster

or from the shell, with `fn` and `space` at the top of STUDY.py:

    python -m DL.sweep STUDY.py --store runs/rules [--scheduler tcp://HOST:8786] [--workers N]

Dask distributed runs the trials (DL.sweep.cluster); the store keeps every
outcome (DL.sweep.store) so that a rerun continues; the space makes the configs
(DL.sweep.space); the table and curves are DL.sweep.report and DL.viz.plot_curves.

Dask is needed for studies only, so it is an extra of DL's install:
`pip install -e ".[studies]"` in the checkout (`make` installs it), or
`pip install "dask[distributed]"`.  Without it, `import DL.sweep` raises an
ImportError that says so; the rest of DL imports and trains without it.
"""
import importlib.util

# Looked up, not imported: importing distributed takes a third of a second, and a driver
# imports it when it starts its cluster (cloudpickle comes with distributed).
_MISSING = [name for name in ("dask", "distributed", "cloudpickle") if importlib.util.find_spec(name) is None]
if _MISSING:
    raise ImportError(
        "DL.sweep runs studies on Dask, which is not installed here (missing: %s). Install DL's "
        "studies extra: pip install -e \".[studies]\" in DL's checkout, or pip install \"dask[distributed]\""
        % ", ".join(_MISSING), name=_MISSING[0])
del _MISSING

from DL.sweep.space import SpaceError, choice, configs, loguniform, trial_id, uniform
from DL.sweep.store import StoreError, load
from DL.sweep.study import Study, load_study, run
from DL.sweep.worker import StudyFunctionError, trial_dir

__all__ = ["run", "uniform", "loguniform", "choice", "trial_dir", "configs", "trial_id", "load",
           "load_study", "Study", "SpaceError", "StoreError", "StudyFunctionError"]
