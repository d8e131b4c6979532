"""RNN: gradients through the scan against finite differences, the recurrence
against NumPy, masks (padding changes no real step), variational dropout, params,
and clear errors for bad sequences.

Gradient checks run in float64: the model takes float64 shared weights through
`params=` and float64 inputs, so central differences agree to ~1e-7.
The helpers here (`float64_params`, `padded_pair` and the `assert_...` checks
of gradients, steps and padding) serve test_mrnn.py and test_lstm.py as well.
"""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import T, function, grad, shared
from DL.models.RNN import RNN
from DL.utils import flatten

N_IN, N_HIDDEN, N_OUT, STEPS = 3, 4, 3, 5


# --- helpers shared by the recurrent tests ----------------------------------------

def float64_params(params):
    """The nesting of `params` with each leaf copied into a float64 shared variable."""
    return [float64_params(p) if isinstance(p, (list, tuple)) else shared(numpy.asarray(p.get_value(), "float64"))
            for p in params]


def assert_gradients_match(cost, inputs, values, params, numeric_grad):
    """grad(cost) w.r.t. every leaf of `params` equals central differences, at `values`."""
    params = flatten(params)
    # the same dropout masks at every call: random draws held fixed
    analytic = function(inputs, grad(cost, params), no_default_updates=True)(*values)
    cost_at = function(inputs, cost, no_default_updates=True)
    saved = [param.get_value() for param in params]

    def cost_of(*param_values):
        for param, value in zip(params, param_values):
            param.set_value(value)
        return cost_at(*values)

    numeric = numeric_grad(cost_of, saved)
    for param, value in zip(params, saved):
        param.set_value(value)
    for param, exact, approximate in zip(params, analytic, numeric):
        assert numpy.abs(exact).max() > 0, "%s gets no gradient" % param
        assert_allclose(exact, approximate, rtol=1e-5, atol=1e-8, err_msg=str(param))


def padded_pair(rng, n_in, steps=STEPS):
    """(inputs, mask, valid) for 2 sequences: the first real at every step, the
    second padded with junk at its first step and its last two; `valid` are the
    second one's real steps."""
    x = rng.randn(2, steps, n_in)
    mask = numpy.ones((2, steps))
    valid = slice(1, steps - 2)
    mask[1] = 0
    mask[1, valid] = 1
    x[1][mask[1] == 0] = 100 * rng.randn(int((mask[1] == 0).sum()), n_in)  # junk that would show
    return x, mask, valid


def assert_step_matches_scan(model, x_var, x):
    """`model.step`, fed its own state back one step at a time, gives the scan's outputs."""
    x_t, h_tm1 = T.dmatrix("x_t"), T.dmatrix("h_tm1")
    step = function([x_t, h_tm1], list(model.step(x_t, h_tm1)))
    h, outputs = numpy.repeat(model.h0.get_value()[None], len(x), axis=0), []
    for t in range(x.shape[1]):
        h, y = step(x[:, t], h)
        outputs.append(y)
    assert_allclose(numpy.stack(outputs, axis=1), function([x_var], model.output)(x), rtol=1e-10)


def assert_padding_changes_nothing(build, rng, n_in):
    """`build(x, mask)` -> per-step output; the padded sequence's real steps equal
    those of the same sequence alone and unpadded, and the full one is untouched."""
    x, mask, valid = padded_pair(rng, n_in)
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    padded = function([x_var, mask_var], build(x_var, mask_var))(x, mask)
    alone = function([x_var], build(x_var, None))
    assert_allclose(padded[1, valid], alone(x[1:2, valid])[0], rtol=1e-10, atol=1e-12)
    assert_allclose(padded[0], alone(x[:1])[0], rtol=1e-10, atol=1e-12)


# --- the recurrence -----------------------------------------------------------------

def rnn64(rng, x, mask=None, dropout_rate=0, outputActivation="softmax", params=None):
    if params is None:
        params = float64_params(RNN(rng, T.tensor3(), N_IN, N_HIDDEN, N_OUT, outputActivation=outputActivation).params)
        params[0].set_value(rng.randn(N_HIDDEN))  # a learned h0 that is not zero
    return RNN(rng, x, N_IN, N_HIDDEN, N_OUT, dropout_rate=dropout_rate, outputActivation=outputActivation,
               params=params, mask=mask)


def numpy_rnn(params, x, activation=numpy.tanh):
    """The Elman recurrence of the module docstring, step by step, without dropout."""
    h0, (W_h, b_h), (W_o, b_o) = [flatten([p])[0].get_value() if not isinstance(p, list)
                                  else [q.get_value() for q in p] for p in params]
    h = numpy.repeat(h0[None], len(x), axis=0)
    states = []
    for t in range(x.shape[1]):
        h = activation(numpy.concatenate([x[:, t], h], axis=1) @ W_h + b_h)
        states.append(h)
    return numpy.stack(states, axis=1), W_o, b_o


def test_output_follows_the_elman_recurrence(rng):
    x = rng.randn(2, STEPS, N_IN)
    x_var = T.dtensor3("x")
    rnn = rnn64(rng, x_var, outputActivation="linear")
    h, W_o, b_o = numpy_rnn(rnn.params, x)
    output, states = function([x_var], [rnn.output, rnn.h])(x)
    assert output.shape == (2, STEPS, N_OUT)
    assert_allclose(states, h, rtol=1e-10)
    assert_allclose(output, h @ W_o + b_o, rtol=1e-10)


def test_step_matches_the_scan(rng):
    """RNN.step (for generating one step at a time) gives the scan's outputs."""
    x_var = T.dtensor3("x")
    assert_step_matches_scan(rnn64(rng, x_var), x_var, rng.randn(2, STEPS, N_IN))


@pytest.mark.parametrize("outputActivation, targets", [("softmax", "ids"), ("sigmoid", "bits"), ("linear", "real")])
def test_gradients_through_the_masked_scan_match_finite_differences(rng, numeric_grad, outputActivation, targets):
    x, mask, _ = padded_pair(rng, N_IN)
    x_var, mask_var = T.dtensor3("x"), T.dmatrix("mask")
    rnn = rnn64(rng, x_var, mask_var, outputActivation=outputActivation)
    t_var, t = {"ids": (T.lmatrix("t"), rng.randint(N_OUT, size=(2, STEPS))),
                "bits": (T.dtensor3("t"), rng.randint(2, size=(2, STEPS, N_OUT)).astype("float64")),
                "real": (T.dtensor3("t"), rng.randn(2, STEPS, N_OUT))}[targets]
    assert_gradients_match(rnn.loss(t_var), [x_var, mask_var, t_var], [x, mask, t], rnn.params, numeric_grad)


@pytest.mark.slow
def test_gradients_with_dropout_match_finite_differences(rng, numeric_grad):
    """With the masks held fixed (no_default_updates), the dropped recurrence differentiates exactly."""
    x_var, t_var = T.dtensor3("x"), T.lmatrix("t")
    rnn = rnn64(rng, x_var, dropout_rate=0.5)
    x, t = rng.randn(3, STEPS, N_IN), rng.randint(N_OUT, size=(3, STEPS))
    cost = rnn.loss(t_var)
    fixed = function([x_var, t_var], cost, no_default_updates=True)
    assert fixed(x, t) == fixed(x, t)  # same masks
    assert_gradients_match(cost, [x_var, t_var], [x, t], rnn.params, numeric_grad)


def test_padding_changes_no_output_of_a_real_step(rng):
    params = rnn64(rng, T.dtensor3()).params
    assert_padding_changes_nothing(lambda x, mask: rnn64(rng, x, mask, params=params).output, rng, N_IN)


def test_loss_and_errors_count_only_the_real_steps(rng):
    x, mask, valid = padded_pair(rng, N_IN)
    x_var, mask_var, t_var = T.dtensor3("x"), T.dmatrix("mask"), T.lmatrix("t")
    rnn = rnn64(rng, x_var, mask_var)
    probabilities = function([x_var, mask_var], rnn.output)(x, mask)
    t = rng.randint(N_OUT, size=(2, STEPS))
    picked = numpy.take_along_axis(probabilities, t[..., None], axis=-1)[..., 0]
    loss, errors = function([x_var, mask_var, t_var], [rnn.loss(t_var), rnn.errors(t_var)])(x, mask, t)
    assert_allclose(loss, -numpy.log(picked)[mask == 1].mean(), rtol=1e-10)
    assert_allclose(errors, (probabilities.argmax(-1) != t)[mask == 1].mean())


# --- variational dropout ---------------------------------------------------------------

def test_dropout_masks_a_whole_sequence_and_differ_between_sequences_and_calls(rng):
    n, n_hidden = 6, 40
    x_var = T.dtensor3("x")
    rnn = RNN(rng, x_var, N_IN, n_hidden, N_OUT, dropout_rate=0.5)
    hidden = function([x_var], rnn.h, updates=rnn.updates)
    x = numpy.repeat(rng.randn(1, STEPS, N_IN), n, axis=0)  # the same sequence n times
    first, second = hidden(x), hidden(x)
    dropped = first == 0
    assert 0.3 < dropped.mean() < 0.7
    assert (dropped == dropped[:, :1]).all(), "one sequence must lose the same units at every step"
    assert len({row.tobytes() for row in dropped[:, 0]}) == n, "each sequence needs its own mask"
    assert (dropped != (second == 0)).any(), "each call draws new masks"


def test_dropout_is_off_at_prediction(rng):
    x_var = T.dtensor3("x")
    rnn = rnn64(rng, x_var, dropout_rate=0.5)
    twin = rnn64(rng, x_var, dropout_rate=0, params=rnn.params)
    x = rng.randn(3, STEPS, N_IN)
    predict = function([x_var], [rnn.output_deterministic, rnn.pred])
    first, again = predict(x), predict(x)
    expected = function([x_var], [twin.output, twin.pred])(x)
    for a, b, c in zip(first, again, expected):
        assert_allclose(a, b)
        assert_allclose(a, c, rtol=1e-12)
    training = function([x_var], rnn.output, updates=rnn.updates)(x)
    assert numpy.abs(training - first[0]).max() > 1e-3
    assert rnn.updates and not twin.updates


# --- params and bad input ----------------------------------------------------------------

def test_params_nest_as_h0_then_each_layer_and_load_back(rng):
    x_var = T.tensor3("x")
    rnn = RNN(rng, x_var, N_IN, N_HIDDEN, N_OUT)
    h0, (W_h, b_h), (W_o, b_o) = rnn.params
    assert [p.get_value().shape for p in (h0, W_h, b_h, W_o, b_o)] == [
        (N_HIDDEN,), (N_IN + N_HIDDEN, N_HIDDEN), (N_HIDDEN,), (N_HIDDEN, N_OUT), (N_OUT,)]
    values = [h0.get_value() + 1, [W_h.get_value(), b_h.get_value()], [W_o.get_value(), b_o.get_value()]]
    loaded = RNN(rng, x_var, N_IN, N_HIDDEN, N_OUT, params=values)
    assert_allclose(loaded.h0.get_value(), values[0])
    assert_allclose(float(rnn.L2_sqr.eval()), (W_h.get_value() ** 2).sum() + (W_o.get_value() ** 2).sum(),
                    rtol=1e-5)


def test_bad_sequences_are_clear_errors(rng):
    with pytest.raises(ValueError, match=r"input must be \(n_examples, n_timesteps, n_in=3\).*got a 2-D"):
        RNN(rng, T.matrix("x"), N_IN, N_HIDDEN, N_OUT)
    with pytest.raises(ValueError, match=r"mask must be \(n_examples, n_timesteps\).*got a 3-D"):
        RNN(rng, T.tensor3("x"), N_IN, N_HIDDEN, N_OUT, mask=T.tensor3("mask"))
    with pytest.raises(ValueError, match="dropout_rate"):
        RNN(rng, T.tensor3("x"), N_IN, N_HIDDEN, N_OUT, dropout_rate=1)
    with pytest.raises(ValueError, match="params= must be a list of 3"):
        RNN(rng, T.tensor3("x"), N_IN, N_HIDDEN, N_OUT, params=[1, 2])


@pytest.mark.parametrize("mask_shape", [(2, STEPS - 1), (3, STEPS), (2, STEPS + 1)])
def test_a_mask_that_does_not_fit_the_input_is_a_clear_error_at_run_time(rng, mask_shape):
    x_var, mask_var = T.tensor3("x"), T.matrix("mask")
    rnn = RNN(rng, x_var, N_IN, N_HIDDEN, N_OUT, mask=mask_var)
    run = function([x_var, mask_var], rnn.output)
    x = rng.randn(2, STEPS, N_IN).astype(x_var.dtype)
    with pytest.raises(ValueError, match=r"mask must have the shape \(n_examples, n_timesteps\)"):
        run(x, numpy.ones(mask_shape, dtype=mask_var.dtype))
    assert run(x, numpy.ones((2, STEPS), dtype=mask_var.dtype)).shape == (2, STEPS, N_OUT)
