"""GRU: step by step against a plain NumPy GRU with a mask (the reset gate
applied to h_{t-1} before its product), gradients through the masked scan and
through the fused Op against finite differences (with and without variational
dropout), padding that changes no real step, dropout on the training path only,
params; the fused recurrence Op against the scan (float64 and float32, ragged
masks, inside Bidirectional), where it cannot run, and on the Numba and JAX engines."""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import BACKEND, T, function
from DL.models import Bidirectional
from DL.models.GRU import GATE_ORDER, GRU
from DL.pooling import mean_pool

from recurrence_checks import assert_all_close, engines_test, float32_twins
from recurrence_checks import outputs_and_gradients as pooled_outputs_and_gradients
from test_rnn import assert_gradients_match, assert_padding_changes_nothing, float64_params, padded_pair

needs_pytensor = pytest.mark.skipif(BACKEND != "pytensor", reason="the fused Op is PyTensor's; Theano runs the scan")
FUSED_OR_SCAN = [False, pytest.param(True, marks=needs_pytensor)]

N_IN, N_UNITS, STEPS = 2, 3, 5


def sigmoid(a):
    return 1 / (1 + numpy.exp(-a))


def numpy_gru(W, U, b, x, mask):
    """Cho et al. 2014, one example and one step at a time, each gate with its own slices."""
    n = N_UNITS
    block = {gate: slice(i * n, (i + 1) * n) for i, gate in enumerate(GATE_ORDER)}
    outputs = numpy.zeros(x.shape[:2] + (n,))
    for example in range(x.shape[0]):
        h = numpy.zeros(n)
        for t in range(x.shape[1]):
            x_t, g = x[example, t], block
            z = sigmoid(x_t @ W[:, g["z"]] + h @ U[:, g["z"]] + b[g["z"]])
            r = sigmoid(x_t @ W[:, g["r"]] + h @ U[:, g["r"]] + b[g["r"]])
            candidate = numpy.tanh(x_t @ W[:, g["g"]] + (r * h) @ U[:, g["g"]] + b[g["g"]])
            if mask[example, t]:  # a padded step keeps h as it was
                h = z * h + (1 - z) * candidate
            outputs[example, t] = h
    return outputs


def gru64(rng, x, mask, params=None, dropout_rate=0, fused=None):
    if params is None:
        params = float64_params(GRU(rng, T.tensor3(), None, N_UNITS, n_in=N_IN).params)
        params[2].set_value(rng.randn(3 * N_UNITS))  # a bias that is not zero
    return GRU(rng, x, mask, N_UNITS, params=params, dropout_rate=dropout_rate, n_in=N_IN, fused=fused)


@pytest.mark.parametrize("fused", FUSED_OR_SCAN)
def test_matches_a_numpy_gru_step_by_step_with_a_mask(rng, fused):
    x, mask, _ = padded_pair(rng, N_IN)
    mask[0, 2] = 0  # a hole inside the first sequence too
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    gru = gru64(rng, x_var, mask_var, fused=fused)
    W, U, b = [p.get_value() for p in gru.params]
    assert_allclose(function([x_var, mask_var], gru.output)(x, mask), numpy_gru(W, U, b, x, mask), rtol=1e-10)


@pytest.mark.parametrize("dropout_rate, fused", [(0, False), (0.5, False), pytest.param(0, True, marks=needs_pytensor)])
def test_gradients_through_the_masked_recurrence_match_finite_differences(rng, numeric_grad, dropout_rate, fused):
    """The scan's (with dropout the masks are drawn once per compiled call without
    updates, so the cost is fixed) and the fused Op's."""
    x, mask, _ = padded_pair(rng, N_IN)
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    gru = gru64(rng, x_var, mask_var, dropout_rate=dropout_rate, fused=fused)
    cost = T.sum(gru.output ** 2) + T.sum(gru.output[:, -1])
    assert_gradients_match(cost, [x_var, mask_var], [x, mask], gru.params, numeric_grad)


def test_padding_changes_no_output_of_a_real_step(rng):
    params = gru64(rng, T.dtensor3(), None).params
    assert_padding_changes_nothing(lambda x, mask: gru64(rng, x, mask, params=params).output, rng, N_IN)


def test_dropout_masks_whole_sequences_in_training_only(rng):
    n, n_units = 6, 40
    x_var = T.dtensor3("x")
    gru = GRU(rng, x_var, None, n_units, dropout_rate=0.5, n_in=N_IN)
    x = numpy.repeat(rng.randn(1, STEPS, N_IN), n, axis=0)  # the same sequence n times
    training = function([x_var], gru.output, updates=gru.updates)
    first, second = training(x), training(x)
    dropped = first == 0
    assert 0.3 < dropped.mean() < 0.7
    assert (dropped == dropped[:, :1]).all(), "one sequence must lose the same units at every step"
    assert len({row.tobytes() for row in dropped[:, 0]}) == n, "each sequence needs its own mask"
    assert (dropped != (second == 0)).any(), "each call draws new masks"
    twin = GRU(rng, x_var, None, n_units, params=gru.params, n_in=N_IN)
    predict = function([x_var], gru.output_deterministic)
    assert_allclose(predict(x), function([x_var], twin.output)(x), rtol=1e-6)
    assert_allclose(predict(x), predict(x))
    assert gru.updates and not twin.updates


def test_params_weights_and_bad_input(rng):
    gru = GRU(rng, T.tensor3(), None, N_UNITS, n_in=N_IN)
    W, U, b = [p.get_value() for p in gru.params]
    assert W.shape == (N_IN, 3 * N_UNITS) and U.shape == (N_UNITS, 3 * N_UNITS) and not b.any()
    for block in numpy.split(U, 3, axis=1):
        assert_allclose(block.T @ block, numpy.eye(N_UNITS), atol=1e-5)
    assert_allclose(float(gru.L2_sqr.eval()), (W ** 2).sum() + (U ** 2).sum(), rtol=1e-5)
    assert GRU(rng, T.tensor3(), None, N_UNITS).W.get_value().shape == (N_UNITS, 3 * N_UNITS)  # n_in = n_units
    with pytest.raises(ValueError, match="3-D"):
        GRU(rng, T.matrix(), None, N_UNITS)
    with pytest.raises(ValueError, match="n_units"):
        GRU(rng, T.tensor3(), None, 0)
    with pytest.raises(ValueError, match="shape"):
        GRU(rng, T.tensor3(), None, N_UNITS, params=[W, U[:, :3], b])


# --- the fused recurrence (DL.engine.gru_op) against the scan ------------------

def outputs_and_gradients(gru, x_var, mask_var, readout=None, mode=None):
    """A function of (x, mask) giving h and the gradients of a cost on h (pooled over
    the valid steps, and every step squared) with respect to W, U, b, x and the mask."""
    if readout is None:
        readout = numpy.arange(1, N_UNITS + 1).astype(gru.h.dtype)
    return pooled_outputs_and_gradients(gru, x_var, mask_var, readout, T.sum(gru.output ** 2), mode)


def ragged_batch(rng, dtype, n_in=N_IN, steps=STEPS):
    """3 sequences: one real at every step, one padded after 2 steps, one with a
    hole and a soft mask (0.5, whose gradient is checked too)."""
    x = rng.randn(3, steps, n_in).astype(dtype)
    mask = numpy.ones((3, steps), dtype)
    mask[1, 2:] = 0
    mask[2, 1], mask[2, 3] = 0, 0.5
    return x, mask


@needs_pytensor
def test_the_fused_recurrence_equals_the_scan_with_its_gradients(rng):
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    scan = gru64(rng, x_var, mask_var, fused=False)
    fused = gru64(rng, x_var, mask_var, params=scan.params, fused=True)
    assert fused.fused and not scan.fused
    assert gru64(rng, x_var, mask_var).fused  # the default on PyTensor with tanh and no dropout
    x, mask = ragged_batch(rng, "float64")
    # (float64, the same operations in other orders: a few ulp apart)
    assert_all_close(outputs_and_gradients(fused, x_var, mask_var)(x, mask),
                     outputs_and_gradients(scan, x_var, mask_var)(x, mask), rtol=1e-10, atol=1e-12)


@needs_pytensor
@pytest.mark.parametrize("fast_tanh", ["1", "0"])
@pytest.mark.slow
def test_the_fused_float32_recurrence_matches_the_scan(rng, monkeypatch, fast_tanh):
    # float32 with 19 units, so that the kernels' vectorized loops run (and their
    # remainders); DL_FAST_TANH=0 swaps DL's sigmoid and tanh for the C library's
    monkeypatch.setenv("DL_FAST_TANH", fast_tanh)
    n_in, n_units, steps = 5, 19, 7
    fused, scan, x_var, mask_var = float32_twins(
        rng, lambda x, mask, fused, params: GRU(rng, x, mask, n_units, n_in=n_in, params=params, fused=fused),
        3 * n_units)
    x, mask = ragged_batch(rng, "float32", n_in, steps)
    readout = numpy.linspace(-1, 1, n_units).astype("float32")
    results = [outputs_and_gradients(gru, x_var, mask_var, readout, mode="CVM")(x, mask) for gru in (fused, scan)]
    # (float32 sums of about 20 terms of size up to 10, added in different orders, and
    # DL's float32 sigmoid and tanh against PyTensor's: a few 1e-6 apart)
    assert_all_close(*results, rtol=1e-5, atol=2e-5)


@needs_pytensor
def test_fused_true_is_a_clear_error_where_the_op_cannot_run(rng):
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    with pytest.raises(ValueError, match=r"GRU: fused=True needs PyTensor, the tanh activation and "
                                         r"dropout_rate=0 \(the fused Op has no dropout mask\)"):
        GRU(rng, x_var, mask_var, N_UNITS, n_in=N_IN, dropout_rate=0.5, fused=True)
    with pytest.raises(ValueError, match="fused=True needs PyTensor, the tanh activation"):
        GRU(rng, x_var, mask_var, N_UNITS, n_in=N_IN, activation="relu", fused=True)
    # where it cannot run, the default is the scan
    assert not GRU(rng, x_var, mask_var, N_UNITS, n_in=N_IN, dropout_rate=0.5).fused
    assert not GRU(rng, x_var, mask_var, N_UNITS, n_in=N_IN, activation="relu").fused


@needs_pytensor
def test_bidirectional_gives_the_same_with_the_fused_recurrence(rng):
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    made = {}

    def direction(fused):
        def layer(x, mask, name):  # float64 weights per direction, shared by both wrappers
            if name not in made:
                made[name] = gru64(rng, x, mask).params
            return gru64(rng, x, mask, params=made[name], fused=fused)
        return layer

    x, mask = ragged_batch(rng, "float64")
    results = []
    for fused in (True, False):
        both = Bidirectional(direction(fused), x_var, mask_var)
        assert [layer.fused for layer in both.layers] == [fused, fused]
        cost = T.sum(mean_pool(both.output, mask_var) ** 2) + T.sum(both.output[:, 0])
        gradients = T.grad(cost, both.forward.params + both.backward.params + [x_var])
        results.append(function([x_var, mask_var], [both.output] + gradients)(x, mask))
    assert_all_close(*results, rtol=1e-10, atol=1e-12)


def on_engines(rng):
    """(a function of the mode, its inputs): the fused GRU's outputs and gradients."""
    x_var = T.tensor3("x", shape=(3, STEPS, N_IN))  # (fixed shapes, for JAX)
    mask_var = T.matrix("mask", shape=(3, STEPS))
    gru = GRU(rng, x_var, mask_var, N_UNITS, n_in=N_IN)
    assert gru.fused
    return (lambda mode: outputs_and_gradients(gru, x_var, mask_var, mode=mode)), ragged_batch(rng, x_var.dtype)


test_the_fused_recurrence_runs_on_the_numba_and_jax_engines = engines_test(on_engines)
