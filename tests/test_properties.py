"""Properties that hold for every input, checked by hypothesis; and numerical
robustness through optimize().

Losses: finite, non-negative, scalar, for logits up to +-1e4 (saturated softmax and
sigmoid, where probabilities round to 0 and 1 in float32); softmax NLL does not change
when a constant is added to a row of logits; padded steps (mask 0) change nothing.
Update rules: finite parameters of unchanged shape and dtype; one sgd step is exactly
p - lr g; a zero gradient leaves parameters unchanged for every rule started from
rest.  Exact evaluation: set_error is the mean over exactly the chosen examples,
whatever batch_size.  Clipping: the joint gradient norm after clipping is
min(norm, bound), direction kept.  Each graph compiles once; hypothesis only feeds it.
"""
import numpy
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from DL import losses, updates
from DL.activations import sigmoid, softmax
from DL.backend import T, function, grad, shared
from DL.models.HiddenLayer import HiddenLayer
from DL.models.LogisticRegression import LogisticRegression
from DL.optimizers import NonFiniteCostError, optimize
from DL.optimizers.training import set_error
from DL.utils import load_data

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

logit_values = st.floats(-1e4, 1e4, allow_nan=False, width=32)
shapes_2d = st.tuples(st.integers(1, 6), st.integers(2, 5))


def float32_arrays(shape, elements=logit_values):
    return arrays("float32", shape, elements=elements)


@st.composite
def logits_and_classes(draw):
    n, k = draw(shapes_2d)
    logits = draw(float32_arrays((n, k)))
    classes = draw(arrays("int64", (n,), elements=st.integers(0, k - 1)))
    return logits, classes


# --- losses, compiled once --------------------------------------------------------------

@pytest.fixture(scope="module")
def compiled_losses():
    a, t, bits, y = T.fmatrix("a"), T.lvector("t"), T.fmatrix("bits"), T.fmatrix("y")
    multiclass = losses.nll_multiclass(softmax(a), t)
    binary = losses.nll_binary(sigmoid(a), bits)
    a3, t3, mask = T.ftensor3("a3"), T.lmatrix("t3"), T.fmatrix("mask")
    return {
        "multiclass": function([a, t], [multiclass, grad(multiclass, a)]),
        "binary": function([a, bits], [binary, grad(binary, a)]),
        "mse": function([a, y], losses.mse(a, y)),
        "masked": function([a3, t3, mask], losses.nll_multiclass(softmax(a3), t3, mask)),
    }


def log_softmax64(a):
    a = a.astype("float64")
    shifted = a - a.max(axis=-1, keepdims=True)
    return shifted - numpy.log(numpy.exp(shifted).sum(axis=-1, keepdims=True))


@FAST
@given(data=logits_and_classes())
def test_softmax_nll_is_finite_non_negative_and_matches_log_softmax(compiled_losses, data):
    logits, classes = data
    loss, gradient = compiled_losses["multiclass"](logits, classes)
    assert numpy.ndim(loss) == 0 and numpy.isfinite(loss) and loss >= 0
    assert gradient.shape == logits.shape and numpy.all(numpy.isfinite(gradient))
    expected = -log_softmax64(logits)[numpy.arange(len(classes)), classes].mean()
    assert loss == pytest.approx(expected, rel=1e-5, abs=1e-5 * (1 + float(numpy.abs(logits).max())))


@FAST
@given(data=logits_and_classes(), shift=st.floats(-1e3, 1e3, width=32))
def test_softmax_nll_ignores_a_constant_added_to_the_logits(compiled_losses, data, shift):
    logits, classes = data
    shifted = (logits + numpy.float32(shift)).astype("float32")
    # float32 rounds logits + shift; compare with the loss of the rounded logits' own differences
    scale = 1 + float(numpy.abs(logits).max()) + abs(shift)
    assert compiled_losses["multiclass"](shifted, classes)[0] == pytest.approx(
        compiled_losses["multiclass"](logits, classes)[0], abs=1e-5 * scale)


@FAST
@given(data=st.data())
def test_binary_nll_is_finite_non_negative_and_matches_softplus(compiled_losses, data):
    shape = data.draw(shapes_2d)
    logits = data.draw(float32_arrays(shape))
    bits = data.draw(arrays("float32", shape, elements=st.sampled_from([0.0, 1.0])))
    loss, gradient = compiled_losses["binary"](logits, bits)
    assert numpy.ndim(loss) == 0 and numpy.isfinite(loss) and loss >= 0
    assert numpy.all(numpy.isfinite(gradient))
    a = logits.astype("float64")
    expected = numpy.mean(bits * numpy.logaddexp(0, -a) + (1 - bits) * numpy.logaddexp(0, a))
    assert loss == pytest.approx(expected, rel=1e-5, abs=1e-5)


@FAST
@given(data=st.data())
def test_mse_is_non_negative_and_zero_on_the_targets(compiled_losses, data):
    shape = data.draw(shapes_2d)
    small = st.floats(-1e3, 1e3, width=32)
    output, targets = data.draw(float32_arrays(shape, small)), data.draw(float32_arrays(shape, small))
    assert compiled_losses["mse"](output, targets) >= 0
    assert compiled_losses["mse"](output, output) == 0


@FAST
@given(data=st.data())
def test_padded_steps_change_nothing(compiled_losses, data):
    n, steps, k = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 5)), data.draw(st.integers(2, 4))
    lengths = data.draw(arrays("int64", (n,), elements=st.integers(1, steps)))
    mask = (numpy.arange(steps)[None, :] < lengths[:, None]).astype("float32")
    logits = data.draw(float32_arrays((n, steps, k), st.floats(-50, 50, width=32)))
    classes = data.draw(arrays("int64", (n, steps), elements=st.integers(0, k - 1)))
    loss = compiled_losses["masked"](logits, classes, mask)
    # anything at all on the padding: other logits, other classes
    noise = data.draw(float32_arrays((n, steps, k), st.floats(-1e4, 1e4, width=32)))
    padded = mask[..., None] == 0
    changed_logits = numpy.where(padded, noise, logits).astype("float32")
    changed_classes = numpy.where(mask == 0, (classes + 1) % k, classes)
    assert compiled_losses["masked"](changed_logits, changed_classes, mask) == loss
    valid = mask == 1
    expected = -log_softmax64(logits)[valid, classes[valid]].mean()
    assert loss == pytest.approx(expected, rel=1e-5, abs=1e-5)


# --- update rules, compiled once ------------------------------------------------------

RULES = ["sgd", "momentum", "nesterov_momentum", "rmsprop", "rmsprop_graves", "adadelta", "adam"]
SHAPE = (3, 4)


@pytest.fixture(scope="module")
def steps():
    """For each rule: (one step as a function of (values, gradient), its state variables)."""
    compiled = {}
    for name in RULES:
        param = shared(numpy.zeros(SHAPE, dtype="float32"), name="param")
        gradient = T.fmatrix("gradient")
        pairs = updates.get(name)([param], [gradient])
        step = function([gradient], [], updates=pairs)
        state = [variable for variable, _ in pairs if variable is not param]
        compiled[name] = (param, step, state)
    return compiled


def take_step(steps, name, values, gradient):
    """One step of rule `name` from rest (its state at zero) at `values`."""
    param, step, state = steps[name]
    param.set_value(values)
    for variable in state:
        variable.set_value(numpy.zeros_like(variable.get_value()))
    step(gradient)
    return param.get_value()


moderate = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@FAST
@given(values=float32_arrays(SHAPE, moderate), gradient=float32_arrays(SHAPE, moderate))
def test_every_rule_gives_finite_params_of_the_same_shape_and_dtype(steps, values, gradient):
    for name in RULES:
        new = take_step(steps, name, values, gradient)
        assert new.shape == SHAPE and new.dtype == numpy.float32, name
        assert numpy.all(numpy.isfinite(new)), name


EXACT_RATE = 2.0 ** -7  # a power of two: lr * g is exact in float32


@pytest.fixture(scope="module")
def sgd_exact():
    param, gradient = shared(numpy.zeros(SHAPE, dtype="float32")), T.fmatrix("gradient")
    return param, function([gradient], [], updates=updates.sgd([param], [gradient], learning_rate=EXACT_RATE))


dyadic = st.integers(-2 ** 14, 2 ** 14).map(lambda k: k * EXACT_RATE)  # p, g and p - lr g exact in float32


@FAST
@given(values=float32_arrays(SHAPE, dyadic), gradient=float32_arrays(SHAPE, dyadic))
def test_an_sgd_step_is_exactly_minus_learning_rate_times_the_gradient(sgd_exact, values, gradient):
    """Where p - lr g is representable, the step is exactly that, bit for bit."""
    param, step = sgd_exact
    param.set_value(values)
    step(gradient)
    numpy.testing.assert_array_equal(param.get_value() - values, -EXACT_RATE * gradient)


@FAST
@given(values=float32_arrays(SHAPE, moderate), gradient=float32_arrays(SHAPE, moderate))
def test_an_sgd_step_is_within_one_rounding_of_minus_learning_rate_times_the_gradient(steps, values, gradient):
    """Elsewhere the engine rounds p - 0.01 g to float32 once (fused) or twice: within 1 ulp."""
    new = take_step(steps, "sgd", values, gradient)
    exact = values.astype("float64") - numpy.float64(numpy.float32(0.01)) * gradient.astype("float64")
    numpy.testing.assert_array_max_ulp(new, exact.astype("float32"), maxulp=1)


@FAST
@given(values=float32_arrays(SHAPE, moderate))
def test_a_zero_gradient_moves_no_rule_from_rest(steps, values):
    for name in RULES:
        numpy.testing.assert_array_equal(take_step(steps, name, values, numpy.zeros(SHAPE, "float32")),
                                         values, err_msg=name)


# --- exact evaluation and clipping ------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_set_error_is_the_mean_over_exactly_the_chosen_examples(data):
    n_examples = data.draw(st.integers(1, 300))
    batch_size = data.draw(st.integers(1, 64))
    errors = numpy.array(data.draw(st.lists(st.floats(0, 1), min_size=n_examples, max_size=n_examples)))

    def error_function(i):  # what a compiled error function returns: the minibatch's mean
        return errors[i * batch_size:(i + 1) * batch_size].mean()
    assert set_error(error_function, n_examples, batch_size) == pytest.approx(errors.mean(), abs=1e-12)
    n_batches = -(-n_examples // batch_size)
    chosen = sorted(data.draw(st.sets(st.integers(0, n_batches - 1), min_size=1)))
    rows = numpy.concatenate([numpy.arange(i * batch_size, min((i + 1) * batch_size, n_examples))
                              for i in chosen])
    assert set_error(error_function, n_examples, batch_size, chosen) == pytest.approx(errors[rows].mean(),
                                                                                       abs=1e-12)


BOUNDS = (1e-3, 1.0, 1e3)


@pytest.fixture(scope="module")
def clip():
    a, b = T.dmatrix("a"), T.dvector("b")
    return {bound: function([a, b], updates.total_norm_constraint([a, b], bound)) for bound in BOUNDS}


@FAST
@given(a=arrays("float64", (3, 2), elements=st.floats(-1e6, 1e6)),
       b=arrays("float64", (4,), elements=st.floats(-1e6, 1e6)),
       bound=st.sampled_from(BOUNDS))
# found by CI: a norm of 0.0625 clipped to 1e-3 fell 1.6e-6 short while the rule divided by norm + 1e-7
@example(a=numpy.zeros((3, 2)), b=numpy.full(4, 0.03125), bound=1e-3)
def test_clipping_gives_norm_min_of_norm_and_bound_and_keeps_the_direction(clip, a, b, bound):
    clipped_a, clipped_b = clip[bound](a, b)
    norm = numpy.sqrt(numpy.sum(a ** 2) + numpy.sum(b ** 2))
    clipped_norm = numpy.sqrt(numpy.sum(clipped_a ** 2) + numpy.sum(clipped_b ** 2))
    assert clipped_norm == pytest.approx(min(norm, bound), rel=1e-6, abs=1e-9)
    scale = bound / max(norm, bound)  # (the engine holds the constants in float32: rtol 1e-6)
    numpy.testing.assert_allclose(clipped_a, a * scale, rtol=1e-6, atol=1e-12)
    numpy.testing.assert_allclose(clipped_b, b * scale, rtol=1e-6, atol=1e-12)


# --- numerical robustness through optimize() ---------------------------------------

def regression_sets(scale, seed=0):
    rng = numpy.random.RandomState(seed)

    def one(n):
        x = (rng.randn(n, 4) * scale).astype("float32")
        return [x, (x @ numpy.ones((4, 1))).astype("float32")]
    return [one(40), one(10), one(10)]


QUIET = dict(progress=False, verbose=False)


def test_a_saturated_softmax_trains_with_a_finite_loss_and_gradient():
    """Logits of 1e4: float32 softmax gives probabilities of exactly 0 and 1, whose
    log would be -inf; the loss from the logits stays finite and training moves."""
    rng = numpy.random.RandomState(0)
    sets = [[rng.randn(n, 5).astype("float32"), rng.randint(0, 3, n)] for n in (30, 10, 10)]
    x, t = T.matrix("x"), T.lvector("t")
    W = numpy.zeros((5, 3), "float32")
    W[:, 0] = 1e4 / 5  # every example's class-0 logit is huge (its features are ~N(0, 1)): saturated
    model = LogisticRegression(None, x, 5, 3, params=[W, numpy.zeros(3, "float32")])
    probabilities = function([x], model.output)(sets[0][0])
    assert numpy.sum(probabilities == 0) > 0  # saturated: log(p) would be -inf
    result = optimize(dataset=load_data(sets), inputs=[x, t], cost=model.loss(t), params=model.params,
                      errors=model.errors(t), optimizer="sgd", learning_rate=1e-3, n_epochs=2,
                      batch_size=10, validation_frequency=1, **QUIET)
    costs = [record["train_cost"] for record in result.history]
    assert all(numpy.isfinite(costs)) and costs[0] > 100  # huge but finite
    assert not numpy.array_equal(model.W.get_value(), W)


def linear_regression(max_grad_norm, learning_rate):
    x, y = T.matrix("x"), T.matrix("y")
    model = HiddenLayer(None, x, 4, 1, activation="linear", params=[numpy.zeros((4, 1), "float32"),
                                                                   numpy.zeros(1, "float32")])
    result = optimize(dataset=load_data(regression_sets(scale=100.0)), inputs=[x, y], cost=model.loss(y),
                      params=model.params, errors=model.errors(y), optimizer="sgd", learning_rate=learning_rate,
                      n_epochs=3, batch_size=10, max_grad_norm=max_grad_norm, **QUIET)
    return model, result


def test_an_exploding_run_stops_naming_where_and_clipping_keeps_it_finite():
    with pytest.raises(NonFiniteCostError, match=r"epoch \d+, minibatch \d/4"):
        linear_regression(max_grad_norm=None, learning_rate=0.01)
    model, result = linear_regression(max_grad_norm=1.0, learning_rate=0.01)
    values = numpy.concatenate([model.W.get_value().ravel(), model.b.get_value()])
    assert numpy.all(numpy.isfinite(values))
    # every step moved the parameters by at most learning_rate * max_grad_norm
    assert numpy.linalg.norm(values) <= result.iterations * 0.01 * 1.0 * (1 + 1e-5)
    assert all(numpy.isfinite(record["train_cost"]) for record in result.history)
