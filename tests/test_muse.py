"""MUSE: the gated recurrence against NumPy, hooks, gradients, causality, params=.

Float64 graphs; helpers from test_use.
"""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import function
from DL.models.MUSE import MUSE
from DL.models.MultiplicativeLayer import MultiplicativeLayer

from test_use import (N_ACT, N_HIDDEN, N_OBS, assert_causal, assert_gradients_match, assert_round_trip,
                      float64_copy, np_next_observation_errors, np_next_observation_loss, np_recurrence,
                      np_softmax, sequences, values_of, walks)

N_FACT = 3


def muse64(rng, activation="softmax", dropout_rate=0, params=None, n_fact=N_FACT):
    obs, act = sequences()
    model = MUSE(rng, obs, act, N_OBS, N_ACT, N_HIDDEN, n_fact=n_fact, dropout_rate=dropout_rate,
                 outputActivation=activation, params=params)
    if params is None:
        return muse64(rng, activation, dropout_rate, float64_copy(model.params), n_fact)
    return model


def np_gated(state, gate, W_fi, W_of, W_fm, W_om, b):
    return numpy.tanh(((state @ W_fi) * (gate @ W_fm)) @ W_of + gate @ W_om + b)


def test_the_observation_gates_the_filter_and_the_action_the_transform(rng):
    obs, act = walks(rng, n_examples=3, n_steps=5)
    muse = muse64(rng)
    assert isinstance(muse.hLayer, MultiplicativeLayer) and isinstance(muse.kLayer, MultiplicativeLayer)
    h, k, y = function([muse.obs, muse.act], [muse.h_t, muse.k_t, muse.output])(obs, act)
    k0, filter_params, transform_params, (W_y, b_y) = values_of(muse.params)
    assert filter_params[2].shape == (N_OBS, N_FACT) and transform_params[2].shape == (N_ACT, N_FACT)
    h_np, k_np = np_recurrence(k0, lambda k, o: np_gated(k, o, *filter_params),
                               lambda h, a: np_gated(h, a, *transform_params), obs, act)
    assert_allclose(h, h_np, rtol=1e-10)
    assert_allclose(k, k_np, rtol=1e-10)
    assert_allclose(y, np_softmax(k_np @ W_y + b_y), rtol=1e-10)


@pytest.mark.parametrize("activation", ["softmax", "sigmoid", "linear"])
def test_hooks_have_their_shapes_and_values(rng, activation):
    obs, act = walks(rng, n_examples=3, n_steps=5)
    muse = muse64(rng, activation)
    output, pred, h, k, loss, errors = function(
        [muse.obs, muse.act], [muse.output, muse.pred, muse.h_t, muse.k_t, muse.loss(), muse.errors()])(obs, act)
    assert output.shape == (3, 5, N_OBS) and h.shape == k.shape == (3, 5, N_HIDDEN)
    assert pred.shape == ((3, 5) if activation == "softmax" else (3, 5, N_OBS))
    assert_allclose(loss, np_next_observation_loss(output, obs, activation), rtol=1e-10)
    assert_allclose(errors, np_next_observation_errors(output, obs, activation), rtol=1e-6)  # error rates are floatX


@pytest.mark.slow
def test_gradients_match_finite_differences_with_dropout(rng, numeric_grad):
    obs, act = walks(rng, n_examples=2, n_steps=4)
    muse = muse64(rng, dropout_rate=0.3)
    assert_gradients_match(muse.loss() + 1e-3 * muse.L2_sqr, muse.params, [muse.obs, muse.act], [obs, act],
                           numeric_grad)


def test_prediction_reads_the_past_and_the_current_action_only(rng):
    obs, act = walks(rng, n_examples=2, n_steps=6)
    muse = muse64(rng)
    assert_causal(function([muse.obs, muse.act], muse.output_deterministic), obs, act, t=2, action_counts=True)


def test_params_round_trip_and_n_fact_defaults_to_n_hidden(rng):
    obs, act = walks(rng)
    assert_round_trip(lambda params: muse64(rng, params=params),
                      lambda model: function([model.obs, model.act], [model.output])(obs, act))
    muse = muse64(rng, n_fact=None)
    assert len(muse.params) == 4
    assert muse.hLayer.W_fi.get_value().shape == (N_HIDDEN, N_HIDDEN)


def test_bad_n_fact_is_refused(rng):
    obs, act = sequences()
    with pytest.raises(ValueError, match="n_fact"):
        MUSE(rng, obs, act, N_OBS, N_ACT, N_HIDDEN, n_fact=0)
