"""Durable saves, proven from the system calls: every user of DL's one file writer
(`DL.durable`) -- `DL.io.save`, a training checkpoint, a data download, a study
store's results.csv and the graph cache -- writes a temporary file, fsyncs it,
renames it onto the target, and fsyncs the folder, in that order.

A SIGKILL test (test_crash_safe.py) cannot show a missing fsync: the page cache
survives a killed process, only a power cut or a kernel crash loses it.  So
each save runs in a child Python under `strace`, and the trace is read by file
descriptor: which descriptor is the temporary file, what was written to it,
when it was flushed, renamed and closed, and whether the folder was flushed
after the rename.  The last tests show the check fails on a save without either fsync.

Needs `strace` (Debian: `apt-get install strace`; .ci/run installs it).
Where it is missing (or ptrace is refused) the tests are skipped, except in CI
(CI=true), where they fail.
"""
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

slow = pytest.mark.slow  # left out of `make test-quick`: traces saves in subprocesses


def strace_problem():
    """Why strace cannot trace here (not installed, or ptrace refused), or None."""
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed (Debian: apt-get install strace)"
    probe = subprocess.run([strace, "-f", "-qq", "-e", "trace=none", "-o", os.devnull, "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return "strace cannot trace in this container (%s)" % probe.stderr.strip()[-300:]
    return None


STRACE = shutil.which("strace")
PROBLEM = strace_problem()
if PROBLEM is not None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise RuntimeError("CI must prove durable saves: " + PROBLEM)
    pytest.skip(PROBLEM + "; in CI (CI=true) this fails", allow_module_level=True)

TRAIN_SCRIPT = Path(__file__).parent / "scripts" / "train.py"
SYSCALLS = "openat,open,creat,write,pwrite64,writev,fsync,fdatasync,rename,renameat,renameat2,close"
CALL = re.compile(r"^(?P<pid>\d+)\s+(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<result>-?\d+|\?)")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def run_traced(tmp_path, code=None, argv=()):
    """Run a child Python under strace (`code`, or a script and its arguments in
    `argv`) in `tmp_path`; return the trace's lines and that folder."""
    log = tmp_path / "strace.log"
    if code is not None:
        script = tmp_path / "save.py"
        script.write_text(textwrap.dedent(code))
        argv = [str(script)]
    completed = subprocess.run(
        [STRACE, "-f", "--seccomp-bpf", "-qq", "-e", "trace=" + SYSCALLS, "-o", str(log),
         sys.executable] + list(argv),
        cwd=str(tmp_path), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=HANG)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return merge_unfinished(log.read_text().splitlines()), str(tmp_path)


def merge_unfinished(lines):
    """Join strace's `<unfinished ...>` halves with their `<... resumed>` ends (threads)."""
    pending, merged = {}, []
    for line in lines:
        pid = line.split(None, 1)[0]
        if line.endswith("<unfinished ...>"):
            pending[pid] = line[:-len("<unfinished ...>")].rstrip()
        elif "resumed>" in line and pid in pending:
            merged.append(pending.pop(pid) + line.split("resumed>", 1)[1])
        else:
            merged.append(line)
    return merged


def events(lines, cwd):
    """The calls on files, each as (call, path, detail), following descriptors to paths.

    A descriptor names the file openat returned it for, until it is closed (then
    its number is free for the next file).  Relative paths are taken from `cwd`."""
    open_files, found = {}, []
    for line in lines:
        match = CALL.match(line)
        if not match or match.group("result") in ("?",) or int(match.group("result")) < 0:
            continue
        name, args, result = match.group("name"), match.group("args"), int(match.group("result"))
        paths = [os.path.join(cwd, path) for path in QUOTED.findall(args)]
        if name in ("openat", "open", "creat"):
            open_files[result] = paths[0]
            found.append(("open", paths[0], args))
        elif name in ("rename", "renameat", "renameat2"):
            found.append(("rename", paths[0], paths[1]))
        else:
            descriptor = int(args.split(",", 1)[0])
            if descriptor in open_files:
                found.append((name if name != "fdatasync" else "fsync", open_files[descriptor], result))
            if name == "close":
                open_files.pop(descriptor, None)
    return found


def assert_durable(trace, target):
    """The save of `target`: temporary written, fsynced, closed; renamed onto `target`;
    the folder opened and fsynced after the rename.  Returns how many saves were seen."""
    target = os.path.abspath(str(target))
    folder = os.path.dirname(target)
    calls = events(*trace)
    renames = [i for i, (call, _, destination) in enumerate(calls)
               if call == "rename" and destination == target]
    assert renames, "no rename onto %s in the trace" % target
    start = 0
    for at in renames:
        temporary = calls[at][1]
        assert os.path.dirname(temporary) == folder, "the temporary %s is not beside its target" % temporary
        assert os.path.basename(temporary).startswith("." + os.path.basename(target) + ".")
        before = [(call, detail) for call, path, detail in calls[start:at] if path == temporary]
        kinds = [call for call, _ in before]
        assert kinds and kinds[0] == "open" and "O_CREAT" in before[0][1], \
            "the temporary %s was not created before the rename" % temporary
        assert "write" in kinds and sum(n for call, n in before if call == "write") > 0, \
            "nothing was written to %s" % temporary
        last_write = len(kinds) - 1 - kinds[::-1].index("write")
        assert "fsync" in kinds[last_write:], \
            "no fsync of the file %s after its last write and before the rename" % temporary
        assert "close" in kinds[kinds.index("fsync", last_write):], \
            "%s was renamed before it was closed" % temporary
        after = calls[at + 1:]
        opened = [i for i, (call, path, _) in enumerate(after) if call == "open" and path == folder]
        assert opened and any(call == "fsync" and path == folder for call, path, _ in after[opened[0]:]), \
            "no fsync of the folder %s after the rename onto %s" % (folder, target)
        start = at + 1
    return len(renames)


def test_io_save_writes_fsyncs_renames_then_fsyncs_the_folder(tmp_path):
    target = tmp_path / "model.npz"
    trace = run_traced(tmp_path, """
        import numpy
        from DL import io
        io.save("model.npz", [[numpy.ones((3, 4)), numpy.zeros(4)]], epoch=3)
        io.save("model.npz", [[numpy.ones((3, 4)), numpy.ones(4)]], epoch=4)  # over an existing file
    """)
    assert assert_durable(trace, target) == 2
    from DL import io
    params, meta = io.load(target)
    assert meta["epoch"] == 4 and params[0][1].tolist() == [1, 1, 1, 1]


@slow
def test_a_checkpoint_of_a_training_run_is_saved_durably(tmp_path):
    """A training run (tests/scripts/train.py) that checkpoints every epoch, then saves its result."""
    trace = run_traced(tmp_path, argv=[str(TRAIN_SCRIPT), "--model", "mlp", "--mode", "CVM", "--epochs", "2",
                                       "--checkpoint", "checkpoint.npz", "--out", "result.npz"])
    assert assert_durable(trace, tmp_path / "checkpoint.npz") >= 2  # each epoch (and the end)
    assert assert_durable(trace, tmp_path / "result.npz") == 1


@slow
def test_a_download_is_saved_durably(tmp_path):
    """A download from an HTTP server on 127.0.0.1 (a thread of the traced process):
    the bytes go to a temporary file, are checked, fsynced, and renamed into DL_DATA_DIR."""
    data = tmp_path / "data"
    data.mkdir()
    trace = run_traced(tmp_path, """
        import hashlib, http.server, os, threading
        from functools import partial
        served = os.path.abspath("served")
        os.makedirs(served)
        payload = os.urandom(300000)
        with open(os.path.join(served, "tiny.pkl.gz"), "wb") as stream:
            stream.write(payload)
        handler = partial(http.server.SimpleHTTPRequestHandler, directory=served)
        handler.func.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        os.environ["DL_DATA_DIR"] = os.path.abspath("data")
        from DL.datasets.files import locate
        url = "http://127.0.0.1:%d/tiny.pkl.gz" % server.server_address[1]
        path = locate("tiny.pkl.gz", url, sha256=hashlib.sha256(payload).hexdigest())
        assert open(path, "rb").read() == payload
        server.shutdown()
    """)
    assert assert_durable(trace, data / "tiny.pkl.gz") == 1


def test_a_study_stores_results_csv_durably(tmp_path):
    """The study store's text file (DL.sweep.store), written twice: new, then over the old."""
    trace = run_traced(tmp_path, """
        from DL.sweep.store import Store
        store = Store("study", "durable", ["learning_rate"])
        store.add([("a", {"learning_rate": 0.1}), ("b", {"learning_rate": 0.01})])
        store.record("a", {"status": "done", "metrics": {"valid_error": 0.25}})
        store.write_results()
        store.record("b", {"status": "done", "metrics": {"valid_error": 0.5}})
        store.write_results()
        store.close()
    """)
    assert assert_durable(trace, tmp_path / "study" / "results.csv") == 2
    assert (tmp_path / "study" / "results.csv").read_text() == "learning_rate,valid_error\n0.1,0.25\n0.01,0.5\n"


def test_the_graph_cache_stores_a_rewritten_graph_durably(tmp_path):
    """A function compiled in DL's mode (not called: nothing reaches Numba) stores its graph."""
    trace = run_traced(tmp_path, """
        import os
        os.environ["DL_GRAPH_CACHE_DIR"] = os.path.abspath("graphs")
        os.environ.pop("DL_GRAPH_CACHE", None)
        from DL.backend import BACKEND, T, function
        assert BACKEND == "pytensor", "the graph cache holds PyTensor graphs"
        x = T.vector("x")
        assert function([x], T.tanh(2 * x)).maker.dl_graph_cache == "miss"
    """)
    (entry,) = (tmp_path / "graphs").glob("*.pkl")
    assert assert_durable(trace, entry) == 1


@pytest.mark.parametrize("broken, complaint", [
    ("os.fsync = lambda descriptor: None", "no fsync of the file"),
    ("durable._fsync_folder = lambda folder: None", "no fsync of the folder"),
])
@slow
def test_the_check_finds_a_save_without_fsync(tmp_path, broken, complaint):
    """The same save with an fsync left out: the trace shows it, and the check fails."""
    trace = run_traced(tmp_path, """
        import os
        import numpy
        from DL import durable, io
        %s
        io.save("model.npz", [numpy.ones(3)])
    """ % broken)
    with pytest.raises(AssertionError, match=complaint):
        assert_durable(trace, tmp_path / "model.npz")
