"""DL.engine.jax_linker: a JAX function writes the values it updates into their old memory
(JAX's donation), and what a user holds is never deleted by it.

One linear regression, `y ~ x @ w + b`, with a hand-written SGD step, compiled on JAX
(DL's JAX mode) once for the module; its numbers are checked against NumPy by hand.
"""
import importlib.util

import numpy
import pytest

from DL.backend import BACKEND

pytestmark = [pytest.mark.skipif(BACKEND != "pytensor", reason="JAX is a linker of PyTensor"),
              pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                                 reason="JAX is an optional engine and jax is not installed")]

N_IN, N_EXAMPLES, RATE = 5, 8, 0.1


def data(seed):
    rng = numpy.random.default_rng(seed)
    x = rng.standard_normal((N_EXAMPLES, N_IN)).astype("float32")
    return x, (x @ rng.standard_normal(N_IN)).astype("float32")


@pytest.fixture(scope="module")
def regression():
    """(step, w, b): step(x, y) takes one SGD step on the mean squared error and returns it."""
    from DL.backend import T, function, shared
    w = shared(numpy.zeros(N_IN, dtype="float32"), name="w")
    b = shared(numpy.float32(0), name="b")
    x, y = T.matrix("x"), T.vector("y")
    cost = T.mean((T.dot(x, w) + b - y) ** 2)
    gw, gb = T.grad(cost, [w, b])
    step = function([x, y], cost, updates=[(w, w - RATE * gw), (b, b - RATE * gb)], mode="JAX")
    return step, w, b


def by_hand(w, b, x, y):
    """One SGD step of the same model in NumPy (float64): the new (w, b)."""
    error = x @ w + b - y
    return w - RATE * 2 * x.T @ error / len(y), b - RATE * 2 * error.mean()


def start(w, b, seed):
    rng = numpy.random.default_rng(seed)
    w_value, b_value = rng.standard_normal(N_IN).astype("float32"), numpy.float32(rng.standard_normal())
    w.set_value(w_value)
    b.set_value(b_value)
    return w_value.astype("float64"), float(b_value)


def pointer(variable):
    return variable.container.storage[0].unsafe_buffer_pointer()


def test_the_linker_donates_exactly_the_updated_tensors(regression):
    from DL.engine.jax_linker import donated_inputs
    step, w, b = regression
    step(*data(seed=0))  # (compiled for the arguments' shapes at the first call)
    (compiled,) = step.functions.values()
    fgraph = compiled.maker.fgraph
    donated = [fgraph.inputs[i] for i in donated_inputs(fgraph)]
    assert sorted(v.name for v in donated) == ["b", "w"]


def test_updates_are_written_in_place_and_compute_sgd(regression):
    step, w, b = regression
    w_hand, b_hand = start(w, b, seed=1)
    x, y = data(seed=2)
    step(x, y)  # (the first call moves the NumPy values to the device: copied, not donated)
    w_hand, b_hand = by_hand(w_hand, b_hand, x, y)
    for _ in range(3):
        where = pointer(w)
        step(x, y)
        w_hand, b_hand = by_hand(w_hand, b_hand, x, y)
        # w's new value in its old memory (b's, a scalar like the cost, may hold either:
        # JAX gives a donated input to the first output of its type)
        assert pointer(w) == where
    numpy.testing.assert_allclose(w.get_value(), w_hand, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_allclose(b.get_value(), b_hand, rtol=1e-5, atol=1e-6)


def test_a_value_taken_with_borrow_stays_valid_and_keeps_its_numbers(regression):
    step, w, b = regression
    w_hand, b_hand = start(w, b, seed=3)
    x, y = data(seed=4)
    step(x, y)
    held = w.get_value(borrow=True)  # the JAX array the function would otherwise donate
    kept = numpy.array(held)
    step(x, y)
    step(x, y)
    assert not held.is_deleted()
    numpy.testing.assert_array_equal(numpy.asarray(held), kept)
    for _ in range(3):
        w_hand, b_hand = by_hand(w_hand, b_hand, x, y)
    numpy.testing.assert_allclose(w.get_value(), w_hand, rtol=1e-5, atol=1e-6)
    # once let go, the value is donated again
    del held
    where = pointer(w)
    step(x, y)
    assert pointer(w) == where


def test_an_array_given_with_borrow_is_not_written_by_training(regression):
    step, w, b = regression
    mine = numpy.random.default_rng(5).standard_normal(N_IN).astype("float32")
    copy = mine.copy()
    w.set_value(mine, borrow=True)
    x, y = data(seed=6)
    for _ in range(3):
        step(x, y)
    numpy.testing.assert_array_equal(mine, copy)
    assert not numpy.array_equal(w.get_value(), copy)


def test_two_variables_holding_one_array_both_train(regression):
    """w's value given to a second model's shared variable (as a script copying weights
    with borrow=True does): both functions run, and each variable gets its own update."""
    from DL.backend import T, function, shared
    step, w, b = regression
    start(w, b, seed=7)
    x, y = data(seed=8)
    step(x, y)
    other = shared(numpy.zeros(N_IN, dtype="float32"), name="other")
    other.set_value(w.get_value(borrow=True), borrow=True)
    shift = function([], [], updates=[(other, other + 1)], mode="JAX")
    before = w.get_value()
    shift()
    shift()
    numpy.testing.assert_allclose(other.get_value(), before + 2, rtol=1e-6)
    numpy.testing.assert_array_equal(w.get_value(), before)  # w's memory was not written
    step(x, y)
    assert numpy.isfinite(w.get_value()).all()


def test_a_call_that_fails_leaves_the_values_intact(regression):
    step, w, b = regression
    start(w, b, seed=9)
    x, y = data(seed=10)
    step(x, y)
    before = w.get_value(), b.get_value()
    with pytest.raises(Exception):
        step(x[:, :3], y)  # x of the wrong width: the product cannot be formed
    numpy.testing.assert_array_equal(w.get_value(), before[0])
    numpy.testing.assert_array_equal(b.get_value(), before[1])
    step(x, y)  # and training goes on
    assert numpy.isfinite(w.get_value()).all()


def test_switched_off_the_function_writes_new_memory_and_computes_the_same(regression, monkeypatch):
    from DL.backend import T, function, shared
    step, w, b = regression
    monkeypatch.setenv("DL_JAX_DONATE", "0")
    w2, b2 = shared(numpy.zeros(N_IN, dtype="float32")), shared(numpy.float32(0))
    x, y = T.matrix("x"), T.vector("y")
    cost = T.mean((T.dot(x, w2) + b2 - y) ** 2)
    gw, gb = T.grad(cost, [w2, b2])
    plain = function([x, y], cost, updates=[(w2, w2 - RATE * gw), (b2, b2 - RATE * gb)], mode="JAX")
    start(w, b, seed=11)
    start(w2, b2, seed=11)
    x_value, y_value = data(seed=12)
    step(x_value, y_value)
    plain(x_value, y_value)
    where = pointer(w2)
    step(x_value, y_value)
    plain(x_value, y_value)
    assert pointer(w2) != where  # a new array: nothing donated
    numpy.testing.assert_allclose(w2.get_value(), w.get_value(), rtol=1e-6)
    numpy.testing.assert_allclose(b2.get_value(), b.get_value(), rtol=1e-6)


@pytest.mark.parametrize("setting, donates", [(None, False), ("1", True)])
def test_a_graph_with_a_loop_is_donated_only_when_asked(setting, donates, monkeypatch):
    """XLA's handling of donated values made some looped steps slower (an LSTM's by a
    third): a graph with a loop donates only with DL_JAX_DONATE=1."""
    from DL.backend import T, function, scan, shared
    if setting is None:
        monkeypatch.delenv("DL_JAX_DONATE", raising=False)
    else:
        monkeypatch.setenv("DL_JAX_DONATE", setting)
    w = shared(numpy.full(N_IN, 0.5, dtype="float32"), name="w")
    x = T.matrix("x")
    states, _ = scan(lambda row, h: T.tanh(row * w + h), sequences=x, outputs_info=T.zeros_like(w))
    cost = T.sum(states[-1])
    step = function([x], cost, updates=[(w, w - RATE * T.grad(cost, w))], mode="JAX")
    x_value = data(seed=13)[0]
    step(x_value)
    where = pointer(w)
    step(x_value)
    assert (pointer(w) == where) == donates
    assert numpy.isfinite(w.get_value()).all()
