"""EUSE: observation ids through an embedding; hooks, gradients (the embedding too),
ids and one-hot input agree, params=, bad input.

Float64 graphs; helpers from test_use.
"""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import T, function
from DL.models.EUSE import EUSE

from test_use import (DEEP, N_ACT, N_HIDDEN, N_OBS, assert_causal, assert_gradients_match, assert_round_trip,
                      float64_copy, np_next_observation_errors, np_next_observation_loss, sequences,
                      values_of, walks)

E_OBS = 2


def euse64(rng, activation="softmax", dropout_rate=0, params=None, onehot=False):
    obs, act = sequences(obs_ndim=3 if onehot else 2, obs_dtype="float64" if onehot else "int64")
    model = EUSE(rng, obs, act, N_OBS, E_OBS, N_ACT, N_HIDDEN, dropout_rate=dropout_rate,
                 outputActivation=activation, params=params, **DEEP)
    if params is None:
        return euse64(rng, activation, dropout_rate, float64_copy(model.params), onehot)
    return model


@pytest.mark.parametrize("activation", ["softmax", "sigmoid", "linear"])
def test_hooks_have_their_shapes_and_values(rng, activation):
    """Targets are the next ids (softmax) or their one-hot vectors (sigmoid, linear)."""
    onehot, act = walks(rng, n_examples=3, n_steps=5)
    ids = onehot.argmax(-1)
    euse = euse64(rng, activation)
    output, pred, h, loss, errors = function(
        [euse.obs, euse.act], [euse.output, euse.pred, euse.h_t, euse.loss(), euse.errors()])(ids, act)
    assert output.shape == (3, 5, N_OBS) and h.shape == (3, 5, N_HIDDEN)
    assert pred.shape == ((3, 5) if activation == "softmax" else (3, 5, N_OBS))
    assert_allclose(loss, np_next_observation_loss(output, onehot, activation), rtol=1e-10)
    assert_allclose(errors, np_next_observation_errors(output, onehot, activation), rtol=1e-6)  # error rates are floatX


@pytest.mark.slow
def test_ids_and_onehot_observations_give_the_same_predictions(rng):
    onehot, act = walks(rng, n_examples=3, n_steps=5)
    by_ids = euse64(rng)
    by_onehot = euse64(rng, params=values_of(by_ids.params), onehot=True)
    from_ids = function([by_ids.obs, by_ids.act], [by_ids.output, by_ids.loss()])(onehot.argmax(-1), act)
    from_onehot = function([by_onehot.obs, by_onehot.act], [by_onehot.output, by_onehot.loss()])(onehot, act)
    for a, b in zip(from_ids, from_onehot):
        assert_allclose(a, b, rtol=1e-10)


@pytest.mark.slow
def test_gradients_match_finite_differences_with_dropout(rng, numeric_grad):
    onehot, act = walks(rng, n_examples=2, n_steps=4)
    euse = euse64(rng, dropout_rate=0.3)
    assert_gradients_match(euse.loss() + 1e-3 * euse.L2_sqr, euse.params, [euse.obs, euse.act],
                           [onehot.argmax(-1), act], numeric_grad)


def test_prediction_reads_the_past_and_the_current_action_only(rng):
    onehot, act = walks(rng, n_examples=2, n_steps=6)
    euse = euse64(rng)
    predict = function([euse.obs, euse.act], euse.output_deterministic)
    assert_causal(lambda obs, act: predict(obs.argmax(-1), act), onehot, act, t=2, action_counts=True)


def test_params_nest_with_the_embedding_second_and_round_trip(rng):
    onehot, act = walks(rng)
    euse = euse64(rng)
    assert len(euse.params) == 10 and euse.params[1] == [euse.embeddingLayer.W]
    assert euse.embeddingLayer.W.get_value().shape == (N_OBS, E_OBS)
    assert_round_trip(lambda params: euse64(rng, params=params),
                      lambda model: function([model.obs, model.act], [model.output])(onehot.argmax(-1), act))


def test_bad_input_is_refused(rng):
    _, act = sequences()
    with pytest.raises(TypeError, match="integer tensor"):
        EUSE(rng, T.matrix(), act, N_OBS, E_OBS, N_ACT, N_HIDDEN)
    with pytest.raises(ValueError, match="e_obs"):
        EUSE(rng, T.lmatrix(), act, N_OBS, 0, N_ACT, N_HIDDEN)
    with pytest.raises(ValueError, match=r"ff_trans\[0\]"):
        EUSE(rng, T.lmatrix(), act, N_OBS, E_OBS, N_ACT, N_HIDDEN, ff_trans=[-1])
