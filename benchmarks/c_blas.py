#!/usr/bin/env python
"""PyTensor's C engine (mode "CVM") with and without the OpenBLAS DL links it to.

Installed from pip, PyTensor's C code finds no BLAS to link (it warns "could not link
to a BLAS installation ... severely degraded"); DL links the functions it compiles in a
C mode to the OpenBLAS in SciPy's wheel (DL.engine.c_blas).  This script compiles one
SGD step of an MLP 784-500-10 (tanh, softmax, MNIST's shapes, random data) in the CVM
mode twice in one process, with DL's link (`linked`) and without it (DL_C_BLAS=0,
PyTensor's fallbacks: `unlinked`), checks that both give the same parameters, and
prints ms a step (median of --repeats) for a minibatch of 20 (matrix products) and of
1 (matrix-vector and outer products, where the fallbacks are Python code), with the
same step in DL's default mode, Numba, beside them.

    python benchmarks/c_blas.py --native-openblas
"""
from _step_timing import command_line, ms_a_step

args = command_line(__doc__)  # (before NumPy loads OpenBLAS)

import os  # noqa: E402

import numpy  # noqa: E402

from _table import print_table  # noqa: E402
from DL.backend import T, floatX, function, grad, shared  # noqa: E402


def sgd_step(batch, rng, mode):
    """An SGD step of an MLP 784-500-10 on a fixed minibatch; its parameters' shared variables."""
    W1 = shared((0.05 * rng.randn(784, 500)).astype(floatX))
    b1 = shared(numpy.zeros(500, floatX))
    W2 = shared((0.05 * rng.randn(500, 10)).astype(floatX))
    b2 = shared(numpy.zeros(10, floatX))
    x, y = T.matrix("x"), T.lvector("y")
    p = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W1) + b1), W2) + b2)
    cost = -T.mean(T.log(p)[T.arange(batch), y])
    params = [W1, b1, W2, b2]
    updates = [(v, v - 0.01 * g) for v, g in zip(params, grad(cost, params))]
    return function([x, y], cost, updates=updates, mode=mode), params


def compiled(batch, link, mode="CVM"):
    """(step, params, the names of its BLAS Ops) with DL's link on or off."""
    os.environ["DL_C_BLAS"] = "1" if link else "0"
    step, params = sgd_step(batch, numpy.random.RandomState(0), mode)
    names = sorted({type(node.op).__name__ for node in step.maker.fgraph.toposort()
                    if any(word in type(node.op).__name__ for word in ("Gemm", "Gemv", "Ger", "Dot"))})
    return step, params, names


rows = []
for batch in (20, 1):
    rng = numpy.random.RandomState(1)
    x, y = rng.rand(batch, 784).astype(floatX), rng.randint(0, 10, batch).astype("int64")
    linked, linked_params, linked_ops = compiled(batch, True)
    unlinked, unlinked_params, unlinked_ops = compiled(batch, False)
    numba, numba_params, _ = compiled(batch, True, "NUMBA")
    for _ in range(3):
        linked(x, y), unlinked(x, y), numba(x, y)
    for a, b, c in zip(linked_params, unlinked_params, numba_params):
        numpy.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-4, atol=1e-6)
        numpy.testing.assert_allclose(a.get_value(), c.get_value(), rtol=1e-4, atol=1e-6)
    times = {"linked": [], "unlinked": [], "numba": []}
    for _ in range(3):  # alternating, against the machine's drift
        for side, step in (("linked", linked), ("unlinked", unlinked), ("numba", numba)):
            times[side].append(ms_a_step(step, args.repeats, x, y))
    on, off, default = (numpy.median(times[side]) for side in ("linked", "unlinked", "numba"))
    rows.append(["MLP 784-500-10 SGD, batch %d" % batch, "%.3f" % on, "%.3f" % off, "%.2fx" % (off / on),
                 "%.3f" % default, ", ".join(linked_ops), ", ".join(unlinked_ops)])
print_table(["step (floatX %s)" % floatX, "CVM linked ms", "CVM unlinked ms", "unlinked / linked",
             "Numba ms", "BLAS Ops linked", "unlinked"], rows)
