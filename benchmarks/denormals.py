#!/usr/bin/env python
"""What denormal floats cost a training step, and what flushing them to zero gives back.

One training step of the LSTM layer of examples/bilstm-imdb.py (32 reviews of
400 words, 64-wide word vectors, 64 units: the forward pass and the gradients of
W, U, b and the words, through DL's fused LSTM on PyTensor), compiled once and
timed with three kinds of cost:

    normal     the mean of the last states times a fixed vector: carried back
               through 400 steps, the gradient of the early words shrinks
               below float32's smallest normal number, 1.2e-38
    mixed      that cost times 1e-33: the gradients get there sooner
    denormal   times 1e-38: the gradient is denormal from the last step back

each run as the caller's CPU has it (`off`) and inside DL.backend.flush_denormals()
(`on`, what optimize and train_loop do).  In examples/bilstm-imdb.py the
gradients underflow by themselves from epoch 2.4 on (6.5 minibatches a second,
then 1.6, without flushing).  Columns: the share of the gradients' entries that are denormal (without
flushing), ms a step (median of --repeats), and off / on.

    python benchmarks/denormals.py --native-openblas
"""
from _step_timing import command_line, ms_a_step

args = command_line(__doc__)  # (before NumPy loads OpenBLAS)

import numpy  # noqa: E402

from _table import print_table  # noqa: E402
from DL.backend import T, floatX, function, grad, shared  # noqa: E402
from DL.engine import denormals  # noqa: E402
from DL.models import LSTM  # noqa: E402

N_EXAMPLES, N_STEPS, N_UNITS = 32, 400, 64
SCALES = {"normal": 1.0, "mixed": 1e-33, "denormal": 1e-38}

rng = numpy.random.RandomState(0)
words = shared(rng.uniform(-0.1, 0.1, (N_EXAMPLES, N_STEPS, N_UNITS)).astype(floatX), name="words")
mask = shared(numpy.ones((N_EXAMPLES, N_STEPS), dtype=floatX), name="mask")
lstm = LSTM(rng=rng, input=words, mask=mask, n_units=N_UNITS)
readout = numpy.asarray(rng.uniform(-1, 1, N_UNITS), dtype=floatX)
scale = T.scalar("scale", dtype=floatX)
cost = scale * T.mean(T.dot(lstm.output[:, -1], readout))
step = function([scale], [cost] + grad(cost, lstm.params + [words]))


def denormal_share(value):
    """The share of the gradients' entries that are denormal, without flushing."""
    gradients = numpy.concatenate([numpy.abs(g).ravel() for g in step(numpy.asarray(value, dtype=floatX))[1:]])
    return float(numpy.mean((gradients > 0) & (gradients < numpy.finfo(numpy.float32).tiny)))


print("flushing available here: %s; float32's smallest normal number: %.3g"
      % (denormals.available(), numpy.finfo(numpy.float32).tiny))
rows = []
for name, value in SCALES.items():
    value = numpy.asarray(value, dtype=floatX)
    off, on = (ms_a_step(step, args.repeats, value, flush=flush) for flush in (False, True))
    rows.append([name, "%g" % value, "%.1f %%" % (100 * denormal_share(value)), "%.1f" % off, "%.1f" % on, "%.2f" % (off / on)])
print_table(["cost", "scale", "denormal gradient entries (off)", "ms a step, off", "ms a step, on", "off / on"], rows)
