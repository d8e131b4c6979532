"""Bidirectional layers and pooling over time: the reversal of each sequence's
valid steps against NumPy, both directions against their layer run on the
sequence and on its reverse, padding that changes no output of a real step in
either direction (LSTM, GRU and RNN's hidden recurrence), max and last pooling
over the valid steps, and gradients through the wrapper."""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import T, function
from DL.models import GRU, LSTM, RNN, Bidirectional
from DL.models.Bidirectional import reversal_index
from DL.pooling import last_pool, max_pool, mean_pool

from test_rnn import assert_gradients_match, assert_padding_changes_nothing, float64_params

N_IN, N_UNITS, STEPS = 3, 3, 5


def numpy_reversal(mask):
    index = numpy.tile(numpy.arange(mask.shape[1]), (len(mask), 1))
    for row, valid in zip(index, mask > 0):
        row[valid] = row[valid][::-1]
    return index


def test_the_reversal_mirrors_the_valid_steps_and_leaves_the_padding():
    mask = numpy.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [0, 1, 1, 0, 1], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]], "float64")
    mask_var = T.dmatrix("mask")
    index = function([mask_var], reversal_index(mask_var, mask_var.shape[1]))(mask)
    assert index.tolist() == numpy_reversal(mask).tolist()
    assert index[1].tolist() == [2, 1, 0, 3, 4]  # padding at the end (pad_and_mask's layout): t -> L - 1 - t


def direction_builder(rng, kind):
    """layer(input, mask, name) for the wrapper, with float64 weights kept per direction,
    so every wrapper built from it shares them."""
    made = {}

    def layer(x, mask, name):
        if kind == "RNN":
            build = lambda params: RNN(rng, x, N_IN, N_UNITS, 2, params=params, mask=mask, name=name)  # noqa: E731
        else:
            build = lambda params: {"LSTM": LSTM, "GRU": GRU}[kind](  # noqa: E731
                rng, x, mask, N_UNITS, params=params, name=name)
        if name not in made:
            made[name] = float64_params(build(None).params)
        return build(made[name])
    return layer


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_padding_changes_no_output_of_a_real_step_in_either_direction(rng, kind):
    layer = direction_builder(rng, kind)
    assert_padding_changes_nothing(lambda x, mask: Bidirectional(layer, x, mask).output, rng, N_IN)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_each_half_is_its_direction_run_on_the_sequence_or_its_reverse(rng, kind):
    layer = direction_builder(rng, kind)
    x_var = T.dtensor3("x")
    wrapper = Bidirectional(layer, x_var)
    forward = layer(x_var, None, "Bidirectional.forward")
    backward = layer(x_var, None, "Bidirectional.backward")
    states = (lambda model: model.h) if kind == "RNN" else (lambda model: model.output)
    x = rng.randn(2, STEPS, N_IN)
    both, ahead, behind = function([x_var], [wrapper.output, states(forward), states(backward)])(x)
    assert both.shape == (2, STEPS, 2 * N_UNITS) and wrapper.n_units == 2 * N_UNITS
    assert_allclose(both[..., :N_UNITS], ahead, rtol=1e-12)
    assert_allclose(both[..., N_UNITS:], function([x_var], states(backward))(x[:, ::-1])[:, ::-1], rtol=1e-12)
    assert not numpy.allclose(both[..., N_UNITS:], behind)  # it really ran backwards
    assert len(wrapper.params) == 2 and wrapper.params[0] is not wrapper.params[1]


@pytest.mark.slow
def test_gradients_through_the_masked_wrapper_and_pooling_match_finite_differences(rng, numeric_grad):
    layer = direction_builder(rng, "GRU")
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    wrapper = Bidirectional(layer, x_var, mask_var)
    mask = numpy.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], "float64")
    x = rng.randn(2, STEPS, N_IN)
    cost = T.sum(max_pool(wrapper.output, mask_var) ** 2) + T.sum(mean_pool(wrapper.output, mask_var))
    assert_gradients_match(cost, [x_var, mask_var], [x, mask], wrapper.params, numeric_grad)


def test_dropout_of_the_directions_reaches_the_training_output_only(rng):
    x_var = T.tensor3("x")
    wrapper = Bidirectional(lambda x, m, name: GRU(rng, x, m, 20, dropout_rate=0.5, n_in=N_IN, name=name), x_var)
    assert len(wrapper.updates) == 2
    x = rng.randn(2, STEPS, N_IN).astype(x_var.dtype)
    training = function([x_var], wrapper.output, updates=wrapper.updates)(x)
    predict = function([x_var], wrapper.output_deterministic)
    assert (training == 0).any() and not (predict(x) == 0).any()
    assert_allclose(predict(x), predict(x))


def test_max_and_last_pool_over_the_valid_steps(rng):
    h = rng.randn(4, STEPS, 2)
    mask = numpy.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], [0, 1, 1, 0, 1]], "float64")
    h_var, mask_var = T.dtensor3("h"), T.dmatrix("mask")
    largest, last = function([h_var, mask_var], [max_pool(h_var, mask_var), last_pool(h_var, mask_var)])(h, mask)
    for n in (0, 1, 3):
        assert_allclose(largest[n], h[n][mask[n] == 1].max(axis=0))
        assert_allclose(last[n], h[n][mask[n] == 1][-1])
    assert_allclose(largest[2], 0) and assert_allclose(last[2], 0)  # no valid step: zeros
    unmasked = function([h_var], [max_pool(h_var), last_pool(h_var)])(h)
    assert_allclose(unmasked[0], h.max(axis=1)) and assert_allclose(unmasked[1], h[:, -1])


def test_bad_input_is_a_clear_error(rng):
    with pytest.raises(TypeError, match="function"):
        Bidirectional(LSTM(rng, T.tensor3(), None, N_UNITS), T.tensor3())
    with pytest.raises(ValueError, match="3-D"):
        Bidirectional(lambda x, m, name: LSTM(rng, x, m, N_UNITS, name=name), T.matrix())
    for pool in (max_pool, last_pool, mean_pool):
        with pytest.raises(ValueError, match="n_examples, n_timesteps"):
            pool(T.tensor3(), T.tensor3())
