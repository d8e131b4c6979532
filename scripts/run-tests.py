#!/usr/bin/env python
"""Run the test suite a few processes at a time, each on whole test modules.

    python scripts/run-tests.py [--workers 2] [pytest options ...] [tests/test_x.py ...]

Each long test module (LONG_MODULES below) runs in a fresh
`python -m pytest` process, longest first, and the short ones --group (6) to a
process around them: a module's tests share the functions it compiles
(module-scoped fixtures), and the memory goes back to the system when the
process ends.  In one long process the memory only grows: Numba keeps the
machine code of every function it compiles for as long as the process lives,
and with empty caches (a new machine, CI) that is gigabytes by the end of the
suite.

Prints a line per process as it ends (a failing one's whole report; one still
running after --timeout-minutes is stopped and fails), then the totals, the
wall time, and the largest peak resident memory of any process.  Exits 0 when
every process passed (one whose tests -m deselected counts as passed), else 1.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
NO_TESTS_COLLECTED = 5  # pytest's exit status when -m deselects every test of a module
COUNTS = re.compile(r"(\d+) (passed|failed|errors?|skipped|deselected|xfailed|xpassed)")


# The modules that take longest, longest first (measured with `pytest --durations=0`, warm
# cache): each gets a process of its own, started first, and the short ones fill in around
# them.  The order only affects how soon the suite ends, never what it checks.
LONG_MODULES = ["test_examples_estimators", "test_learning", "test_examples_recurrent", "test_examples_mnist",
                "test_examples_cnn", "test_theano_scripts", "test_sweep", "test_original_style", "test_checkpoint",
                "test_cnn_resume", "test_reproducible", "test_viz", "test_euse", "test_sse", "test_muse",
                "test_use", "test_loop", "test_isolation", "test_conv", "test_contract", "test_recurrence",
                "test_cache_keys", "test_optimize"]


def batches(modules, group, long_alone=True):
    """The long modules one to a process, longest first; then the others `group` to a process
    (each process costs a second or two of start-up, more than many a short module takes).
    Without `long_alone` (for quick runs, where the long modules' slow tests are left out),
    every module goes `group` to a process, in the same order."""
    rank = {name: i for i, name in enumerate(LONG_MODULES)}
    modules = sorted(modules, key=lambda path: (rank.get(path.stem, len(rank)), path.name))
    long = [[path] for path in modules if path.stem in rank and long_alone]
    short = [path for path in modules if not (path.stem in rank and long_alone)]
    return long + [short[i:i + group] for i in range(0, len(short), group)]


def summary_counts(output):
    """{'passed': n, 'failed': n, ...} from pytest's last summary line."""
    lines = [line for line in output.strip().splitlines() if COUNTS.search(line)]
    counts = {}
    for number, kind in COUNTS.findall(lines[-1] if lines else ""):
        kind = "errors" if kind.startswith("error") else kind
        counts[kind] = counts.get(kind, 0) + int(number)
    return counts


class Run(object):
    """One pytest process for some modules, its output going to a temporary file."""

    def __init__(self, modules, pytest_args):
        self.modules = modules
        self.name = " ".join(module.name for module in modules)
        self.output = tempfile.TemporaryFile(mode="w+")
        self.started = time.time()
        self.timed_out = False
        self.process = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
                                        + [str(module) for module in modules] + pytest_args, cwd=str(REPO),
                                        stdout=self.output, stderr=subprocess.STDOUT, start_new_session=True)

    def finish(self, status, peak_kb):
        self.seconds = time.time() - self.started
        self.status, self.peak_mb = status, peak_kb / 1024
        self.output.seek(0)
        self.text = self.output.read()
        self.output.close()
        self.counts = summary_counts(self.text)
        self.passed = (status == 0 or status == NO_TESTS_COLLECTED) and not self.timed_out
        if self.timed_out:
            self.text += "\n%s: stopped after %.0f s, over the time limit (--timeout-minutes)\n" % (
                self.name, self.seconds)
        return self


def wait_for_one(running, timeout):
    """The Run whose process ended first, with its exit status and peak memory; a module
    still running after `timeout` seconds is stopped (with whatever it started) and fails."""
    while True:
        pid, wait_status, usage = os.wait4(-1, os.WNOHANG)
        for run in running:
            if run.process.pid == pid:
                run.process.returncode = os.waitstatus_to_exitcode(wait_status)
                running.remove(run)
                return run.finish(run.process.returncode, usage.ru_maxrss)
        for run in running:
            if not run.timed_out and time.time() - run.started > timeout:
                run.timed_out = True
                os.killpg(run.process.pid, signal.SIGKILL)
        time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="modules run at once (default 2; 0 means 1)")
    parser.add_argument("--group", type=int, default=6,
                        help="modules outside LONG_MODULES run this many to a process (default 6)")
    parser.add_argument("--group-long", action="store_true",
                        help="group the long modules too (quick runs, where their slow tests are left out)")
    parser.add_argument("--timeout-minutes", type=float, default=30,
                        help="stop a module (and fail it) after this long (default 30)")
    args, rest = parser.parse_known_args()
    modules = [Path(arg) for arg in rest if arg.endswith(".py")]
    pytest_args = [arg for arg in rest if not arg.endswith(".py")]
    queue = batches([m.resolve() for m in modules] or sorted(TESTS.glob("test_*.py")), max(1, args.group),
                    long_alone=not args.group_long)
    workers = max(1, args.workers)

    start, running, finished = time.time(), [], []
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(143))  # stopped: stop the modules too
    try:
        while queue or running:
            while queue and len(running) < workers:
                running.append(Run(queue.pop(0), pytest_args))
            run = wait_for_one(running, 60 * args.timeout_minutes)
            finished.append(run)
            line = "%s %-34s %s in %.0f s, peak %.0f MB" % (
                "ok  " if run.passed else "FAIL", run.name,
                ", ".join("%d %s" % (n, kind) for kind, n in run.counts.items()) or "exit %d" % run.status,
                run.seconds, run.peak_mb)
            print(line if run.passed else "%s\n%s" % (line, run.text), flush=True)
    except (KeyboardInterrupt, SystemExit):
        for run in running:
            os.killpg(run.process.pid, signal.SIGKILL)
        raise
    totals = {}
    for run in finished:
        for kind, n in run.counts.items():
            totals[kind] = totals.get(kind, 0) + n
    failed = [run.name for run in finished if not run.passed]
    largest = max(finished, key=lambda run: run.peak_mb)
    print("%s; %d modules in %.1f min wall; the largest process peaked at %.0f MB (%s)" % (
        ", ".join("%d %s" % (n, kind) for kind, n in sorted(totals.items())) or "no tests counted",
        sum(len(run.modules) for run in finished), (time.time() - start) / 60, largest.peak_mb, largest.name))
    if failed:
        print("FAILED modules: %s" % " ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
