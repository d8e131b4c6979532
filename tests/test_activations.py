"""Activations by name, against NumPy."""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL import activations
from DL.backend import T, function

NUMPY_ACTIVATIONS = {
    "tanh": numpy.tanh,
    "sigmoid": lambda a: 1 / (1 + numpy.exp(-a)),
    "relu": lambda a: numpy.maximum(a, 0),
    "cappedrelu": lambda a: numpy.clip(a, 0, 6),
    "linear": lambda a: a,
    "softmax": lambda a: numpy.exp(a) / numpy.exp(a).sum(axis=-1, keepdims=True),
}


@pytest.fixture
def values():
    # spans the kinks of relu (0) and cappedrelu (0, 6)
    return numpy.array([[-8.0, -1.5, 0.0, 0.5], [3.0, 5.9, 6.0, 9.0]])


def test_the_registry_holds_the_documented_names():
    assert set(activations.activations) == set(NUMPY_ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(NUMPY_ACTIVATIONS))
def test_activation_by_name_matches_numpy(name, values):
    a = T.dmatrix()
    f = function([a], activations.get(name)(a))
    assert_allclose(f(values), NUMPY_ACTIVATIONS[name](values), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(NUMPY_ACTIVATIONS))
def test_activation_keeps_float32(name, values):
    a = T.fmatrix()
    assert activations.get(name)(a).dtype == "float32"


def test_softmax_is_over_the_last_axis_in_3d(rng):
    a = T.dtensor3()
    values = rng.randn(2, 3, 4) * 3
    out = function([a], activations.softmax(a))(values)
    assert_allclose(out.sum(axis=-1), numpy.ones((2, 3)), rtol=1e-12)
    assert_allclose(out, NUMPY_ACTIVATIONS["softmax"](values), rtol=1e-12)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as error:
        activations.get("swish")
    message = str(error.value)
    assert "swish" in message
    for name in NUMPY_ACTIVATIONS:
        assert name in message


def test_a_callable_passes_through():
    def custom(a):
        return a * 2
    assert activations.get(custom) is custom
    assert activations.name_of(custom) is None
    assert activations.name_of(activations.tanh) == "tanh"
    assert activations.name_of("relu") == "relu"
