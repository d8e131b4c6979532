#!/usr/bin/env python
"""The GRU's fused recurrence (DL.engine.gru_op) against its scan: ms a training step.

One training step of a GRU layer: the forward pass and the gradients of W, U, b
and the input (word vectors in a shared variable), for a cost on the output
mean-pooled over the valid steps, as examples/bilstm-imdb.py and
examples/lstm-imdb.py train it.  Float32, compiled once in DL's default mode
(PyTensor's Numba engine) and called once untimed; then the median of --repeats
calls, inside DL.backend.flush_denormals() as training runs.  Two shapes:

    32 sequences x 400 steps x 64 units     examples/bilstm-imdb.py --cell gru --maxlen 400 (one direction)
    16 sequences x 100 steps x 128 units    examples/lstm-imdb.py's (with a GRU)

Columns: ms a step with the fused Op (`GRU(..., fused=True)`) and with the scan
(`fused=False`), and scan / fused.

    python benchmarks/gru_fused.py --native-openblas
"""
from _step_timing import command_line, ms_a_step

args = command_line(__doc__)  # (before NumPy loads OpenBLAS)

import numpy  # noqa: E402

from _table import print_table  # noqa: E402
from DL.backend import T, floatX, function, grad, shared  # noqa: E402
from DL.models import GRU  # noqa: E402
from DL.pooling import mean_pool  # noqa: E402

SHAPES = [(32, 400, 64, "bilstm-imdb --cell gru"), (16, 100, 128, "lstm-imdb")]


def training_step(n_examples, n_steps, n_units, fused):
    """A compiled function: the cost and the gradients of W, U, b and the words."""
    rng = numpy.random.RandomState(0)
    words = shared(rng.uniform(-0.1, 0.1, (n_examples, n_steps, n_units)).astype(floatX), name="words")
    mask = shared(numpy.ones((n_examples, n_steps), dtype=floatX), name="mask")
    gru = GRU(rng=rng, input=words, mask=mask, n_units=n_units, fused=fused)
    readout = numpy.asarray(rng.uniform(-1, 1, n_units), dtype=floatX)
    cost = T.mean(T.dot(mean_pool(gru.output, mask), readout))
    return function([], [cost] + grad(cost, gru.params + [words]))


rows = []
for n_examples, n_steps, n_units, shapes_of in SHAPES:
    fused, scan = (ms_a_step(training_step(n_examples, n_steps, n_units, path), args.repeats)
                   for path in (True, False))
    rows.append(["%d x %d x %d" % (n_examples, n_steps, n_units), shapes_of,
                 "%.1f" % fused, "%.1f" % scan, "%.2f" % (scan / fused)])
print_table(["sequences x steps x units", "shapes of", "ms a step, fused", "ms a step, scan", "scan / fused"], rows)
