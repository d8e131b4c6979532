"""MultiplicativeLayer against NumPy, and the MRNN: its recurrence is the
layer's unit with input h_{t-1} and multiplier x_t, gradients through its scan
match finite differences, padding changes no real step, dropout is off at prediction."""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import T, function
from DL.models.MRNN import MRNN
from DL.models.MultiplicativeLayer import MultiplicativeLayer

from test_rnn import (assert_gradients_match, assert_padding_changes_nothing, assert_step_matches_scan,
                      float64_params, padded_pair)

N_IN, N_HIDDEN, N_OUT, N_FACT, STEPS = 3, 4, 3, 2, 5


def numpy_unit(weights, input, mult, activation=numpy.tanh):
    """The factored unit of Sutskever et al. (2011), written with explicit per-example
    transition matrices W(mult) = W_fi diag(mult W_fm) W_of, not the layer's factorized products."""
    W_fi, W_of, W_fm, W_om, b = weights
    output = numpy.empty(input.shape[:-1] + (W_of.shape[1],))
    for index in numpy.ndindex(input.shape[:-1]):
        transition = W_fi @ numpy.diag(mult[index] @ W_fm) @ W_of
        output[index] = activation(input[index] @ transition + mult[index] @ W_om + b)
    return output


@pytest.mark.parametrize("variable, shape", [(T.dmatrix, (4,)), (T.dtensor3, (2, 3))])
def test_multiplicative_layer_matches_numpy(rng, variable, shape):
    input, mult = variable("input"), variable("mult")
    layer = MultiplicativeLayer(rng, input, mult, n_in=N_IN, n_out=N_OUT, n_mult=2, n_fact=N_FACT)
    weights = [p.get_value().astype("float64") for p in layer.params]
    assert [w.shape for w in weights] == [(N_IN, N_FACT), (N_FACT, N_OUT), (2, N_FACT), (2, N_OUT), (N_OUT,)]
    weights[-1] = rng.randn(N_OUT)
    layer.b.set_value(weights[-1].astype(layer.b.dtype))
    x, m = rng.randn(*shape + (N_IN,)), rng.randn(*shape + (2,))
    assert_allclose(function([input, mult], layer.output)(x, m), numpy_unit(weights, x, m), rtol=2e-5, atol=1e-6)
    assert layer.output_deterministic is layer.output
    assert_allclose(float(layer.L2_sqr.eval()), sum((w ** 2).sum() for w in weights[:4]), rtol=1e-5)
    assert_allclose(float(layer.L1.eval()), sum(numpy.abs(w).sum() for w in weights[:4]), rtol=1e-5)


def test_multiplicative_layer_bad_input(rng):
    with pytest.raises(ValueError, match="mult must be .* the rank of input"):
        MultiplicativeLayer(rng, T.matrix("input"), T.tensor3("mult"), N_IN, N_OUT, 2, N_FACT)
    with pytest.raises(ValueError, match="n_fact"):
        MultiplicativeLayer(rng, T.matrix("input"), T.matrix("mult"), N_IN, N_OUT, 2, 0)
    with pytest.raises(ValueError, match="params= must be a list of 5"):
        MultiplicativeLayer(rng, T.matrix("input"), T.matrix("mult"), N_IN, N_OUT, 2, N_FACT, params=[1])


def mrnn64(rng, x, mask=None, dropout_rate=0, params=None):
    if params is None:
        params = float64_params(MRNN(rng, T.tensor3(), N_IN, N_HIDDEN, N_OUT, N_FACT).params)
        params[0].set_value(rng.randn(N_HIDDEN))
    return MRNN(rng, x, N_IN, N_HIDDEN, N_OUT, N_FACT, dropout_rate=dropout_rate, params=params, mask=mask)


def test_the_input_gates_the_transition(rng):
    """h_t = tanh(h_{t-1} W(x_t) + x_t W_hx + b): the unit with input h_{t-1}, multiplier x_t."""
    x = rng.randn(2, STEPS, N_IN)
    x_var = T.dtensor3("x")
    mrnn = mrnn64(rng, x_var)
    weights = [p.get_value() for p in mrnn.hiddenLayer.params]
    h = numpy.repeat(mrnn.h0.get_value()[None], 2, axis=0)
    states = []
    for t in range(STEPS):
        h = numpy_unit(weights, h, x[:, t])
        states.append(h)
    assert_allclose(function([x_var], mrnn.h)(x), numpy.stack(states, axis=1), rtol=1e-10)


def test_step_matches_the_scan(rng):
    x_var = T.dtensor3("x")
    assert_step_matches_scan(mrnn64(rng, x_var), x_var, rng.randn(2, STEPS, N_IN))


@pytest.mark.parametrize("dropout_rate", [0, 0.5])
def test_gradients_through_the_scan_match_finite_differences(rng, numeric_grad, dropout_rate):
    x, mask, _ = padded_pair(rng, N_IN)
    x_var, mask_var, t_var = T.dtensor3("x"), T.dmatrix("mask"), T.lmatrix("t")
    mrnn = mrnn64(rng, x_var, mask_var, dropout_rate=dropout_rate)
    t = rng.randint(N_OUT, size=(2, STEPS))
    assert_gradients_match(mrnn.loss(t_var), [x_var, mask_var, t_var], [x, mask, t], mrnn.params, numeric_grad)


def test_padding_changes_no_output_of_a_real_step(rng):
    params = mrnn64(rng, T.dtensor3()).params
    assert_padding_changes_nothing(lambda x, mask: mrnn64(rng, x, mask, params=params).output, rng, N_IN)


def test_dropout_is_off_at_prediction_and_on_in_training(rng):
    x_var = T.dtensor3("x")
    mrnn = mrnn64(rng, x_var, dropout_rate=0.5)
    twin = mrnn64(rng, x_var, params=mrnn.params)
    x = rng.randn(3, STEPS, N_IN)
    assert_allclose(function([x_var], mrnn.output_deterministic)(x), function([x_var], twin.output)(x), rtol=1e-12)
    hidden = function([x_var], mrnn.h, updates=mrnn.updates)(x)
    dropped = hidden == 0
    assert dropped.any() and (dropped == dropped[:, :1]).all()


def test_params_nest_and_bad_input(rng):
    mrnn = MRNN(rng, T.tensor3("x"), N_IN, N_HIDDEN, N_OUT, N_FACT)
    h0, unit, output = mrnn.params
    assert [p.get_value().shape for p in unit] == [(N_HIDDEN, N_FACT), (N_FACT, N_HIDDEN), (N_IN, N_FACT),
                                                   (N_IN, N_HIDDEN), (N_HIDDEN,)]
    assert h0.get_value().shape == (N_HIDDEN,) and len(output) == 2
    with pytest.raises(ValueError, match=r"\(n_examples, n_timesteps, n_in=3\)"):
        MRNN(rng, T.matrix("x"), N_IN, N_HIDDEN, N_OUT, N_FACT)
    with pytest.raises(ValueError, match="n_fact"):
        MRNN(rng, T.tensor3("x"), N_IN, N_HIDDEN, N_OUT, n_fact=0)
