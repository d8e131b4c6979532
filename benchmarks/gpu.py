#!/usr/bin/env python
"""Training speed on JAX's GPU against this machine's CPU (issue 25, item 4).

DL's GPU road is PyTensor's JAX mode on a CUDA build of JAX:

    pip install -e '.[gpu]'        # jax[cuda12]; needs an NVIDIA driver

For each case of `benchmarks/startup.py` asked for (default: the MLP, the LSTM
classifier and LeNet; see that file for their shapes), this script compiles the
training step `optimize` runs (DL.optimizers.compiling.compile_functions,
mode="JAX") once per device, places the computation with
`jax.default_device(...)`, takes 3 steps to warm up and times `--steps` more.
It prints the device names and, per case, examples per second on the CPU and
on the GPU and their ratio (the GPU's speedup).  Where JAX sees no GPU it says
so and stops, exit status 0: nothing here needs one to run.

    python benchmarks/gpu.py
    python benchmarks/gpu.py --cases lstm --steps 50
    python benchmarks/gpu.py --cpu-as-gpu    # no GPU: runs every step of the script on the
                                             # CPU twice (checks the script, measures nothing)
"""
import argparse
import os
import sys
import time

from _table import print_table
from startup import BUILT, build

DEFAULT_CASES = ("mlp", "lstm", "lenet")


def devices(cpu_as_gpu):
    """(the CPU device, the GPU device or None)."""
    import jax
    cpu = jax.devices("cpu")[0]
    if cpu_as_gpu:
        return cpu, cpu
    try:
        return cpu, jax.devices("gpu")[0]
    except RuntimeError:  # JAX raises when it has no such backend
        return cpu, None


def examples_per_second(case, device, steps):
    """Train `case` on `device`: examples per second over `steps` steps after 3 to warm up."""
    import jax
    import numpy
    from DL.backend import T, floatX, shared
    from DL.optimizers.compiling import compile_functions
    with jax.default_device(device):
        dataset, inputs, cost, params, errors, rule, options, batch_size, extra = build(case, numpy, T, shared,
                                                                                       floatX)
        functions = compile_functions(dataset, inputs, cost, params, errors, batch_size=batch_size, rule=rule,
                                      rule_options=options, extra_updates=extra, mode="JAX")
        n_batches = functions.n_batches("train")
        for i in range(3):
            functions.train(i % n_batches)  # (train returns a float: each step has finished)
        start = time.perf_counter()
        for i in range(steps):
            functions.train(i % n_batches)
        return steps * batch_size / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=BUILT, default=list(DEFAULT_CASES))
    parser.add_argument("--steps", type=int, default=20, help="timed training steps a case and device (20)")
    parser.add_argument("--cpu-as-gpu", action="store_true",
                        help="without a GPU: take the CPU for both sides (checks the script only)")
    args = parser.parse_args()
    try:
        import jax
    except ImportError:
        raise SystemExit("jax is not installed: pip install -e '.[jax]' (CPU) or '.[gpu]' (CUDA)")
    cpu, gpu = devices(args.cpu_as_gpu)
    print("jax %s; CPU device %s (%d cores); command: python %s"
          % (jax.__version__, cpu.device_kind, os.cpu_count(), " ".join(sys.argv)))
    if gpu is None:
        print("No GPU: JAX sees only %s. On a machine with an NVIDIA GPU: pip install -e '.[gpu]', "
              "then run this again." % ", ".join(sorted({d.platform for d in jax.devices()})))
        return
    print("GPU device: %s%s" % (gpu.device_kind, " (the CPU, --cpu-as-gpu)" if args.cpu_as_gpu else ""))
    rows = []
    for case in args.cases:
        on_cpu = examples_per_second(case, cpu, args.steps)
        on_gpu = examples_per_second(case, gpu, args.steps)
        rows.append([case, "%.0f" % on_cpu, "%.0f" % on_gpu, "%.2fx" % (on_gpu / on_cpu)])
        print("  %s: done" % case, flush=True)
    print_table(["case", "CPU examples/s", "GPU examples/s", "GPU / CPU"], rows)


if __name__ == "__main__":
    main()
