"""DL.engine.numba_lstm, the fused LSTM recurrence's kernels, below the Op (tests/test_lstm.py
checks the Op against the scan): edge shapes, the libm switch, the mask's gradient (the
GRU's too), and compiling without a cache folder."""
import os
import subprocess
import sys

import numpy
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from DL.backend import BACKEND
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

pytestmark = pytest.mark.skipif(BACKEND != "pytensor", reason="the fused recurrence is PyTensor's")


def inputs(rng, n_timesteps, n_examples, n, dtype):
    input_part = rng.randn(n_timesteps, n_examples, 4 * n).astype(dtype)
    mask = numpy.ones((n_timesteps, n_examples), dtype)
    U = (0.3 * rng.randn(n, 4 * n)).astype(dtype)
    return input_part, mask, U


def test_one_step_gives_the_lstm_equations_and_no_gradient_for_U(rng):
    from DL.engine import numba_lstm
    forward, backward = numba_lstm.kernels()
    input_part, mask, U = inputs(rng, 1, 2, 3, "float64")
    H, C, G = forward(input_part, mask, U, True)
    sigmoid = 1 / (1 + numpy.exp(-input_part[0, :, :9]))
    i, f, o, g = sigmoid[:, :3], sigmoid[:, 3:6], sigmoid[:, 6:], numpy.tanh(input_part[0, :, 9:])
    assert_allclose(C[0], i * g, rtol=1e-14)  # c_0 = 0: f plays no part
    assert_allclose(H[0], o * numpy.tanh(i * g), rtol=1e-14)
    dA, dU, dmask = backward(mask, U, H, C, G, numpy.ones_like(H), numpy.zeros_like(C), True)
    assert_array_equal(dU, 0)  # h_{-1} = 0
    assert dA.shape == input_part.shape and dmask.shape == mask.shape


def test_fast_false_uses_the_c_librarys_functions(rng):
    from DL.engine import numba_lstm
    forward, _ = numba_lstm.kernels()
    input_part, mask, U = inputs(rng, 4, 3, 8, "float32")
    fast, libm = forward(input_part, mask, U, True), forward(input_part, mask, U, False)
    for a, b in zip(fast, libm):
        assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # the same function, approximated
    assert not all(numpy.array_equal(a, b) for a, b in zip(fast, libm))


def lstm_cost(kernels, input_part, mask, U, weights):
    H, C, _ = kernels[0](input_part, mask, U, True)
    return numpy.sum(H * weights[0]) + numpy.sum(C * weights[1])


def gru_cost(kernels, input_part, mask, U, weights):
    H, _ = kernels[0](input_part, mask, U, True)
    return numpy.sum(H * weights[0])


@pytest.mark.parametrize("name, gates, cost", [("numba_lstm", 4, lstm_cost), ("numba_gru", 3, gru_cost)])
def test_the_masks_gradient_matches_finite_differences(rng, name, gates, cost):
    # n = 40: the backward kernels sum a row's terms in MASK_SUM_LANES partial sums, then the rest
    import importlib
    from DL.engine.numba_recurrence import MASK_SUM_LANES
    kernels = importlib.import_module("DL.engine." + name).kernels()
    n_timesteps, n_examples, n = 3, 2, 40
    assert n > 2 * MASK_SUM_LANES and n % MASK_SUM_LANES
    input_part = rng.randn(n_timesteps, n_examples, gates * n)
    U = 0.3 * rng.randn(n, gates * n)
    mask = numpy.array([[1.0, 1.0], [1.0, 0.5], [0.0, 1.0]])
    weights = [rng.randn(n_timesteps, n_examples, n) for _ in range(2)]
    forward, backward = kernels
    if name == "numba_lstm":
        H, C, G = forward(input_part, mask, U, True)
        dmask = backward(mask, U, H, C, G, weights[0], weights[1], True)[2]
    else:
        H, G = forward(input_part, mask, U, True)
        dmask = backward(mask, U, H, G, weights[0], True)[2]
    numeric = numpy.zeros_like(mask)
    for index in numpy.ndindex(*mask.shape):
        up, down = mask.copy(), mask.copy()
        up[index] += 1e-6
        down[index] -= 1e-6
        numeric[index] = (cost(kernels, input_part, up, U, weights) - cost(kernels, input_part, down, U, weights)) / 2e-6
    assert_allclose(dmask, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.slow
def test_the_kernels_compile_without_a_folder_to_cache_in():
    # a read-only install with no writable home: Numba has nowhere to cache
    code = ("import numpy, numba.core.caching as caching\n"
            "caching.CacheImpl._locator_classes = []\n"
            "from DL.engine import numba_lstm\n"
            "forward, backward = numba_lstm.kernels()\n"
            "H, C, G = forward(numpy.ones((2, 1, 4)), numpy.ones((2, 1)), numpy.eye(1, 4), True)\n"
            "print(H.shape)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG,
                            env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "(2, 1, 1)"
