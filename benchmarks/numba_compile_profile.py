#!/usr/bin/env python
"""Where a cold first training step spends its time: every Numba compilation, timed.

    python benchmarks/numba_compile_profile.py [--case mlp|lstm|use] [--top 15]

Builds one of benchmarks/startup.py's cases in a fresh process with empty
PyTensor and Numba caches (a temporary folder), wraps numba's
Dispatcher.compile to time each compilation, and runs the first training
step, where PyTensor's Numba linker compiles the machine code.  The table
groups compilations by the compiled function's name: how many, and seconds
inclusive (with the compilations they start) and exclusive, each also as a
share of the sum of all exclusive seconds (so inclusive shares overlap).
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

from _child import child_env
from _table import print_table


def profile(case):
    """In this (fresh) process: {'first step': s, 'rows': [...]} for `case`."""
    import numba.core.dispatcher as dispatcher
    import numpy
    stats = collections.defaultdict(lambda: {"count": 0, "inclusive": 0.0, "exclusive": 0.0})
    stack = []
    compile_for = dispatcher.Dispatcher.compile

    def timed_compile(self, signature):
        start = time.perf_counter()
        stack.append(0.0)
        try:
            return compile_for(self, signature)
        finally:
            seconds, children = time.perf_counter() - start, stack.pop()
            if stack:
                stack[-1] += seconds
            entry = stats[self.py_func.__qualname__]
            entry["count"] += 1
            entry["inclusive"] += seconds
            entry["exclusive"] += seconds - children

    dispatcher.Dispatcher.compile = timed_compile
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import startup
    from DL.backend import T, floatX, shared
    from DL.optimizers.compiling import compile_functions
    dataset, inputs, cost, params, errors, rule, options, batch_size, extra = startup.build(
        case, numpy, T, shared, floatX)
    functions = compile_functions(dataset, inputs, cost, params, errors, batch_size=batch_size, rule=rule,
                                  rule_options=options, extra_updates=extra)
    start = time.time()
    functions.train(0)
    first_step = time.time() - start
    rows = [[name, e["count"], e["inclusive"], e["exclusive"]] for name, e in stats.items()]
    return {"first step": first_step, "rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=["mlp", "lstm", "use"], default="mlp")
    parser.add_argument("--top", type=int, default=15, help="rows to print, by exclusive seconds (default 15)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(profile(args.case)))
        return
    with tempfile.TemporaryDirectory(prefix="dl-numba-profile-") as cache:
        completed = subprocess.run([sys.executable, __file__, "--child", "--case", args.case], env=child_env(cache),
                                   capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(completed.stderr[-3000:])
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    rows = found["rows"]
    total = sum(row[3] for row in rows)
    print("%s: cold first training step %.1f s; %d Numba compilations, %.1f s exclusive in all; load average %s"
          % (args.case, found["first step"], sum(row[1] for row in rows), total,
             " ".join("%.1f" % v for v in os.getloadavg())))
    rows.sort(key=lambda row: -row[3])
    print_table(["compiled function", "compilations", "inclusive s", "share inclusive", "exclusive s",
                 "share exclusive"],
                [[name, str(count), "%.2f" % inclusive, "%.0f %%" % (100 * inclusive / total), "%.2f" % exclusive,
                  "%.0f %%" % (100 * exclusive / total)] for name, count, inclusive, exclusive in rows[:args.top]])



if __name__ == "__main__":
    main()
