"""What tests/test_lstm.py and tests/test_gru.py share to check a fused recurrence
(DL.engine.recurrence_op) against its layer's scan."""
import importlib.util
import warnings

import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import BACKEND, T, function
from DL.pooling import mean_pool

# the engines a fused recurrence also runs on (its tests compare them with PyTensor's C engine)
ENGINE_MODES = ["NUMBA", pytest.param("JAX", marks=pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install DL[jax])"))]
on_pytensor_engines = pytest.mark.skipif(BACKEND != "pytensor", reason="NUMBA and JAX are linkers of PyTensor")


def outputs_and_gradients(layer, x_var, mask_var, readout, extra_cost=0, mode=None):
    """A function of (x, mask) giving the layer's output `(n_examples, n_timesteps,
    n_units)` and the gradients, with respect to its params, x and the mask, of a
    cost on it: the output mean-pooled over the valid steps times `readout`
    `(n_units,)`, plus `extra_cost`."""
    cost = T.sum(mean_pool(layer.output, mask_var) * readout) + extra_cost
    return function([x_var, mask_var], [layer.output] + T.grad(cost, layer.params + [x_var, mask_var]),
                    mode=mode)


def float32_twins(rng, build, bias_size):
    """(fused, scan, x_var, mask_var): two float32 layers sharing their weights (the
    bias not zero), made by `build(x_var, mask_var, fused, params)`."""
    x_var, mask_var = T.tensor3("x", dtype="float32"), T.matrix("mask", dtype="float32")
    scan = build(x_var, mask_var, False, None)
    scan.b.set_value(rng.randn(bias_size).astype("float32"))
    return build(x_var, mask_var, True, scan.params), scan, x_var, mask_var


def assert_all_close(first, second, **tolerances):
    for mine, theirs in zip(first, second):
        assert_allclose(numpy.asarray(mine), numpy.asarray(theirs), **tolerances)


def assert_same_on_engine(make_function, mode, inputs):
    """`make_function(mode)(*inputs)` gives on `mode` what it gives on PyTensor's C engine."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # JAX drops run-time checks from its trace, and says so
        on_engine = make_function(mode)(*inputs)
    # (float32 on two engines, the JAX one with its own tanh and sigmoid)
    assert_all_close(on_engine, make_function("CVM")(*inputs), rtol=1e-4, atol=1e-5)


def engines_test(case):
    """A test (assign it to a test_ name) that a fused recurrence gives on PyTensor's
    Numba and JAX engines what it gives on the C engine; `case(rng)` returns
    (make_function(mode), its inputs), its inputs of fixed shapes (JAX traces with them)."""

    @on_pytensor_engines
    @pytest.mark.parametrize("mode", ENGINE_MODES)
    def test_the_fused_recurrence_runs_on_the_numba_and_jax_engines(rng, mode):
        make_function, inputs = case(rng)
        assert_same_on_engine(make_function, mode, inputs)

    return test_the_fused_recurrence_runs_on_the_numba_and_jax_engines
