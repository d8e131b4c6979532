#!/usr/bin/env python
"""The recurrent examples at their full budgets, against issue 3's targets.

    rnn-lag-binary    test error at most 5 %      (RNN 50, RMSprop, 100 epochs, 2000 sequences)
    rnn-lag-softmax   test error at most 5 %      (the same)
    rnn-lag-real      test mse at most 0.05       (RNN 50, 60 epochs)
    rnn-lag-dropout   test mse at most 0.05       (RNN 100, variational dropout 0.2; no issue
                                                   target, the real task's bound)
    lstm-imdb         test error at most 18 %     (vocabulary 10000, maxlen 100, 128 units,
                                                   adadelta; the test reviews of at most 100 words)
    mrnn-text         bits per character at least 30 % below the unigram baseline

Each example runs as its own process, one after the other, with its default
settings (so the table is what `python examples/NAME.py` prints), and the
table gives its last line's figure, the target, and the wall time.  LSTM
training speed against PyTorch's nn.LSTM is measured by
`benchmarks/compare.py --workloads lstm`.

    python benchmarks/recurrent_accuracy.py                      # everything (7 minutes on 2 idle cores)
    python benchmarks/recurrent_accuracy.py --runs rnn-lag-binary rnn-lag-real
    python benchmarks/recurrent_accuracy.py --quick              # each at a smoke-test budget
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

LAG_QUICK = ["--epochs", "2", "--sequences", "60"]
# name: (what its last line reports, the target: at most, or for bits at least that % below unigram; quick flags)
RUNS = {
    "rnn-lag-binary": ("test error %", 5.0, LAG_QUICK),
    "rnn-lag-softmax": ("test error %", 5.0, LAG_QUICK),
    "rnn-lag-real": ("test mse", 0.05, LAG_QUICK),
    "rnn-lag-dropout": ("test mse", 0.05, LAG_QUICK),
    "lstm-imdb": ("test error %", 18.0, ["--epochs", "1", "--subset", "200"]),
    "mrnn-text": ("% below unigram", 30.0, ["--epochs", "1", "--chars", "20000"]),
}
LAST_LINE = {
    "test error %": re.compile(r"^test error: ([0-9.]+) %$"),
    "test mse": re.compile(r"^test mse: ([0-9.]+)$"),
    "% below unigram": re.compile(r"^test bits per character: ([0-9.]+) \(unigram baseline ([0-9.]+), "
                                  r"(-?[0-9.]+) % below\)$"),
}


def run(name, flags):
    """(last line's figure, the line, seconds) of examples/NAME.py."""
    env = dict(os.environ)
    env.setdefault("DL_DATA_DIR", os.path.abspath(os.path.join(ROOT, "..", "shared", "data")))
    # On a shared machine OpenBLAS's waiting threads made small products up to 50 times slower.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    start = time.time()
    completed = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name + ".py")] + flags,
                               env=env, capture_output=True, text=True)
    seconds = time.time() - start
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise SystemExit("%s failed (exit %d):\n%s" % (name, completed.returncode, completed.stderr[-3000:]))
    kind = RUNS[name][0]
    match = LAST_LINE[kind].match(lines[-1])
    if not match:
        raise SystemExit("%s: unexpected last line %r" % (name, lines[-1]))
    return float(match.groups()[-1]), lines[-1], seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS),
                        help="which examples (default: all)")
    parser.add_argument("--quick", action="store_true", help="each at a smoke-test budget (targets not expected)")
    args = parser.parse_args()

    print("python %s, OPENBLAS_NUM_THREADS=%s, %s" % (sys.version.split()[0],
                                                     os.environ.get("OPENBLAS_NUM_THREADS", "1 (set here)"),
                                                     "quick budgets" if args.quick else "full budgets"))
    rows = []
    for name in args.runs:
        kind, target, quick_flags = RUNS[name]
        figure, line, seconds = run(name, quick_flags if args.quick else [])
        met = figure >= target if kind == "% below unigram" else figure <= target
        rows.append((name, kind, figure, target, met, seconds, line))
        print("  %s: %s (%.0f s)" % (name, line, seconds), flush=True)

    print()
    print("| example | measure | measured | target | met | seconds |")
    print("|---|---|---|---|---|---|")
    for name, kind, figure, target, met, seconds, _ in rows:
        bound = ">= %g" % target if kind == "% below unigram" else "<= %g" % target
        print("| %s | %s | %.4g | %s | %s | %.0f |" % (name, kind, figure, bound, "yes" if met else "NO", seconds))


if __name__ == "__main__":
    main()
