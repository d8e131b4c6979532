"""Run a study: every config of a space through fn, on Dask, into a store.

    study = run(fn, space, store="runs/rules", scheduler=None, workers=None)

The driver (this process) registers the configs in the store, sends the
unfinished ones to the cluster as Dask futures, records each outcome as it
arrives, and at the end writes results.csv, prints the table over seeds and
draws the validation curves.  Killed at any moment and run again, it runs only
what is not recorded as done.
"""
import importlib.util
import json
import os
import queue
import sys
import time
import traceback
import uuid
from asyncio import CancelledError

from DL.sweep import report
from DL.sweep.cluster import dask_client
from DL.sweep.space import configs as space_configs, trial_id
from DL.sweep.store import Store
from DL.sweep.worker import StudyFunctionError, probe, run_trial


RESULTS_EVERY = 10  # seconds between rewrites of results.csv while a study runs


class Study:
    """What a study left: its records (one dict per trial of the space, in its order:
    id, config, status, metrics, history, seconds, worker, attempts, traceback),
    the store's folder and files, and the table over seeds."""

    def __init__(self, name, path, keys, records, seed_key, results, curves):
        self.name, self.store, self.keys, self.records = name, path, keys, records
        self.seed_key, self.results, self.curves = seed_key, results, curves

    @property
    def done(self):
        return [r for r in self.records if r["status"] == "done"]

    @property
    def failed(self):
        return [r for r in self.records if r["status"] == "failed"]

    def table(self):
        return report.table(self.records, self.keys, self.seed_key)


def study_file(fn):
    """The file fn was defined in when it is a study file or the script being run, else None."""
    module = sys.modules.get(getattr(fn, "__module__", None))
    source = getattr(module, "__study_file__", None)
    if source is None and getattr(fn, "__module__", None) == "__main__":
        source = getattr(module, "__file__", None)
    return source


def study_name(fn):
    """A study's default name: its study file's or script's name, else fn's module and name."""
    source = study_file(fn)
    if source:
        return os.path.splitext(os.path.basename(source))[0]
    return "%s.%s" % (getattr(fn, "__module__", "?"), getattr(fn, "__qualname__", repr(fn)))


def load_study(path):
    """The module of a study file (defining `fn` and `space` at top level), pickled by value
    so that workers need only DL, not the file."""
    import cloudpickle

    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise FileNotFoundError("study file %s does not exist" % path)
    name = "DL_study_" + "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.__study_file__ = path
    sys.modules[name] = module
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # (the study may import files beside it)
    spec.loader.exec_module(module)
    for needed in ("fn", "space"):
        if not hasattr(module, needed):
            raise AttributeError("study file %s must define `%s` at top level (fn(config) -> dict of "
                                 "metrics, and space: a dict of lists)" % (path, needed))
    cloudpickle.register_pickle_by_value(module)
    return module


def _pickle(fn, name, source):
    import cloudpickle

    if not callable(fn):
        raise TypeError("fn must be a function fn(config) -> dict of metrics, got %r" % (fn,))
    try:
        return cloudpickle.dumps(fn)
    except Exception as error:
        raise StudyFunctionError("fn of the study %s cannot be pickled for the workers (%s: %s); keep "
                                 "open files, locks and clients out of what fn refers to, and create them "
                                 "inside fn" % (source or name, type(error).__name__, error)) from None


class _Progress:
    """A tqdm bar over trials: done, failed, running (from the trials' attempt files), ETA."""

    def __init__(self, enabled, total, store, run_token):
        from tqdm.auto import tqdm

        # (to a log file rather than a terminal: a line every 30 s, not every second)
        self.bar = tqdm(total=total, unit="trial", disable=not enabled, dynamic_ncols=True, desc="study",
                        smoothing=0, mininterval=1 if sys.stderr.isatty() else 30)
        self.store, self.run_token = store, run_token
        self.done = self.failed = 0
        self.shown = None

    def running(self, pending_ids):
        count = 0
        for trial in pending_ids:
            try:
                with open(os.path.join(self.store.trial_folder(trial), "attempts.jsonl")) as attempts:
                    lines = attempts.read().split("\n")
            except OSError:
                continue
            count += any(line and json.loads(line).get("run") == self.run_token for line in lines)
        return count

    def update(self, finished, status, pending_ids):
        self.done += status == "done" and finished
        self.failed += status == "failed" and finished
        postfix = dict(done=self.done, failed=self.failed, running=self.running(pending_ids))
        # (tqdm redraws on progress; a change in the running count alone is drawn here)
        self.bar.set_postfix(postfix, refresh=not finished and postfix != self.shown)
        self.shown = postfix
        self.bar.update(finished)

    def close(self):
        self.bar.close()


def _outcome(future):
    """The worker's outcome dict; a trial whose worker died again and again (Dask's
    KilledWorker) or that Dask lost becomes a failed outcome."""
    try:
        return future.result()
    except StudyFunctionError:
        raise
    except (Exception, CancelledError) as error:  # (CancelledError: the scheduler restarted)
        return {"status": "failed", "worker": None, "metrics": None, "history": None,
                "traceback": "Dask could not run the trial: %s: %s\n%s"
                             % (type(error).__name__, error, traceback.format_exc())}


def _run_trials(client, payload, name, store, todo, progress, wanted):
    """Submit the trials, record each outcome as it arrives (and refresh results.csv now and then)."""
    if not client.scheduler_info().get("workers"):
        print("DL.sweep: the cluster has no workers yet; trials wait for `dask worker %s`"
              % client.scheduler.address, file=sys.stderr)
    client.submit(probe, payload, name, pure=False).result()  # fn unpickles on a worker, or says why
    run_token = uuid.uuid4().hex
    arrived = queue.Queue()  # futures as they finish (Dask calls back from its own thread)
    futures = {}
    for trial, config in todo:
        future = client.submit(run_trial, payload, name, trial, config, store.trial_folder(trial), run_token,
                               key="trial-%s-%s" % (trial, run_token[:8]), pure=False)
        futures[future] = trial
        future.add_done_callback(arrived.put)
    bar = _Progress(progress, len(todo), store, run_token)
    pending = set(futures)
    written = time.time()
    try:
        while pending:
            try:
                future = arrived.get(timeout=1.0)
            except queue.Empty:
                bar.update(0, None, [futures[f] for f in pending if not f.done()])
                continue
            pending.discard(future)
            outcome = _outcome(future)
            store.record(futures.pop(future), outcome)
            future.release()  # recorded: else Dask would recompute it if its worker died later
            if time.time() - written > RESULTS_EVERY:
                store.write_results(wanted)
                written = time.time()
            bar.update(1, outcome["status"], [futures[f] for f in pending if not f.done()])
    finally:
        bar.close()
        client.cancel(list(pending))


def run(fn, space, store, scheduler=None, workers=None, n_trials=None, seed=0, name=None,
        seed_key="seed", panel_key=None, rerun_failed=True, progress=True, verbose=True, plot=True):
    """Train fn on every config of `space` on Dask and keep every outcome in `store`.

    fn          fn(config) -> dict of metrics (numbers, or JSON); an entry "history"
                (optimize()'s result.history) is kept as the trial's curve.  Inside fn,
                DL.sweep.trial_dir() is the trial's own folder in the store.
    space       {key: [values]} crossed as a grid, and random draws (uniform,
                loguniform, choice) with `n_trials` draws seeded by `seed`
    store       a folder; a rerun with the same study continues it
    scheduler   a Dask scheduler address ('tcp://HOST:8786'), else $DL_SCHEDULER,
                else a LocalCluster of `workers` processes (one per core)
    name        the study's name (default: its file's name); a store keeps one study
    seed_key    the config key the table and curves average over
    panel_key   a config key drawn as separate panels of the curves (e.g. the model)
    rerun_failed  run trials that failed before again (default True)
    Returns a Study.  results.csv, the table (printed when verbose) and curves.png
    (with plot=True, when trials returned histories) are in the store."""
    source = study_file(fn)
    name = name or study_name(fn)
    configs = space_configs(space, n_trials=n_trials, seed=seed)
    keys = list(space)
    for key in (seed_key, panel_key):
        if key is not None and key != "seed" and key not in keys:
            raise ValueError("%s is not a key of the space (%s)" % (key, ", ".join(keys)))
    payload = _pickle(fn, name, source)
    ids = [trial_id(config) for config in configs]
    opened = Store(store, name, keys)
    try:
        opened.add(list(zip(ids, configs)))
        status = {r["id"]: r["status"] for r in opened.trials()}
        todo = [(trial, config) for trial, config in zip(ids, configs)
                if status[trial] == "pending" or (status[trial] == "failed" and rerun_failed)]
        start = time.time()
        wanted = set(ids)
        try:
            if todo:
                with dask_client(scheduler, workers) as client:
                    _run_trials(client, payload, source or name, opened, todo, progress, wanted)
        finally:  # (also after Ctrl-C: results.csv shows every trial that ended)
            results = opened.write_results(wanted)
        records = opened.trials(wanted)
        curves_path = None
        lines = report.curves(records, keys, seed_key, panel_key)
        if plot and lines:
            from DL import viz
            curves_path = viz.plot_curves(lines, os.path.join(opened.path, "curves.png"), title=name)
        study = Study(name, opened.path, keys, records, seed_key, results, curves_path)
        if verbose:
            _summary(study, len(todo), time.time() - start)
        return study
    finally:
        opened.close()


def _summary(study, ran, seconds):
    print("\nstudy %s: %d trials, %d done, %d failed; %d ran now in %.1f s"
          % (study.name, len(study.records), len(study.done), len(study.failed), ran, seconds))
    print(study.table())
    for record in study.failed:
        last = record["traceback"].strip().splitlines()[-1] if record["traceback"] else "?"
        print("failed %s %s: %s" % (record["id"], record["config"], last))
    print("records: %s\nresults: %s%s" % (os.path.join(study.store, "study.sqlite"), study.results,
                                          "\ncurves:  %s" % study.curves if study.curves else ""))
