"""LSTM: step by step against a plain NumPy LSTM with a mask, gradients through
its scan against finite differences, padding that changes no real step, the
fused and orthogonal weights; the fused recurrence Op against the scan, and on
the Numba and JAX engines; and mean pooling over the valid steps."""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import BACKEND, T, function
from DL.models.LSTM import GATE_ORDER, LSTM
from DL.pooling import mean_pool

from recurrence_checks import assert_all_close, engines_test, float32_twins
from recurrence_checks import outputs_and_gradients as pooled_outputs_and_gradients
from test_rnn import assert_gradients_match, assert_padding_changes_nothing, float64_params, padded_pair

N_UNITS, STEPS = 3, 5


def sigmoid(a):
    return 1 / (1 + numpy.exp(-a))


def numpy_lstm(W, U, b, x, mask):
    """Each gate with its own slice of W, U and b, one example and one step at a time."""
    n = N_UNITS
    block = {gate: slice(i * n, (i + 1) * n) for i, gate in enumerate(GATE_ORDER)}
    outputs = numpy.zeros(x.shape[:2] + (n,))
    for example in range(x.shape[0]):
        h, c = numpy.zeros(n), numpy.zeros(n)
        for t in range(x.shape[1]):
            def gate(name, squash):
                return squash(x[example, t] @ W[:, block[name]] + h @ U[:, block[name]] + b[block[name]])
            i, f, o, g = gate("i", sigmoid), gate("f", sigmoid), gate("o", sigmoid), gate("c", numpy.tanh)
            if mask[example, t]:  # a padded step keeps c and h as they were
                c = f * c + i * g
                h = o * numpy.tanh(c)
            outputs[example, t] = h
    return outputs


def lstm64(rng, x, mask, params=None):
    if params is None:
        params = float64_params(LSTM(rng, T.tensor3(), None, N_UNITS).params)
        params[2].set_value(rng.randn(4 * N_UNITS))  # a bias that is not zero
    return LSTM(rng, x, mask, N_UNITS, params=params)


def test_matches_a_numpy_lstm_step_by_step_with_a_mask(rng):
    x, mask, _ = padded_pair(rng, N_UNITS)
    mask[0, 2] = 0  # a hole inside the first sequence too
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    lstm = lstm64(rng, x_var, mask_var)
    W, U, b = [p.get_value() for p in lstm.params]
    assert_allclose(function([x_var, mask_var], lstm.output)(x, mask), numpy_lstm(W, U, b, x, mask), rtol=1e-10)


def test_gradients_through_the_masked_scan_match_finite_differences(rng, numeric_grad):
    x, mask, _ = padded_pair(rng, N_UNITS)
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    lstm = lstm64(rng, x_var, mask_var)
    readout = rng.randn(N_UNITS)
    cost = T.sum(mean_pool(lstm.output, mask_var) * readout)  # what a classifier on top sees
    assert_gradients_match(cost, [x_var, mask_var], [x, mask], lstm.params, numeric_grad)


def test_padding_changes_no_output_of_a_real_step(rng):
    params = lstm64(rng, T.dtensor3(), None).params
    assert_padding_changes_nothing(lambda x, mask: lstm64(rng, x, mask, params=params).output, rng, N_UNITS)


def test_weights_are_fused_orthogonal_blocks(rng):
    n = 6
    lstm = LSTM(rng, T.tensor3("x"), T.matrix("mask"), n)
    W, U, b = [p.get_value() for p in lstm.params]
    assert W.shape == U.shape == (n, 4 * n) and b.shape == (4 * n,) and not b.any()
    for weights in (W, U):
        for k in range(4):
            block = weights[:, k * n:(k + 1) * n].astype("float64")
            assert_allclose(block.T @ block, numpy.eye(n), atol=1e-5)
    assert_allclose(float(lstm.L2_sqr.eval()), (W ** 2).sum() + (U ** 2).sum(), rtol=1e-5)
    assert lstm.output_deterministic is lstm.output and lstm.updates == []


def outputs_and_gradients(lstm, x_var, mask_var, mode=None):
    """A function of (x, mask) giving h and the gradients of a cost on h and c
    with respect to W, U, b, x and the mask."""
    readout = numpy.arange(1, N_UNITS + 1).astype(lstm.h.dtype)
    return pooled_outputs_and_gradients(lstm, x_var, mask_var, readout, T.sum(lstm.c ** 2), mode)


def masked_batch(rng, dtype):
    x = rng.randn(2, STEPS, N_UNITS).astype(dtype)
    mask = numpy.ones((2, STEPS), dtype)
    mask[0, 3:] = 0      # padding at the end
    mask[1, 1] = 0.5     # a soft mask: its gradient is checked too
    return x, mask


@pytest.mark.skipif(BACKEND != "pytensor", reason="the fused Op is PyTensor's; Theano runs the scan")
def test_the_fused_recurrence_equals_the_scan_with_its_gradients(rng):
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    scan = lstm64(rng, x_var, mask_var)
    fused = LSTM(rng, x_var, mask_var, N_UNITS, params=scan.params, fused=True)
    assert fused.fused and not LSTM(rng, x_var, mask_var, N_UNITS, fused=False).fused
    assert lstm64(rng, x_var, mask_var).fused  # the default on PyTensor with tanh
    scan = LSTM(rng, x_var, mask_var, N_UNITS, params=scan.params, fused=False)
    x, mask = masked_batch(rng, "float64")
    assert_all_close(outputs_and_gradients(fused, x_var, mask_var)(x, mask),
                     outputs_and_gradients(scan, x_var, mask_var)(x, mask), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="fused=True needs PyTensor and the tanh activation"):
        LSTM(rng, x_var, mask_var, N_UNITS, activation="relu", fused=True)


@pytest.mark.skipif(BACKEND != "pytensor", reason="the fused Op is PyTensor's; Theano runs the scan")
@pytest.mark.parametrize("fast_tanh", ["1", "0"])
@pytest.mark.slow
def test_the_fused_float32_recurrence_matches_the_scan(rng, monkeypatch, fast_tanh):
    # float32 with 19 units, so that the kernels' vectorized loops run (and their
    # remainders); DL_FAST_TANH=0 swaps DL's sigmoid and tanh for the C library's
    monkeypatch.setenv("DL_FAST_TANH", fast_tanh)
    n_units, steps = 19, 7
    fused, scan, x_var, mask_var = float32_twins(
        rng, lambda x, mask, fused, params: LSTM(rng, x, mask, n_units, params=params, fused=fused), 4 * n_units)
    x = rng.randn(3, steps, n_units).astype("float32")
    mask = numpy.ones((3, steps), "float32")
    mask[0, 4:], mask[1, 2] = 0, 0.5
    readout = numpy.linspace(-1, 1, n_units).astype("float32")
    results = [pooled_outputs_and_gradients(lstm, x_var, mask_var, readout, T.sum(lstm.c ** 2), "CVM")(x, mask)
               for lstm in (fused, scan)]
    # (float32 sums of about 20 terms of size up to 6, added in different orders: 3e-6 apart)
    assert_all_close(*results, rtol=1e-5, atol=1e-5)


def on_engines(rng):
    """(a function of the mode, its inputs): the fused LSTM's outputs and gradients."""
    x_var = T.tensor3("x", shape=(2, STEPS, N_UNITS))  # (fixed shapes, for JAX)
    mask_var = T.matrix("mask", shape=(2, STEPS))
    lstm = LSTM(rng, x_var, mask_var, N_UNITS)
    return (lambda mode: outputs_and_gradients(lstm, x_var, mask_var, mode=mode)), masked_batch(rng, x_var.dtype)


test_the_fused_recurrence_runs_on_the_numba_and_jax_engines = engines_test(on_engines)


def test_mean_pool_averages_the_valid_steps(rng):
    h, mask = rng.randn(3, 4, 2), numpy.array([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0]], dtype="float64")
    h_var, mask_var = T.dtensor3("h"), T.dmatrix("mask")
    pooled = function([h_var, mask_var], mean_pool(h_var, mask_var))(h, mask)
    assert_allclose(pooled[0], h[0, :2].mean(axis=0))
    assert_allclose(pooled[1], h[1].mean(axis=0))
    assert_allclose(pooled[2], 0)  # no valid step: zeros, not 0 / 0
    assert_allclose(function([h_var], mean_pool(h_var))(h), h.mean(axis=1))
    with pytest.raises(ValueError, match=r"mask must be \(n_examples, n_timesteps\)"):
        mean_pool(h_var, T.dtensor3())


def test_bad_input_is_a_clear_error(rng):
    with pytest.raises(ValueError, match=r"input must be \(n_examples, n_timesteps, n_in=4\).*got a 2-D"):
        LSTM(rng, T.matrix("x"), T.matrix("mask"), 4)
    with pytest.raises(ValueError, match=r"mask must be \(n_examples, n_timesteps\)"):
        LSTM(rng, T.tensor3("x"), T.vector("mask"), 4)
    x_var, mask_var = T.tensor3("x"), T.matrix("mask")
    run = function([x_var, mask_var], LSTM(rng, x_var, mask_var, 4).output)
    x = numpy.zeros((2, STEPS, 4), dtype=x_var.dtype)
    with pytest.raises(ValueError, match="mask must have the shape"):
        run(x, numpy.ones((2, STEPS - 1), dtype=x.dtype))
