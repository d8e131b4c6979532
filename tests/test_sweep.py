"""DL.sweep: studies on Dask, resumable stores, and what a researcher reads.

The studies here are tiny pure-NumPy trials (a fraction of a second each) written
as study files, as a user writes them; every fn counts its calls in a file in its
trial's folder, so "ran once" and "ran again" are counted, not assumed.  Clusters
live on 127.0.0.1: a LocalCluster that DL.sweep starts itself, one shared by
several tests, and a real `dask scheduler` with two `dask worker` processes.
Every process a test starts is stopped by a finalizer.  The compile test starts
3 processes cold on an empty PyTensor/Numba cache at the same moment.
"""
import csv
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy
import pytest

import DL.sweep
from DL import viz
from DL.sweep import report
from DL.sweep.cluster import CONNECT_SECONDS
from DL.sweep.space import canonical

from test_viz import png_size

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
WAIT = 120  # seconds: the bound on every wait for another process (never reached when all is well)

# A study as a user writes one: fn and space at top level.  `expected` is fn's
# arithmetic without the store, so a test can compute every metric itself.
TOY = '''
import os, time
import numpy
import DL.sweep

space = {"rule": ["a", "b"], "learning_rate": [0.1, 0.3], "seed": [0, 1]}


def expected(config):
    rng = numpy.random.RandomState(config["seed"])
    w, history = 1.0, []
    for epoch in range(1, 6):
        w -= config["learning_rate"] * w * (1 + (0.1 if config["rule"] == "a" else 0.2) * rng.rand())
        history.append({"epoch": epoch, "valid_error": abs(w) / 2})
    return {"valid_error": abs(w) / 2, "w": w, "history": history}


def fn(config):
    with open(os.path.join(DL.sweep.trial_dir(), "calls"), "a") as calls:
        calls.write("%d\\n" % os.getpid())
    time.sleep(float(os.environ.get("TOY_SLEEP", "0.05")))
    if config == {"rule": "b", "learning_rate": 0.3, "seed": 1}:
        raise ValueError("diverged on purpose")
    return dict(expected(config), blas_threads=os.environ.get("OPENBLAS_NUM_THREADS"))
'''


def write_study(folder, source, name="toy"):
    path = Path(folder) / ("%s.py" % name)
    path.write_text(textwrap.dedent(source))
    return path


def calls(store, trial):
    path = Path(store) / "trials" / trial / "calls"
    return len(path.read_text().split()) if path.exists() else 0


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process):
    """Stop a process started with start_new_session=True, and everything it started."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)


def wait_for(condition, what, timeout=WAIT):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


@pytest.fixture(scope="module")
def shared_cluster():
    """A LocalCluster of 2 workers that several tests send studies to (scheduler=ADDRESS)."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0", silence_logs=50)
    yield cluster.scheduler_address
    cluster.close()


# --- the space ----------------------------------------------------------------------

def test_grid_random_draws_and_stable_ids():
    configs = DL.sweep.configs({"optimizer": ["sgd", "adam"], "learning_rate": [0.01, 0.1], "seed": [0, 1, 2]})
    assert len(configs) == 12
    assert configs[0] == {"optimizer": "sgd", "learning_rate": 0.01, "seed": 0}
    assert configs[-1] == {"optimizer": "adam", "learning_rate": 0.1, "seed": 2}
    # the identity hashes the canonical JSON: key order does not matter, values do
    assert DL.sweep.trial_id({"b": 1, "a": 2}) == DL.sweep.trial_id({"a": 2, "b": 1})
    assert DL.sweep.trial_id({"a": 2}) != DL.sweep.trial_id({"a": 2.5})
    assert canonical({"b": 1, "a": 0.1}) == '{"a":0.1,"b":1}'

    space = {"lr": DL.sweep.loguniform(1e-4, 1e-1), "width": DL.sweep.choice([8, 16, 32]),
             "momentum": DL.sweep.uniform(0.5, 0.99), "seed": [0, 1, 2]}
    drawn = DL.sweep.configs(space, n_trials=20, seed=3)
    assert len(drawn) == 60 and drawn == DL.sweep.configs(space, n_trials=20, seed=3)
    assert drawn != DL.sweep.configs(space, n_trials=20, seed=4)
    lrs = numpy.array([c["lr"] for c in drawn[::3]])
    assert lrs.min() >= 1e-4 and lrs.max() < 1e-1 and (lrs < 1e-3).any() and (lrs > 1e-2).any()
    assert {c["width"] for c in drawn} <= {8, 16, 32}
    assert all(0.5 <= c["momentum"] < 0.99 for c in drawn)
    assert [c["seed"] for c in drawn[:3]] == [0, 1, 2] and drawn[0]["lr"] == drawn[2]["lr"]


@pytest.mark.parametrize("space, kwargs, message", [
    ({}, {}, "space is empty"),
    ({"lr": []}, {}, "space['lr'] is empty"),
    ({"": [1]}, {}, "is empty or has spaces"),
    ({3: [1]}, {}, "keys must be strings"),
    ({"lr": 0.1}, {}, "wrap a fixed value in a list: [0.1]"),
    ({"lr": [object()]}, {}, "not a plain JSON value"),
    ({"lr": [0.1, 0.1]}, {}, "lists a value twice"),
    ({"lr": DL.sweep.uniform(0, 1)}, {}, "n_trials=N"),
    ({"lr": [0.1]}, {"n_trials": 3}, "no random draws"),
])
def test_bad_spaces_are_refused(tmp_path, space, kwargs, message):
    with pytest.raises(DL.sweep.SpaceError) as error:
        DL.sweep.run(lambda config: {}, space, store=tmp_path / "store", **kwargs)
    assert message in str(error.value)
    assert not (tmp_path / "store").exists()  # refused before anything was written


# --- a LocalCluster of DL.sweep's own, and a real dask scheduler + workers -----------------

@pytest.fixture(scope="module")
def local_study(tmp_path_factory):
    """The toy study through DL.sweep's own LocalCluster of 2 workers, BLAS unset in the driver."""
    folder = tmp_path_factory.mktemp("local")
    module = DL.sweep.load_study(write_study(folder, TOY))
    saved = os.environ.pop("OPENBLAS_NUM_THREADS", None)
    try:
        study = DL.sweep.run(module.fn, module.space, store=folder / "store", workers=2, progress=False)
    finally:
        if saved is not None:
            os.environ["OPENBLAS_NUM_THREADS"] = saved
    return module, study, folder / "store"


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_local_cluster_records_every_trial(local_study):
    module, study, store = local_study
    assert multiprocessing.active_children() == []  # the cluster was shut down
    configs = DL.sweep.configs(module.space)
    assert [r["config"] for r in study.records] == configs
    failed = {"rule": "b", "learning_rate": 0.3, "seed": 1}
    for record in study.records:
        assert record["attempts"] == 1 and record["records"] == 1 and calls(store, record["id"]) == 1
        assert record["seconds"] > 0 and record["worker"].startswith("tcp://")
        if record["config"] == failed:
            assert record["status"] == "failed" and "ValueError: diverged on purpose" in record["traceback"]
            continue
        want = module.expected(record["config"])
        assert record["status"] == "done"
        assert record["metrics"] == {"valid_error": want["valid_error"], "w": want["w"], "blas_threads": "1"}
        assert record["history"] == want["history"]
    assert len({r["worker"] for r in study.records}) == 2  # both workers ran trials

    rows = read_csv(store / "results.csv")
    assert rows[0] == ["rule", "learning_rate", "seed", "valid_error", "w", "blas_threads"]
    assert len(rows) == 1 + 7 and ["b", "0.3", "1"] not in [row[:3] for row in rows]
    assert float(rows[1][3]) == module.expected(configs[0])["valid_error"]

    # the table: mean ± spread over seeds, as NumPy computes it from the records
    errors = [module.expected(dict(rule="a", learning_rate=0.3, seed=s))["valid_error"] for s in (0, 1)]
    assert "| a | 0.3 | 2/2 | %.4g ± %.2g |" % (numpy.mean(errors), numpy.std(errors)) in study.table()
    assert "| b | 0.3 | 1/2 (1 failed) |" in study.table()
    assert png_size(study.curves) == (560, 420)


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_rerun_runs_only_what_is_unfinished(local_study, shared_cluster):
    module, study, store = local_study
    before = (store / "results.csv").read_bytes()
    again = DL.sweep.run(module.fn, module.space, store=store, scheduler=shared_cluster, progress=False,
                         rerun_failed=False, verbose=False)
    assert [calls(store, r["id"]) for r in again.records] == [1] * 8  # nothing ran
    assert (store / "results.csv").read_bytes() == before
    # rerun_failed=True (the default) runs the failed trial once more, and only it
    again = DL.sweep.run(module.fn, module.space, store=store, scheduler=shared_cluster, progress=False,
                         verbose=False)
    assert sorted(calls(store, r["id"]) for r in again.records) == [1] * 7 + [2]
    assert (store / "results.csv").read_bytes() == before


@pytest.fixture
def dask_cluster_processes():
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, stopped after the test."""
    port = free_port()
    address = "tcp://127.0.0.1:%d" % port
    dask = [str(Path(PYTHON).parent / "dask")]
    processes = []
    try:
        processes.append(subprocess.Popen(
            dask + ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        for _ in range(2):
            processes.append(subprocess.Popen(
                dask + ["worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        from distributed import Client

        with Client(address, timeout="%ds" % WAIT) as client:
            client.wait_for_workers(2, timeout=WAIT)
        yield address, processes
    finally:
        for process in processes:
            stop(process)


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_dask_scheduler_and_workers_give_the_same_results(local_study, dask_cluster_processes, tmp_path):
    """The same study, unchanged, through `python -m DL.sweep` on a cluster of `dask worker`s."""
    module, study, store = local_study
    address, processes = dask_cluster_processes
    env = dict(os.environ, DL_SCHEDULER=address)
    done = subprocess.run([PYTHON, "-m", "DL.sweep", module.__study_file__, "--store", str(tmp_path / "store"),
                           "--no-progress"], env=env, capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 1, done.stderr  # one trial failed (on purpose): exit status 1
    assert "8 trials, 7 done, 1 failed" in done.stdout
    assert (tmp_path / "store" / "results.csv").read_bytes() == (store / "results.csv").read_bytes()
    assert all(p.poll() is None for p in processes)  # DL left the user's cluster running


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_unreachable_scheduler_is_named(local_study):
    module, study, store = local_study
    address = "tcp://127.0.0.1:%d" % free_port()  # nothing listens there
    before = DL.sweep.load(store)
    with pytest.raises(ConnectionError) as error:  # (the store has a failed trial to rerun)
        DL.sweep.run(module.fn, module.space, store=store, scheduler=address)
    assert address in str(error.value) and "within %d s" % CONNECT_SECONDS in str(error.value)
    assert CONNECT_SECONDS < 10
    assert DL.sweep.load(store) == before  # every record kept


DRAWN = '''
import math

space = {"lr": __import__("DL.sweep").sweep.loguniform(1e-3, 1e-1), "seed": [0, 1]}
n_trials = 2


def fn(config):
    return {"log_lr": math.log10(config["lr"]) + 0.01 * config["seed"]}
'''


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_random_draws_through_a_study_file(shared_cluster, tmp_path):
    from DL.sweep.__main__ import main

    study_file = write_study(tmp_path, DRAWN, "drawn")
    assert main([str(study_file), "--store", str(tmp_path / "store"), "--scheduler", shared_cluster,
                 "--no-progress"]) == 0
    name, keys, records = DL.sweep.load(tmp_path / "store")
    assert name == "drawn" and keys == ["lr", "seed"]
    module = DL.sweep.load_study(study_file)
    assert [r["config"] for r in records] == DL.sweep.configs(module.space, n_trials=2)
    table = report.table(records, keys)
    for lr in {r["config"]["lr"] for r in records}:  # one row per draw, the mean over its 2 seeds
        assert "| %.4g | 2/2 | %.4g ± %.2g |" % (lr, numpy.log10(lr) + 0.005, 0.005) in table


def test_T_pickles_by_name():
    import pickle
    from DL.backend import T

    assert pickle.loads(pickle.dumps(T)) is T  # (so a fn using T reaches the workers)


# --- crashes: a worker killed mid-trial, the driver killed mid-study -------------------------

RESUMABLE = '''
import json, os, time
import DL.sweep

space = {"job": [0, 1, 2, 3]}


def fn(config):
    folder = DL.sweep.trial_dir()
    with open(os.path.join(folder, "calls"), "a") as calls:
        calls.write("%d\\n" % os.getpid())
    checkpoint = os.path.join(folder, "checkpoint.json")
    step = json.load(open(checkpoint))["step"] if os.path.exists(checkpoint) else 0
    resumed_from = step
    steps = 60 if config["job"] == 2 else 3
    with open(os.path.join(folder, "pid"), "w") as f:
        f.write(str(os.getpid()))
    while step < steps:
        time.sleep(0.05)
        step += 1
        with open(checkpoint + ".tmp", "w") as f:
            json.dump({"step": step}, f)
        os.replace(checkpoint + ".tmp", checkpoint)  # an atomic checkpoint, as optimize() writes
    return {"steps": step, "resumed_from": resumed_from}
'''


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_worker_killed_mid_trial_reruns_it_once(shared_cluster, tmp_path):
    module = DL.sweep.load_study(write_study(tmp_path, RESUMABLE, "resumable"))
    store = tmp_path / "store"
    victim = store / "trials" / DL.sweep.trial_id({"job": 2})
    killed = []

    def kill_when_half_done():
        def started():
            try:
                return json.load(open(victim / "checkpoint.json"))["step"] >= 10
            except (OSError, ValueError):
                return False
        wait_for(started, "the long trial to start")
        pid = int((victim / "pid").read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_when_half_done, daemon=True)
    killer.start()
    study = DL.sweep.run(module.fn, module.space, store=store, scheduler=shared_cluster, progress=False,
                         verbose=False)
    killer.join(timeout=WAIT)
    assert killed, "the worker was never killed"
    assert [r["status"] for r in study.records] == ["done"] * 4
    assert [r["records"] for r in study.records] == [1] * 4  # each recorded exactly once
    by_job = {r["config"]["job"]: r for r in study.records}
    assert by_job[2]["attempts"] == 2 and calls(store, by_job[2]["id"]) == 2
    assert str(killed[0]) not in by_job[2]["worker"]  # finished by another (or a restarted) process
    assert by_job[2]["metrics"]["steps"] == 60 and by_job[2]["metrics"]["resumed_from"] >= 10
    assert all(calls(store, by_job[job]["id"]) == 1 for job in (0, 1, 3))
    assert len(read_csv(store / "results.csv")) == 1 + 4


DRIVER = '''
import sys
import DL.sweep

if __name__ == "__main__":
    module = DL.sweep.load_study(sys.argv[1])
    DL.sweep.run(module.fn, module.space, store=sys.argv[2], scheduler=sys.argv[3], progress=False)
'''

SLOW = '''
import os, time
import DL.sweep

space = {"job": list(range(10))}


def fn(config):
    with open(os.path.join(DL.sweep.trial_dir(), "calls"), "a") as calls:
        calls.write("%d\\n" % os.getpid())
    time.sleep(float(os.environ.get("SLOW_SECONDS", "0.3")))
    return {"square": config["job"] ** 2}
'''


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_driver_killed_mid_study_rerun_repeats_no_finished_trial(shared_cluster, tmp_path):
    study_file = write_study(tmp_path, SLOW, "slow")
    driver = write_study(tmp_path, DRIVER, "driver")
    store = tmp_path / "store"
    command = [PYTHON, str(driver), str(study_file), str(store), shared_cluster]
    env = dict(os.environ, SLOW_SECONDS="0.6")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        def some_done():
            if process.poll() is not None:
                raise AssertionError("the driver ended early: %s" % process.stderr.read().decode())
            try:
                return sum(r["status"] == "done" for r in DL.sweep.load(store)[2]) >= 3
            except Exception:  # the store is not there yet
                return False
        wait_for(some_done, "3 trials recorded")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        stop(process)
    first = DL.sweep.load(store)[2]
    finished = [r["id"] for r in first if r["status"] == "done"]
    assert 3 <= len(finished) < 10
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=WAIT)
    assert rerun.returncode == 0, rerun.stderr
    records = DL.sweep.load(store)[2]
    assert [r["status"] for r in records] == ["done"] * 10
    assert [r["metrics"]["square"] for r in records] == [job ** 2 for job in range(10)]
    assert all(calls(store, trial) == 1 for trial in finished)  # no finished trial ran again
    assert len(read_csv(store / "results.csv")) == 1 + 10


CTRL_C = '''
import signal, sys
from DL.sweep.__main__ import main

if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)  # (as in a terminal, even if the test ignores it)
    sys.exit(main())
'''


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_ctrl_c_shuts_the_local_cluster_down_and_keeps_the_records(tmp_path):
    study_file = write_study(tmp_path, SLOW, "slow")
    driver = write_study(tmp_path, CTRL_C, "driver")
    store = tmp_path / "store"
    process = subprocess.Popen([PYTHON, str(driver), str(study_file), "--store", str(store), "--workers", "2",
                                "--no-progress"], env=dict(os.environ, SLOW_SECONDS="1"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        def two_done():
            if process.poll() is not None:
                raise AssertionError("the driver ended early: %s" % process.stderr.read().decode())
            try:
                return sum(r["status"] == "done" for r in DL.sweep.load(store)[2]) >= 2
            except Exception:  # the store is not there yet
                return False
        wait_for(two_done, "2 trials recorded")
        workers = set()
        for attempts in store.glob("trials/*/attempts.jsonl"):
            workers |= {int(json.loads(line)["worker"].rsplit(":", 1)[1]) for line in attempts.read_text().splitlines()}
        assert len(workers) == 2 and all(alive(pid) for pid in workers)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=WAIT)
    finally:
        stop(process)
    assert process.returncode == 130 and "interrupted" in stderr.decode()
    wait_for(lambda: not any(alive(pid) for pid in workers), "the workers to end", timeout=30)
    records = DL.sweep.load(store)[2]
    done = [r for r in records if r["status"] == "done"]
    assert 2 <= len(done) < 10 and all(r["metrics"]["square"] == r["config"]["job"] ** 2 for r in done)
    assert len(read_csv(store / "results.csv")) == 1 + len(done)


# --- bad input: clear errors, nothing recorded lost ------------------------------------------

BAD = '''
import DL.sweep

space = {"case": ["unknown key", "object metric", "not a dict", "metric named like a key", "fine"]}


def fn(config):
    case = config["case"]
    if case == "unknown key":
        return {"x": config["learning_rate"]}
    if case == "object metric":
        return {"model": object()}
    if case == "not a dict":
        return 0.5
    if case == "metric named like a key":
        return {"case": 1.0}
    return {"x": 1.0, "tags": ["a", "b"], "numpy": __import__("numpy").float32(0.5)}
'''


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_bad_fn_results_fail_their_trial_with_a_clear_error(shared_cluster, tmp_path):
    module = DL.sweep.load_study(write_study(tmp_path, BAD, "bad"))
    study = DL.sweep.run(module.fn, module.space, store=tmp_path / "store", scheduler=shared_cluster,
                         progress=False, verbose=False)
    last_lines = {r["config"]["case"]: r["traceback"].strip().splitlines()[-1] for r in study.failed}
    assert "fn read config['learning_rate'], which the study's space does not define; the space has case" \
        in last_lines["unknown key"]
    assert "fn's metric 'model' is <object object" in last_lines["object metric"]
    assert "neither a number nor JSON" in last_lines["object metric"]
    assert "fn must return a dict of metrics" in last_lines["not a dict"]
    assert "also a config key" in last_lines["metric named like a key"]
    assert [r["metrics"] for r in study.done] == [{"x": 1.0, "tags": ["a", "b"], "numpy": 0.5}]
    assert read_csv(tmp_path / "store" / "results.csv") == [["case", "x", "tags", "numpy"],
                                                              ["fine", "1.0", '["a", "b"]', "0.5"]]


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_a_fn_the_workers_cannot_import_names_the_study(shared_cluster, tmp_path):
    # fn uses a module beside the study file; the cluster's workers (started before) cannot import it
    (tmp_path / "helper_only_here.py").write_text("def value():\n    return 1.0\n")
    study_file = write_study(tmp_path, '''
        import helper_only_here

        space = {"seed": [0]}


        def fn(config):
            return {"x": helper_only_here.value()}
        ''', "needs_helper")
    module = DL.sweep.load_study(study_file)
    try:
        with pytest.raises(DL.sweep.StudyFunctionError) as error:
            DL.sweep.run(module.fn, module.space, store=tmp_path / "store", scheduler=shared_cluster,
                         progress=False)
        assert str(study_file) in str(error.value) and "helper_only_here" in str(error.value)
        assert DL.sweep.load(tmp_path / "store")[2][0]["status"] == "pending"
    finally:
        sys.modules.pop("helper_only_here", None)
        sys.path.remove(str(tmp_path))


def test_a_fn_that_cannot_be_pickled_is_refused(tmp_path):
    lock = threading.Lock()

    def fn(config):
        with lock:
            return {"x": 1.0}

    with pytest.raises(DL.sweep.StudyFunctionError) as error:
        DL.sweep.run(fn, {"seed": [0]}, store=tmp_path / "store")
    assert "cannot be pickled" in str(error.value) and "lock" in str(error.value)


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_stores_that_cannot_be_used(local_study, tmp_path):
    module, study, store = local_study
    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(DL.sweep.StoreError) as error:
        DL.sweep.run(module.fn, module.space, store=tmp_path / "a_file" / "store")
    assert "is not a writable folder" in str(error.value)

    before = DL.sweep.load(store)
    with pytest.raises(DL.sweep.StoreError) as error:
        DL.sweep.run(module.fn, module.space, store=store, name="another study")
    assert "holds the study 'toy'; this is the study 'another study'" in str(error.value)
    with pytest.raises(DL.sweep.StoreError) as error:
        DL.sweep.run(module.fn, {"rule": ["a"], "seed": [0]}, store=store)
    assert "with config keys ['rule', 'learning_rate', 'seed']" in str(error.value)
    assert DL.sweep.load(store) == before


def test_trial_dir_is_only_valid_inside_fn():
    with pytest.raises(RuntimeError, match="inside a study's fn"):
        DL.sweep.trial_dir()


# --- the curves ---------------------------------------------------------------------------

def test_plot_curves_mean_over_seeds_in_panels(tmp_path):
    short = [{"epoch": e, "valid_error": 0.5 / e} for e in (1, 2, 3)]
    longer = [{"epoch": e, "valid_error": 0.4 / e} for e in (1, 2, 3, 4, 5)]
    x, mean, low, high = viz._mean_curve([short, longer], "valid_error", "curves")
    assert list(x) == [1, 2, 3, 4, 5]
    assert numpy.allclose(mean, [0.45, 0.225, 0.15, 0.1, 0.08]) and numpy.allclose(low[:3], [0.4, 0.2, 0.4 / 3])
    path = viz.plot_curves({"USE": {"sgd": [short, longer], "adam": [longer]}, "SSE": {"sgd": [short]}},
                           tmp_path / "curves.png")
    assert png_size(path) == (1120, 420)
    with pytest.raises(ValueError, match="must be a non-empty history"):
        viz.plot_curves({"sgd": [[{"epoch": 1}]]}, tmp_path / "bad.png")
    records = [{"status": "done", "config": {"m": "use", "rule": rule, "seed": seed, "epochs": 5}, "history": h}
               for rule, h in (("sgd", short), ("adam", longer)) for seed in (0, 1)]
    lines = report.curves(records, ["m", "rule", "seed", "epochs"], panel_key="m")
    assert lines == {"use": {"rule=sgd": [short, short], "rule=adam": [longer, longer]}}  # (epochs: one value)


# --- many processes, one compile cache -------------------------------------------------------

COMPILE = '''
import json, os, sys, time
import numpy
from DL.backend import theano, T, shared, function, floatX

open(sys.argv[1] + ".ready", "w").close()
while not os.path.exists(sys.argv[2]):  # all start compiling at the same moment
    time.sleep(0.01)
W = shared(numpy.ones((3, 2), dtype=floatX), name="W")
x = T.matrix("x")
cost = T.sum(T.tanh(T.dot(x, W)) ** 2)
f = function([x], cost, updates=[(W, W - 0.1 * T.grad(cost, W))])
X = numpy.arange(12, dtype=floatX).reshape(4, 3) / 10
json.dump({"costs": [float(f(X)) for _ in range(3)], "linker": str(theano.config.linker),
           "cache": str(theano.config.base_compiledir)}, open(sys.argv[1], "w"))
'''


@pytest.mark.slow  # (a Dask cluster, or processes)
def test_concurrent_cold_compiles_share_one_cache(tmp_path):
    """3 processes compile the same graph at once into an empty PyTensor folder and Numba
    cache; all succeed with the same numbers, and a 4th loads their cache."""
    script = write_study(tmp_path, COMPILE, "compile")
    cache = tmp_path / "pytensor-cache"
    env = dict(os.environ, PYTENSOR_FLAGS="base_compiledir=%s" % cache)  # (no floatx: DL's float32 default)
    env.pop("DL_BACKEND", None)
    go = tmp_path / "go"
    processes = [subprocess.Popen([PYTHON, str(script), str(tmp_path / ("out%d" % i)), str(go)], env=env,
                                  stderr=subprocess.PIPE, start_new_session=True) for i in range(3)]
    try:
        wait_for(lambda: all((tmp_path / ("out%d.ready" % i)).exists() or processes[i].poll() is not None
                             for i in range(3)), "3 processes to start")
        assert not list(cache.glob("numba/*.nbi"))  # the cache is cold
        go.touch()
        for process in processes:
            process.wait(timeout=WAIT * 2)
            assert process.returncode == 0, process.stderr.read().decode()
    finally:
        for process in processes:
            stop(process)
    outputs = [json.loads((tmp_path / ("out%d" % i)).read_text()) for i in range(3)]
    assert all(o == outputs[0] for o in outputs) and outputs[0]["cache"] == str(cache)
    assert len(list(cache.glob("numba/*.nbi"))) > 0  # they wrote one cache
    # the cache the three wrote at once loads in a fourth, with the same numbers
    warm = subprocess.run([PYTHON, str(script), str(tmp_path / "out3"), str(go)], env=env,
                          capture_output=True, text=True, timeout=WAIT)
    assert warm.returncode == 0, warm.stderr
    assert json.loads((tmp_path / "out3").read_text()) == outputs[0]
    # and the numbers are right: plain NumPy, the same three steps
    W = numpy.ones((3, 2))
    X = numpy.arange(12.0).reshape(4, 3) / 10
    costs = []
    for _ in range(3):
        h = numpy.tanh(X @ W)
        costs.append((h ** 2).sum())
        W = W - 0.1 * X.T @ (2 * h * (1 - h ** 2))
    assert numpy.allclose(outputs[0]["costs"], costs, rtol=1e-5)
