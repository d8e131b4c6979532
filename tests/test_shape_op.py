"""UnfixOnes (DL.engine.shape_op): x itself, typed with its sizes of 1 unknown, on every engine."""
import importlib.util

import numpy
import pytest
from numpy.testing import assert_array_equal

from DL.backend import BACKEND, T, function, grad

pytestmark = pytest.mark.skipif(BACKEND != "pytensor", reason="an Op of DL's for PyTensor's engine")
HAS_JAX = importlib.util.find_spec("jax") is not None
MODES = ["NUMBA", pytest.param("JAX", marks=pytest.mark.skipif(not HAS_JAX, reason="jax is not installed"))]


def fixed(shape, name="x"):
    return T.TensorType("float32", shape=shape)(name)


def test_the_type_forgets_the_sizes_of_1_only():
    from DL.engine.shape_op import UnfixOnes
    y = UnfixOnes()(fixed((1, 20, None, 1)))
    assert y.type.shape == (None, 20, None, None) and y.dtype == "float32"


def test_unfix_ones_leaves_a_tensor_of_fixed_sizes_alone():
    from DL.backend import unfix_ones
    x = fixed((1, 3))
    assert unfix_ones(x) is x
    assert unfix_ones(T.matrix()).owner is not None


@pytest.mark.parametrize("mode", MODES)
def test_values_shapes_and_gradient_pass_through(mode):
    from DL.engine.shape_op import UnfixOnes
    x, w = fixed((1, 4)), fixed((1, 4), "w")
    y = UnfixOnes()(x)
    dx = grad((y * w).sum(), x)
    assert dx.type.shape == (1, 4)  # (the gradient has the input's type back)
    # the size known to the shape rewrites: a reshape by it is by constants (JAX needs that)
    flat = y.reshape((y.shape[0] * y.shape[1],))
    f = function([x, w], [y, dx, flat], mode=mode)
    data = numpy.arange(4, dtype="float32").reshape(1, 4)
    weights = numpy.array([[1, -2, 3, 0.5]], dtype="float32")
    value, gradient, flattened = f(data, weights)
    assert_array_equal(value, data)
    assert_array_equal(gradient, weights)
    assert_array_equal(flattened, data.ravel())
