"""What runs on a Dask worker: one trial, from fn's pickle to an outcome dict.

The driver pickles fn once (cloudpickle, by value when fn lives in a script or a
study file, so workers need only DL installed) and sends the bytes with every
trial; a worker unpickles them once.  A trial never raises into Dask: fn's
exception comes back as a failed outcome with its traceback, so the study goes
on; only a dead worker makes Dask run a trial again.
"""
import hashlib
import json
import math
import numbers
import os
import socket
import threading
import time
import traceback

import numpy

_current = threading.local()
_functions = {}  # sha256 of fn's pickle -> fn, once per worker process


class StudyFunctionError(RuntimeError):
    """fn cannot be pickled, or the workers cannot import or unpickle it."""


def trial_dir():
    """The running trial's own folder inside the store (DIR/trials/ID), for its log,
    checkpoint and any file it wants kept:

        def fn(config):
            folder = DL.sweep.trial_dir()
            result = optimize(..., checkpoint=os.path.join(folder, "checkpoint.npz"), resume=True)

    A trial rerun after its worker died finds the same folder (so `resume=True`
    continues from the checkpoint).  Valid only while a study runs fn."""
    folder = getattr(_current, "folder", None)
    if folder is None:
        raise RuntimeError("DL.sweep.trial_dir() is the running trial's folder: call it inside a study's "
                           "fn, while DL.sweep.run runs it")
    return folder


def worker_name():
    """host:pid, and the Dask worker's address when there is one."""
    name = "%s:%d" % (socket.gethostname(), os.getpid())
    try:
        from distributed import get_worker
        return "%s %s" % (get_worker().address, name)
    except (ImportError, ValueError):
        return name


def load_fn(payload, study):
    """fn from its pickle (once per process), or a StudyFunctionError naming the study."""
    digest = hashlib.sha256(payload).hexdigest()
    if digest not in _functions:
        import cloudpickle
        try:
            _functions[digest] = cloudpickle.loads(payload)
        except Exception as error:
            raise StudyFunctionError(
                "the workers cannot import or unpickle fn of the study %s: %s: %s. Define fn and what it "
                "uses in the study file (or in a module every worker can import), and install the same "
                "packages on every worker" % (study, type(error).__name__, error)) from None
    return _functions[digest]


def probe(payload, study):
    """Run on a worker before the trials: fn unpickles there (else the error says why)."""
    load_fn(payload, study)
    return worker_name()


class Config(dict):
    """A trial's config: a dict whose missing key names the keys the space has."""

    def __missing__(self, key):
        raise KeyError("fn read config[%r], which the study's space does not define; the space has %s. "
                       "Add %r to the space (a list of values), or fix the name"
                       % (key, ", ".join(sorted(self)), key))


def plain(value, where):
    """`value` as plain JSON (NumPy numbers and arrays become Python ones), or a TypeError
    saying where."""
    if isinstance(value, (numpy.generic, numpy.ndarray)):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(key): plain(item, "%s[%r]" % (where, key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, "%s[%d]" % (where, i)) for i, item in enumerate(value)]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError("%s is %r (%s), which is neither a number nor JSON; return numbers (float(...)), "
                    "or strings, lists and dicts of them" % (where, value, type(value).__name__))


def outcome_of(value, config):
    """(metrics, history) from what fn returned, or a TypeError/ValueError saying what to fix."""
    if not isinstance(value, dict):
        raise TypeError("fn must return a dict of metrics, e.g. {'valid_error': 0.05}, got %s"
                        % type(value).__name__)
    value = dict(value)
    history = value.pop("history", None)
    if history is not None:
        if not isinstance(history, (list, tuple)) or not all(isinstance(r, dict) for r in history):
            raise TypeError("fn's 'history' must be a list of dicts, one per validation (optimize()'s "
                            "result.history), got %s" % type(history).__name__)
        history = plain(history, "fn's history")
    metrics = {}
    for name, metric in value.items():
        if not isinstance(name, str):
            raise TypeError("fn's metric names must be strings, got %r" % (name,))
        if name in config:
            raise ValueError("fn returned a metric %r, which is also a config key; rename the metric" % name)
        if isinstance(metric, numbers.Real) and not isinstance(metric, bool):
            metric = float(metric) if not isinstance(metric, numbers.Integral) else int(metric)
        metrics[name] = plain(metric, "fn's metric %r" % name)
    if metrics:
        json.dumps(metrics)  # (NaN and infinities are kept: JSON as Python writes it)
    return metrics, history


def run_trial(payload, study, trial, config, folder, run_token):
    """Run fn on one config in its folder; the outcome as a dict for the store."""
    os.makedirs(folder, exist_ok=True)
    worker = worker_name()
    # An append-only log, not a file rewritten through DL.durable: one short write with O_APPEND
    # adds a line without touching the earlier ones, and two workers running the same trial
    # (Dask reruns a trial whose worker seemed dead) both keep theirs, where two atomic
    # rewrites (read, add a line, rename) would drop one.
    with open(os.path.join(folder, "attempts.jsonl"), "a") as attempts:
        attempts.write(json.dumps({"worker": worker, "time": time.time(), "run": run_token}) + "\n")
    outcome = {"worker": worker, "status": "failed", "metrics": None, "history": None}
    started = time.time()
    try:
        fn = load_fn(payload, study)
        _current.folder = folder
        started = time.time()
        value = fn(Config(config))
        finished = time.time()
        outcome["metrics"], outcome["history"] = outcome_of(value, config)
        outcome["status"] = "done"
    except Exception:
        finished = time.time()
        outcome["traceback"] = traceback.format_exc()
    finally:
        _current.folder = None
    outcome.update(started=started, finished=finished, seconds=finished - started)
    return outcome


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
