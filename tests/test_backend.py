"""DL.backend: the exports, floatX, random streams and the logits helpers."""
import os
import subprocess
import sys

import numpy
import pytest
from numpy.testing import assert_allclose

from DL import backend
from DL.backend import RandomStreams, T, clone, floatX, function, grad, scan, shared, theano
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

EXPORTS = ["theano", "T", "shared", "function", "scan", "grad", "clone", "RandomStreams", "floatX"]


def run_python(code, **environment):
    """Run `code` in a fresh interpreter with `environment` changes (None unsets)."""
    env = dict(os.environ)
    for key, value in environment.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=HANG)


def test_exports_exist():
    for name in EXPORTS:
        assert hasattr(backend, name), name
        assert name in backend.__all__, name
    assert floatX == theano.config.floatX


@pytest.mark.skipif(backend.BACKEND != "pytensor",
                    reason="the default engine is PyTensor, which the legacy Theano environment does not hold")
def test_default_engine_is_pytensor_with_float32():
    result = run_python("import DL.backend as b; print(b.BACKEND, b.floatX, b.theano.__name__)",
                        DL_BACKEND=None, PYTENSOR_FLAGS=None)
    assert result.returncode == 0, result.stderr
    rc_file = os.path.expanduser("~/.pytensorrc")
    if os.path.exists(rc_file) and "floatx" in open(rc_file).read().lower():
        pytest.fail("%s sets floatX, so the float32 default cannot be checked here" % rc_file)
    assert result.stdout.split() == ["pytensor", "float32", "pytensor"]


def test_the_users_own_floatX_flag_wins():
    flags = "PYTENSOR_FLAGS" if backend.BACKEND == "pytensor" else "THEANO_FLAGS"
    theirs = os.environ.get(flags, "")
    result = run_python("import DL.backend as b; print(b.floatX)",
                        **{flags: (theirs + "," if theirs else "") + "floatX=float64"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "float64"


def test_unknown_engine_is_refused_with_the_choices():
    result = run_python("import DL.backend", DL_BACKEND="tensorflow")
    assert result.returncode != 0
    assert "tensorflow" in result.stderr and "pytensor" in result.stderr and "theano" in result.stderr


def test_T_nnet_sigmoid_and_softmax():
    a = T.dmatrix()
    values = numpy.array([[0.0, 1.0, -2.0], [3.0, 3.0, 3.0]])
    sig, soft = function([a], [T.nnet.sigmoid(a), T.nnet.softmax(a)])(values)
    assert_allclose(sig, 1 / (1 + numpy.exp(-values)), rtol=1e-12)
    assert_allclose(soft, numpy.exp(values) / numpy.exp(values).sum(axis=1, keepdims=True), rtol=1e-12)


def test_shared_function_grad_scan_clone_work_together():
    w = shared(numpy.asarray(2.0, dtype=floatX), name="w")
    x = T.vector()
    assert x.dtype == floatX
    # running sum by scan, times w
    sums, _ = scan(lambda x_t, total: total + x_t, sequences=x,
                   outputs_info=T.zeros((), dtype=floatX))
    y = w * sums[-1]
    f = function([x], [y, grad(y, w)])
    value, dw = f(numpy.array([1, 2, 3], dtype=floatX))
    assert value == pytest.approx(12.0) and dw == pytest.approx(6.0)
    # clone with a replacement: w -> 3
    y3 = clone(y, replace={w: T.constant(numpy.asarray(3.0, dtype=floatX))})
    assert function([x], y3)(numpy.array([1, 2, 3], dtype=floatX)) == pytest.approx(18.0)


# --- random streams -------------------------------------------------------------

DRAWS = {
    "binomial": dict(p=0.3, dtype=floatX),
    "uniform": dict(low=-2.0, high=1.0),
    "normal": dict(avg=1.0, std=2.0),
}


def draw(srng, distribution, size):
    return getattr(srng, distribution)(size=size, **DRAWS[distribution])


@pytest.mark.parametrize("distribution", sorted(DRAWS))
def test_draw_shape_and_dtype(distribution):
    srng = RandomStreams(seed=1)
    sample = draw(srng, distribution, (3, 4))
    assert sample.dtype == floatX
    assert function([], sample, updates=srng.updates())().shape == (3, 4)
    # a symbolic size works too, as dropout uses it
    x = T.matrix()
    symbolic = draw(srng, distribution, x.shape)
    f = function([x], symbolic, updates=srng.updates())
    assert f(numpy.zeros((2, 5), dtype=floatX)).shape == (2, 5)


@pytest.mark.parametrize("distribution", sorted(DRAWS))
def test_draw_statistics(distribution):
    srng = RandomStreams(seed=2)
    values = function([], draw(srng, distribution, (20000,)), updates=srng.updates())()
    if distribution == "binomial":
        assert set(numpy.unique(values)) <= {0.0, 1.0}
        assert values.mean() == pytest.approx(0.3, abs=0.02)
    elif distribution == "uniform":
        assert values.min() >= -2.0 and values.max() <= 1.0
        assert values.mean() == pytest.approx(-0.5, abs=0.05)
    else:
        assert values.mean() == pytest.approx(1.0, abs=0.06)
        assert values.std() == pytest.approx(2.0, rel=0.03)


@pytest.mark.parametrize("distribution", sorted(DRAWS))
def test_draws_are_reproducible_from_the_seed(distribution):
    def first_two(seed):
        srng = RandomStreams(seed=seed)
        f = function([], draw(srng, distribution, (50,)), updates=srng.updates())
        return f(), f()
    a, b, c = first_two(5), first_two(5), first_two(6)
    numpy.testing.assert_array_equal(a[0], b[0])
    numpy.testing.assert_array_equal(a[1], b[1])
    assert not numpy.array_equal(a[0], c[0])


@pytest.mark.parametrize("distribution", sorted(DRAWS))
def test_draws_advance_when_updates_are_included(distribution):
    srng = RandomStreams(seed=3)
    f = function([], draw(srng, distribution, (50,)), updates=srng.updates())
    assert not numpy.array_equal(f(), f())


def test_theanos_default_dtypes():
    """As Theano's RandomStreams: counts are int64 unless asked, floats are floatX."""
    srng = RandomStreams(seed=1)
    assert srng.binomial(size=(2,), p=0.5).dtype == "int64"
    assert srng.uniform(size=(2,)).dtype == floatX and srng.normal(size=(2,)).dtype == floatX
    assert srng.uniform(size=(2,), low=T.dscalar()).dtype == "float64"  # widened by its parameters


def test_each_draw_records_its_update():
    srng = RandomStreams(seed=4)
    draw(srng, "uniform", (2,))
    draw(srng, "normal", (2,))
    assert len(srng.updates()) == 2
    assert srng.state_updates == srng.updates()  # Theano's name for the same list


def test_random_updates_finds_the_generators_of_a_graph():
    srng = RandomStreams(seed=5)
    used = draw(srng, "uniform", (3,))
    unused = draw(srng, "normal", (3,))
    out = 2 * used + 1
    found = backend.random_updates([out])
    assert [rng for rng, _ in found] == [srng.updates()[0][0]]
    assert found[0][1] is srng.updates()[0][1]
    # already present in `existing`: not found again
    assert backend.random_updates([out], existing=found) == []
    # a graph with no draw has no random updates
    assert backend.random_updates([T.vector() * 2]) == []
    # and the found updates are enough to advance the draw
    f = function([], out, updates=found)
    assert not numpy.array_equal(f(), f())
    del unused


# --- the logits behind softmax / sigmoid -----------------------------------------

def test_logits_of_softmax():
    a = T.matrix()
    assert backend.logits_of_softmax(T.nnet.softmax(a)) is a
    assert backend.logits_of_softmax(backend.softmax(a)) is a
    assert backend.logits_of_softmax(T.tanh(a)) is None
    assert backend.logits_of_softmax(a) is None


def test_logits_of_sigmoid():
    a = T.matrix()
    assert backend.logits_of_sigmoid(T.nnet.sigmoid(a)) is a
    assert backend.logits_of_sigmoid(T.tanh(a)) is None
    assert backend.logits_of_sigmoid(a) is None


def test_cast_floatX():
    assert backend.cast_floatX([1, 2]).dtype == floatX
