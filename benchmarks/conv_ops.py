#!/usr/bin/env python
"""DL's convolution and pooling Ops (DL.engine.conv) against PyTorch's: ms a forward + backward.

The LeNet of the deeplearning.net tutorial, stage by stage: images 1x28x28 ->
conv 20@5x5 -> max pool 2 -> conv 50@5x5 -> max pool 2, float32, batch 64 and
256.  Each row is one stage's forward pass and its backward pass from a given
output gradient (the filters' gradient always, the input's too but for the
first convolution, whose input is data), and "lenet stack" is the four stages
in one function.  DL: one compiled function in DL's default mode (PyTensor's
Numba engine) called once untimed, then the median of --repeats calls;
PyTorch: torch.nn.functional.conv2d / max_pool2d, eager, the same way.  One
thread each (OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)).  Columns: ms
a call on each side and PyTorch / DL (above 1: DL is faster).

Under the table: the cold compile time of the "lenet stack" function for
batch 64 (a fresh process with empty PyTensor and Numba caches) and warm (the
same again, caches filled).

    python benchmarks/conv_ops.py --native-openblas
"""
from _step_timing import command_line, ms_a_step

args = command_line(__doc__)  # (before NumPy loads OpenBLAS)

import os  # noqa: E402

import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import numpy  # noqa: E402

from _child import child_env  # noqa: E402
from _table import print_table  # noqa: E402

BATCHES = (64, 256)
# (stage, input shape without the batch, filters (n_out, n_in, h, w) or a pool window, input gradient?)
STAGES = [("conv1 20@5x5", (1, 28, 28), (20, 1, 5, 5), False),
          ("pool1 2x2", (20, 24, 24), 2, True),
          ("conv2 50@5x5", (20, 12, 12), (50, 20, 5, 5), True),
          ("pool2 2x2", (50, 8, 8), 2, True)]


def stage_values(rng, batch, stages):
    """The input images and each convolution's filters, float32."""
    values = [rng.normal(0, 1, (batch,) + stages[0][1]).astype("float32")]
    return values + [rng.normal(0, 0.1, shape).astype("float32") for _, _, shape, _ in stages
                     if isinstance(shape, tuple)]


def output_shape(batch, stages):
    """The shape of the stages' output for a batch: valid convolutions, pools that halve."""
    channels, height, width = stages[0][1]
    for _, _, shape, _ in stages:
        if isinstance(shape, tuple):
            channels, height, width = shape[0], height - shape[2] + 1, width - shape[3] + 1
        else:
            height, width = height // shape, width // shape
    return batch, channels, height, width


def dl_function(stages):
    """A compiled function of (x, filters..., d_out): the stages' output and gradients."""
    from DL.backend import T, function, grad
    from DL.engine.conv import conv2d, pool_2d
    x = T.tensor4("x", dtype="float32")
    inputs, h = [x], x
    for _, _, shape, _ in stages:
        if isinstance(shape, tuple):
            inputs.append(T.tensor4("W", dtype="float32"))
            h = conv2d(h, inputs[-1], filter_flip=False)
        else:
            h = pool_2d(h, (shape, shape), ignore_border=True)
    d_out = T.tensor4("d_out", dtype="float32")
    wrt = inputs[1:] + ([x] if stages[0][3] else [])
    return function(inputs + [d_out], [h] + grad(None, wrt, known_grads={h: d_out}))


def torch_function(stages):
    """The same on PyTorch: a function of the tensors `to_torch` makes (outside the timing)."""
    import torch.nn.functional as F

    def step(x, *filters_and_d_out):
        *filters, d_out = filters_and_d_out
        h, filters = x, list(filters)
        for _, _, shape, _ in stages:
            h = F.conv2d(h, filters.pop(0)) if isinstance(shape, tuple) else F.max_pool2d(h, shape)
        h.backward(d_out)
        return h

    def call(*tensors):
        for tensor in tensors:
            tensor.grad = None
        return step(*tensors)

    return call


def to_torch(values, stages):
    import torch
    tensors = [torch.from_numpy(v) for v in values]
    for tensor in tensors[1:-1] + (tensors[:1] if stages[0][3] else []):
        tensor.requires_grad_(True)
    return tensors


def timing_rows():
    import torch
    torch.set_num_threads(1)
    rng = numpy.random.RandomState(0)
    rows = []
    for batch in BATCHES:
        for name, stages in [(s[0], [s]) for s in STAGES] + [("lenet stack", STAGES)]:
            values = stage_values(rng, batch, stages)
            dl = dl_function(stages)
            values.append(rng.normal(0, 1, output_shape(batch, stages)).astype("float32"))
            dl_ms = ms_a_step(dl, args.repeats, *values)
            torch_ms = ms_a_step(torch_function(stages), args.repeats, *to_torch(values, stages))
            rows.append([name, str(batch), "%.2f" % dl_ms, "%.2f" % torch_ms, "%.2f" % (torch_ms / dl_ms)])
    return rows


COMPILE = r"""
import time
start = time.perf_counter()
import numpy, conv_ops
f = conv_ops.dl_function(conv_ops.STAGES)
values = conv_ops.stage_values(numpy.random.RandomState(0), 64, conv_ops.STAGES)
f(*values, numpy.ones(conv_ops.output_shape(64, conv_ops.STAGES), "float32"))
print(time.perf_counter() - start)
"""


def compile_seconds():
    """(cold, warm): seconds to build, compile and first call the lenet stack in a fresh
    process, with empty caches and then with the caches that run filled (DL imported
    in both)."""
    with tempfile.TemporaryDirectory() as cache:
        env = child_env(cache)
        env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.abspath(__file__)), env["PYTHONPATH"]])
        env["CONV_OPS_CHILD"] = "1"
        return [float(subprocess.run([sys.executable, "-c", COMPILE], env=env, check=True, capture_output=True,
                                     text=True).stdout.split()[-1]) for _ in ("cold", "warm")]


if __name__ == "__main__" and not os.environ.get("CONV_OPS_CHILD"):
    print_table(["op (forward + backward)", "batch", "DL ms", "torch ms", "torch / DL"], timing_rows())
    cold, warm = compile_seconds()
    print("\nlenet stack, batch 64: import DL + build + compile + first call %.1f s cold (empty caches), "
          "%.1f s warm" % (cold, warm))
