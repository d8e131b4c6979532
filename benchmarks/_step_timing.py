"""What the benchmark scripts that time one compiled training step share
(c_blas.py, denormals.py, gru_fused.py): their command line, read before NumPy loads
OpenBLAS, and the median time of a step."""
import argparse
import os
import statistics
import time


def command_line(doc):
    """The parsed --repeats and --native-openblas (`doc` the script's help), with
    OpenBLAS's environment set from them: call it before importing NumPy."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="timed steps per case (default 15)")
    parser.add_argument("--native-openblas", action="store_true",
                        help="unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (benchmarks/README.md)")
    args = parser.parse_args()
    if args.native_openblas:
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            os.environ.pop(name, None)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    return args


def ms_a_step(step, repeats, *inputs, flush=True):
    """The median of `repeats` timed calls of `step(*inputs)`, in ms, after one untimed
    call (the first compiles), all inside DL.backend.while_training(flush): as training runs
    (denormals flushed unless flush=False, the step's freed heap kept for reuse)."""
    from DL.backend import while_training
    times = []
    with while_training(flush):
        step(*inputs)
        for _ in range(repeats):
            start = time.perf_counter()
            step(*inputs)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)
