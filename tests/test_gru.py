"""GRU: step by step against a plain NumPy GRU with a mask (the reset gate
applied to h_{t-1} before its product), gradients through the masked scan
against finite differences (with and without variational dropout), padding
that changes no real step, dropout on the training path only, params."""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import T, function
from DL.models.GRU import GATE_ORDER, GRU

from test_rnn import assert_gradients_match, assert_padding_changes_nothing, float64_params, padded_pair

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


def gru64(rng, x, mask, params=None, dropout_rate=0):
    if params is None:
        params = float64_params(GRU(rng, T.tensor3(), None, N_UNITS, n_in=N_IN).params)
        params[2].set_value(rng.randn(3 * N_UNITS))  # a bias that is not zero
    return GRU(rng, x, mask, N_UNITS, params=params, dropout_rate=dropout_rate, n_in=N_IN)


def test_matches_a_numpy_gru_step_by_step_with_a_mask(rng):
    x, mask, _ = padded_pair(rng, N_IN)
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    gru = gru64(rng, x_var, mask_var)
    W, U, b = [p.get_value() for p in gru.params]
    assert_allclose(function([x_var, mask_var], gru.output)(x, mask), numpy_gru(W, U, b, x, mask), rtol=1e-10)


@pytest.mark.parametrize("dropout_rate", [0, 0.5])
def test_gradients_through_the_masked_scan_match_finite_differences(rng, numeric_grad, dropout_rate):
    """With dropout the masks are drawn once per compiled call without updates, so the cost is fixed."""
    x, mask, _ = padded_pair(rng, N_IN)
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    gru = gru64(rng, x_var, mask_var, dropout_rate=dropout_rate)
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
