"""The update rules of DL.updates, checked three ways.

1. Against an independent NumPy implementation of each rule's equations (the
   papers' notation), step by step, on a quadratic loss whose gradient depends
   on the parameters, so the rules' state (velocities, running averages, step
   counts) is exercised.
2. Against the classic toy problem f(X) = sum([0.1, 0.2, 0.3] * X**2),
   A = B = ones(3), loss f(A) + f(B), 10 steps: the torch.optim reference values
   Lasagne's test_updates.py publishes.
3. Bad hyperparameters and arguments fail with a ValueError naming the problem.
"""
import inspect

import numpy
import pytest
from numpy.testing import assert_allclose

from DL import updates
from DL.backend import T, function, grad, shared


# --- independent NumPy references ---------------------------------------------
# Each takes (p, g, state, t, **hyper) and returns the new p; `state` is a
# per-parameter dict holding the rule's running quantities, `t` counts steps from 1.

def np_sgd(p, g, state, t, learning_rate):
    return p - learning_rate * g


def np_momentum(p, g, state, t, learning_rate, momentum):
    state["v"] = momentum * state.get("v", 0.0) - learning_rate * g
    return p + state["v"]


def np_nesterov_momentum(p, g, state, t, learning_rate, momentum):
    # Sutskever et al. 2013, in the form of Bengio et al. 2013 (Lasagne's): the
    # stored parameter is the look-ahead point p + m v.
    state["v"] = momentum * state.get("v", 0.0) - learning_rate * g
    return p + momentum * state["v"] - learning_rate * g


def np_rmsprop_tieleman(p, g, state, t, learning_rate, rho, epsilon):
    # Tieleman and Hinton 2012, lecture 6.5.
    state["r"] = rho * state.get("r", 0.0) + (1 - rho) * g ** 2
    return p - learning_rate * g / numpy.sqrt(state["r"] + epsilon)


def np_rmsprop_graves(p, g, state, t, learning_rate, rho, momentum, epsilon):
    # Graves 2013, "Generating sequences with RNNs", eq. 38-41: the original package's rmsprop.
    state["n"] = rho * state.get("n", 0.0) + (1 - rho) * g ** 2
    state["g"] = rho * state.get("g", 0.0) + (1 - rho) * g
    state["delta"] = (momentum * state.get("delta", 0.0)
                      - learning_rate * g / numpy.sqrt(state["n"] - state["g"] ** 2 + epsilon))
    return p + state["delta"]


def np_adadelta(p, g, state, t, learning_rate, rho, epsilon):
    # Zeiler 2012, Algorithm 1 (times a learning rate, 1 in the paper).
    state["Eg2"] = rho * state.get("Eg2", 0.0) + (1 - rho) * g ** 2
    delta = -numpy.sqrt(state.get("Edx2", 0.0) + epsilon) / numpy.sqrt(state["Eg2"] + epsilon) * g
    state["Edx2"] = rho * state.get("Edx2", 0.0) + (1 - rho) * delta ** 2
    return p + learning_rate * delta


def np_adam(p, g, state, t, learning_rate, beta1, beta2, epsilon):
    # Kingma and Ba 2015, Algorithm 1 with the bias corrections folded into the
    # step size (end of their section 2).
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g ** 2
    step_size = learning_rate * numpy.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    return p - step_size * state["m"] / (numpy.sqrt(state["v"]) + epsilon)


REFERENCES = {
    "sgd": np_sgd,
    "momentum": np_momentum,
    "nesterov_momentum": np_nesterov_momentum,
    "rmsprop": np_rmsprop_graves,
    "rmsprop_graves": np_rmsprop_graves,
    "rmsprop_tieleman": np_rmsprop_tieleman,
    "adadelta": np_adadelta,
    "adam": np_adam,
}

# Non-default hyperparameters, so a keyword that is ignored shows.
HYPER = {
    "sgd": dict(learning_rate=0.05),
    "momentum": dict(learning_rate=0.05, momentum=0.7),
    "nesterov_momentum": dict(learning_rate=0.05, momentum=0.7),
    "rmsprop": dict(learning_rate=0.01, rho=0.9, momentum=0.8, epsilon=1e-3),
    "rmsprop_graves": dict(learning_rate=0.01, rho=0.9, momentum=0.8, epsilon=1e-3),
    "rmsprop_tieleman": dict(learning_rate=0.01, rho=0.8, epsilon=1e-4),
    "adadelta": dict(learning_rate=0.5, rho=0.9, epsilon=1e-5),
    "adam": dict(learning_rate=0.02, beta1=0.8, beta2=0.99, epsilon=1e-6),
}

# Defaults the issue fixes: Graves' (and the original package's) constants,
# Zeiler's adadelta, Kingma and Ba's adam.
DOCUMENTED_DEFAULTS = {
    "rmsprop": dict(learning_rate=1e-4, rho=0.95, momentum=0.9, epsilon=1e-4),
    "rmsprop_graves": dict(learning_rate=1e-4, rho=0.95, momentum=0.9, epsilon=1e-4),
    "rmsprop_tieleman": dict(learning_rate=0.001, rho=0.9, epsilon=1e-6),
    "adadelta": dict(learning_rate=1.0, rho=0.95, epsilon=1e-6),
    "adam": dict(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8),
}


# --- a quadratic problem whose gradient moves with the parameters ------------

class Quadratic(object):
    """loss = sum_i sum(0.5 c_i p_i^2 + d_i p_i), so grad_i = c_i p_i + d_i."""

    def __init__(self, dtype, seed=0):
        rng = numpy.random.RandomState(seed)
        shapes = [(3, 4), (5,)]
        self.initial = [rng.randn(*shape) for shape in shapes]
        self.c = [rng.uniform(0.5, 2.0, size=shape) for shape in shapes]
        self.d = [rng.randn(*shape) for shape in shapes]
        self.params = [shared(value.astype(dtype), name="p%d" % i)
                       for i, value in enumerate(self.initial)]
        self.loss = sum(T.sum(0.5 * c * p ** 2 + d * p) for p, c, d in zip(self.params, self.c, self.d))

    def grads_of(self, values):
        return [c * p + d for p, c, d in zip(values, self.c, self.d)]


def reference_trajectory(name, problem, steps, hyper):
    """The params after each of `steps` steps of the NumPy reference, in float64."""
    values = [value.copy() for value in problem.initial]
    states = [{} for _ in values]
    trajectory = []
    for t in range(1, steps + 1):
        gradients = problem.grads_of(values)
        values = [REFERENCES[name](p, g, state, t, **hyper)
                  for p, g, state in zip(values, gradients, states)]
        trajectory.append(values)
    return trajectory


def compiled_trajectory(name, problem, steps, hyper):
    """The params after each step of the DL rule, compiled."""
    rule_updates = updates.get(name)(problem.params, grad(problem.loss, problem.params), **hyper)
    step = function([], [], updates=rule_updates)
    trajectory = []
    for _ in range(steps):
        step()
        trajectory.append([p.get_value() for p in problem.params])
    return trajectory


def assert_same_trajectory(actual, expected, initial, rtol):
    """Each step's displacement from the start agrees to `rtol`, relative to its size."""
    for t, (actual_step, expected_step) in enumerate(zip(actual, expected), start=1):
        for actual_value, expected_value, start in zip(actual_step, expected_step, initial):
            assert_allclose(actual_value - start, expected_value - start, rtol=rtol,
                            err_msg="after step %d" % t)


# Under floatX=float32 the engine makes Python-float hyperparameters float32
# constants (Theano's autocast), so even float64 steps use coefficients rounded
# to float32: ~1e-8 of the displacement here.  adam keeps its step count and
# bias correction sqrt(1 - beta2^t) / (1 - beta1^t) in float64 (in float32,
# 1 - 0.999 is 1.3e-5 off and the first step would be 6.6e-6 short), so it
# meets the same tolerance.  A wrong equation is off by far more than either.
RTOL_FLOAT64 = 1e-6
RTOL_FLOAT64_ADAM = RTOL_FLOAT64


RULES = sorted(REFERENCES)


def test_every_rule_has_a_reference():
    assert set(updates.rules) == set(REFERENCES)


@pytest.mark.parametrize("name", RULES)
def test_steps_match_numpy_reference_float64(name):
    problem = Quadratic("float64")
    expected = reference_trajectory(name, problem, 4, HYPER[name])
    actual = compiled_trajectory(name, problem, 4, HYPER[name])
    rtol = RTOL_FLOAT64_ADAM if name == "adam" else RTOL_FLOAT64
    assert_same_trajectory(actual, expected, problem.initial, rtol)
    # the parameters moved: the check above compared something
    assert not numpy.allclose(actual[-1][0], problem.initial[0])


@pytest.mark.parametrize("name", RULES)
def test_float32_params_stay_float32(name):
    problem = Quadratic("float32")
    rule_updates = updates.get(name)(problem.params, grad(problem.loss, problem.params), **HYPER[name])
    for variable, new_value in rule_updates:
        assert new_value.dtype == variable.dtype, (variable, new_value.dtype)
    step = function([], [], updates=rule_updates)
    expected = reference_trajectory(name, problem, 3, HYPER[name])
    actual = []
    for _ in range(3):
        step()
        actual.append([p.get_value() for p in problem.params])
    assert all(value.dtype == numpy.float32 for value in actual[-1])
    assert_same_trajectory(actual, expected, problem.initial, rtol=1e-4)


@pytest.mark.parametrize("name", RULES)
def test_a_shared_learning_rate_is_a_schedule(name):
    """A shared variable as learning_rate (a schedule the user sets between steps)
    gives the reference's steps, each at the value it holds when the step runs."""
    problem = Quadratic("float64")
    hyper = dict(HYPER[name])
    initial_rate = hyper.pop("learning_rate")
    schedule = [initial_rate * factor for factor in (1.0, 0.5, 0.1)]
    learning_rate = shared(numpy.float64(schedule[0]), name="learning_rate")
    rule_updates = updates.get(name)(problem.params, grad(problem.loss, problem.params),
                                     learning_rate=learning_rate, **hyper)
    step = function([], [], updates=rule_updates)
    actual, expected = [], []
    values, states = [value.copy() for value in problem.initial], [{} for _ in problem.initial]
    for t, rate in enumerate(schedule, start=1):
        learning_rate.set_value(numpy.float64(rate))
        step()
        actual.append([p.get_value() for p in problem.params])
        values = [REFERENCES[name](p, g, state, t, learning_rate=rate, **hyper)
                  for p, g, state in zip(values, problem.grads_of(values), states)]
        expected.append(values)
    rtol = RTOL_FLOAT64_ADAM if name == "adam" else RTOL_FLOAT64
    assert_same_trajectory(actual, expected, problem.initial, rtol)


@pytest.mark.parametrize("name", sorted(DOCUMENTED_DEFAULTS))
def test_documented_defaults(name):
    signature = inspect.signature(updates.get(name))
    defaults = {key: parameter.default for key, parameter in signature.parameters.items()
                if parameter.default is not inspect.Parameter.empty}
    assert defaults == DOCUMENTED_DEFAULTS[name]
    # and the rule called without keywords computes with them
    problem = Quadratic("float64", seed=1)
    expected = reference_trajectory(name, problem, 3, DOCUMENTED_DEFAULTS[name])
    actual = compiled_trajectory(name, problem, 3, {})
    assert_same_trajectory(actual, expected, problem.initial, RTOL_FLOAT64_ADAM)


# --- the toy problem with published values -------------------------------------

TORCH_VALUES = {
    "sgd": ({"learning_rate": 0.1}, [0.81707280688755, 0.6648326359915, 0.5386151140949]),
    "momentum": ({"learning_rate": 0.1, "momentum": 0.5},
                 [0.6848486952183, 0.44803321781003, 0.27431190123502]),
    "nesterov_momentum": ({"learning_rate": 0.1, "momentum": 0.5},
                          [0.67466543592725, 0.44108468114241, 0.2769002108997]),
    "rmsprop_tieleman": ({"learning_rate": 0.01, "rho": 0.9, "epsilon": 1e-6},
                [0.83205403985348, 0.83205322744821, 0.83205295664444]),
    "adadelta": ({}, [0.95453237704725, 0.9545237471374, 0.95452214847397]),
    "adam": ({"learning_rate": 0.01}, [0.90034972009036, 0.90034967993061, 0.90034966654402]),
}

TOY_WEIGHTS = numpy.array([0.1, 0.2, 0.3])


def toy_run(name, hyper, dtype, loss_or_grads="loss"):
    """10 steps on f(A) + f(B) from ones; returns A and B."""
    A = shared(numpy.ones(3, dtype=dtype), name="A")
    B = shared(numpy.ones(3, dtype=dtype), name="B")
    loss = T.sum(TOY_WEIGHTS * A ** 2) + T.sum(TOY_WEIGHTS * B ** 2)
    second = loss if loss_or_grads == "loss" else grad(loss, [A, B])
    step = function([], [], updates=updates.get(name)([A, B], second, **hyper))
    for _ in range(10):
        step()
    return A.get_value(), B.get_value()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(TORCH_VALUES))
def test_toy_problem_matches_torch(name, dtype):
    hyper, expected = TORCH_VALUES[name]
    A, B = toy_run(name, hyper, dtype)
    assert A.dtype == dtype
    assert_allclose(A, expected, rtol=1e-5, atol=1e-8)
    assert_allclose(A, B, rtol=1e-7)


@pytest.mark.parametrize("name", ["rmsprop", "rmsprop_graves"])
def test_toy_problem_rmsprop_graves_matches_reference(name):
    """No published value exists; the NumPy reference with the default constants."""
    A, B = toy_run(name, {}, "float64")
    expected = numpy.ones(3)
    state = {}
    for t in range(1, 11):
        # grad of f(A) w.r.t. A; f(B) has the same, separately
        expected = np_rmsprop_graves(expected, 2 * TOY_WEIGHTS * expected, state, t,
                                     **DOCUMENTED_DEFAULTS["rmsprop_graves"])
    assert_allclose(A - 1, expected - 1, rtol=RTOL_FLOAT64)
    assert_allclose(A, B, rtol=1e-12)
    assert numpy.all(A < 1)


def test_loss_instead_of_grads_gives_the_same_steps():
    from_loss = toy_run("adam", {"learning_rate": 0.01}, "float64", loss_or_grads="loss")
    from_grads = toy_run("adam", {"learning_rate": 0.01}, "float64", loss_or_grads="grads")
    assert_allclose(from_loss[0], from_grads[0], rtol=1e-12)


# --- bad input -----------------------------------------------------------------

def one_param():
    p = shared(numpy.ones(3), name="p")
    return p, T.sum(p ** 2)


@pytest.mark.parametrize("name", RULES)
def test_negative_learning_rate_is_refused(name):
    p, loss = one_param()
    with pytest.raises(ValueError, match="learning_rate"):
        updates.get(name)([p], loss, learning_rate=-0.1)


@pytest.mark.parametrize("name, keyword, value", [
    ("rmsprop", "rho", 1.0),
    ("rmsprop", "rho", 1.5),
    ("rmsprop_graves", "rho", 1.0),
    ("rmsprop_tieleman", "rho", 1.0),
    ("rmsprop_tieleman", "epsilon", 0),
    ("adadelta", "rho", 1.0),
    ("rmsprop", "epsilon", -1e-6),
    ("momentum", "momentum", 1.0),
    ("nesterov_momentum", "momentum", -0.1),
    ("rmsprop_graves", "momentum", 1.0),
    ("adam", "beta1", 1.0),
    ("adam", "beta2", 1.2),
])
def test_bad_hyperparameter_is_refused(name, keyword, value):
    p, loss = one_param()
    with pytest.raises(ValueError, match=keyword):
        updates.get(name)([p], loss, **{keyword: value})


def test_non_scalar_loss_is_refused():
    p, _ = one_param()
    with pytest.raises(ValueError, match="scalar"):
        updates.sgd([p], p ** 2)


def test_mismatched_grads_are_refused():
    p, loss = one_param()
    q = shared(numpy.ones(2), name="q")
    with pytest.raises(ValueError, match="gradients"):
        updates.sgd([p, q], [grad(loss, p)])


def test_empty_params_are_refused():
    _, loss = one_param()
    with pytest.raises(ValueError, match="params"):
        updates.adam([], loss)


def test_unknown_rule_lists_the_valid_ones():
    with pytest.raises(ValueError) as error:
        updates.get("adagrad")
    for name in RULES:
        assert name in str(error.value)


# --- gradient clipping -----------------------------------------------------------

def test_total_norm_constraint_scales_to_the_max_norm():
    rng = numpy.random.RandomState(3)
    values = [rng.randn(4, 5), rng.randn(7)]
    grads = [T.constant(value) for value in values]
    norm = numpy.sqrt(sum(numpy.sum(value ** 2) for value in values))
    max_norm = norm / 3
    clipped = function([], updates.total_norm_constraint(grads, max_norm))()
    clipped_norm = numpy.sqrt(sum(numpy.sum(value ** 2) for value in clipped))
    assert_allclose(clipped_norm, max_norm, rtol=1e-6)
    for before, after in zip(values, clipped):  # one common scale: direction kept
        assert_allclose(after, before * clipped_norm / norm, rtol=1e-12)


def test_total_norm_constraint_leaves_small_gradients_alone():
    value = numpy.array([0.3, -0.4])  # norm 0.5
    clipped = function([], updates.total_norm_constraint([T.constant(value)], 1.0))()
    assert_allclose(clipped[0], value, rtol=1e-12)


def test_total_norm_constraint_reaches_the_bound_exactly_for_small_norms():
    # a rule that divides by norm + epsilon would stop 1.6e-6 short of 1e-3 here
    values = [numpy.zeros((3, 2)), numpy.full(4, 0.03125)]  # norm 0.0625
    grads = [T.constant(value) for value in values]
    clipped = function([], updates.total_norm_constraint(grads, 1e-3))()
    clipped_norm = numpy.sqrt(sum(numpy.sum(value ** 2) for value in clipped))
    assert_allclose(clipped_norm, 1e-3, rtol=1e-7)  # (1e-3 is held in float32: 4.7e-8 away)


def test_total_norm_constraint_keeps_nan_visible():
    # the non-finite guard in optimize() must still see a NaN gradient after clipping
    clipped = function([], updates.total_norm_constraint([T.constant(numpy.array([numpy.nan, 1.0]))], 1.0))()
    assert numpy.isnan(clipped[0][0])


def test_total_norm_constraint_refuses_a_non_positive_max():
    with pytest.raises(ValueError, match="max_grad_norm"):
        updates.total_norm_constraint([T.constant(numpy.ones(2))], 0)


def test_rmsprop_is_the_original_packages_rule():
    """The original package's rmsprop (Graves' form, fixed constants) is `rmsprop`
    in DL.updates, in optimize(optimizer="rmsprop") and in DL.optimizers."""
    from DL import optimizers
    assert updates.get("rmsprop") is updates.rmsprop is updates.rmsprop_graves
    original = dict(learning_rate=1e-4, rho=0.95, momentum=0.9, epsilon=1e-4)  # its constants
    front_door = inspect.signature(optimizers.rmsprop).parameters
    assert {name: front_door[name].default for name in original} == original
    assert "momentum" not in inspect.signature(optimizers.rmsprop_tieleman).parameters


def test_exponential_decay_shrinks_the_rate_by_decay_each_epoch():
    rate, schedule = updates.exponential_decay(0.01, 0.5, steps_per_epoch=4)
    step = function([], rate, updates=schedule)
    seen = [float(step()) for _ in range(9)]  # the rate each step trains with, before its counter advances
    assert_allclose(seen, [0.01 * 0.5 ** (i / 4) for i in range(9)], rtol=1e-6)
    assert_allclose(seen[4], 0.005, rtol=1e-6)
    assert_allclose(seen[8], 0.0025, rtol=1e-6)


def test_exponential_decay_of_one_is_a_constant_rate():
    rate, schedule = updates.exponential_decay(0.002, 1.0, steps_per_epoch=3)
    step = function([], rate, updates=schedule)
    seen = [float(step()) for _ in range(5)]
    assert seen == [seen[0]] * 5
    assert_allclose(seen[0], 0.002, rtol=1e-7)


@pytest.mark.parametrize("keywords, message", [
    (dict(learning_rate=0.0, decay=0.5, steps_per_epoch=2), "learning_rate must be positive"),
    (dict(learning_rate=0.1, decay=0.0, steps_per_epoch=2), r"decay must be in \(0, 1\]"),
    (dict(learning_rate=0.1, decay=1.5, steps_per_epoch=2), r"decay must be in \(0, 1\]"),
    (dict(learning_rate=0.1, decay=0.5, steps_per_epoch=0), "steps_per_epoch must be a positive integer"),
    (dict(learning_rate=0.1, decay=0.5, steps_per_epoch=2.5), "steps_per_epoch must be a positive integer"),
])
def test_exponential_decay_refuses_bad_settings(keywords, message):
    with pytest.raises(ValueError, match=message):
        updates.exponential_decay(**keywords)
