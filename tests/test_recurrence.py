"""DL.recurrence: the loop over time every recurrent model runs on, and the fused
Ops held against the cells they compute.

The fused layers are found by themselves (every class of DL.models whose cell
names a fused Op), and each Op's kernels, Numba's and JAX's, are checked against
the scan of the cell's own step: outputs, and gradients with respect to the
weights, the input and the mask, on ragged masks.
"""
import importlib.util
import inspect

import numpy
import pytest
from numpy.testing import assert_allclose

import DL.models
from DL.backend import BACKEND, T, function
from DL.recurrence import Cell, Recurrent, run, scan_over_time
from recurrence_checks import assert_all_close, outputs_and_gradients

N_EXAMPLES, N_STEPS, N_UNITS = 3, 5, 4


def ragged_mask():
    """`(N_EXAMPLES, N_STEPS)`: lengths 5, 3 and 1, padding at the end."""
    return (numpy.arange(N_STEPS)[None, :] < numpy.array([[5], [3], [1]])).astype("float64")


def fused_classes():
    return sorted(name for name in dir(DL.models)
                  if inspect.isclass(getattr(DL.models, name)) and issubclass(getattr(DL.models, name), Recurrent)
                  and getattr(DL.models, name).cell is not None and getattr(DL.models, name).cell.fused)


def test_the_fused_layers_are_found():
    assert {"LSTM", "GRU"} <= set(fused_classes())


# --- the loop ---------------------------------------------------------------------

def running_sum(x_t, s_tm1):
    return s_tm1 + x_t


def test_a_cell_sums_over_time_and_holds_on_padding():
    x, mask = T.tensor3("x", dtype="float64"), T.matrix("mask", dtype="float64")
    start = T.zeros((x.shape[0], x.shape[2]), dtype="float64")
    (s,) = run(Cell(running_sum), [x], [start], mask=mask)
    values = numpy.random.RandomState(0).randn(N_EXAMPLES, N_STEPS, 2)
    got = function([x, mask], s, mode="FAST_COMPILE")(values, ragged_mask())
    expected = numpy.cumsum(values * ragged_mask()[:, :, None], axis=1)
    assert_allclose(got, expected)


def test_a_state_returned_but_not_read_back():
    """A None initial state: the step returns it, the loop does not feed it back (an estimator's h_t)."""
    x = T.tensor3("x", dtype="float64")

    def step(x_t, s_tm1):
        return 2 * x_t, s_tm1 + x_t

    start = T.zeros((x.shape[0], x.shape[2]), dtype="float64")
    doubled, summed = scan_over_time(step, [x], [None, start])
    values = numpy.random.RandomState(1).randn(N_EXAMPLES, N_STEPS, 2)
    got = function([x], [doubled, summed], mode="FAST_COMPILE")(values)
    assert_allclose(got[0], 2 * values)
    assert_allclose(got[1], numpy.cumsum(values, axis=1))


def test_a_mask_needs_every_state_carried():
    x, mask = T.tensor3("x"), T.matrix("mask")
    with pytest.raises(ValueError, match="every state must be carried"):
        scan_over_time(lambda x_t, s: (x_t, s), [x], [None, x[:, 0]], mask=mask)


def test_cells_describe_their_layout():
    assert (DL.models.LSTM.cell.states, DL.models.LSTM.cell.gates) == (("h", "c"), "ifoc")
    assert (DL.models.GRU.cell.states, DL.models.GRU.cell.gates) == (("h",), "zrg")
    assert DL.models.RNN.cell.n_gates == 0 and DL.models.RNN.cell.fused is None


# --- the fused Ops against the cells' steps ------------------------------------------

# The Numba kernels run through the Op's `perform` on the Python engine (FAST_COMPILE), so
# the graph around them is not compiled by Numba (tests/test_lstm.py and test_gru.py run
# them on the Numba engine too); the JAX kernels on the JAX engine.
ENGINES = ["FAST_COMPILE", pytest.param("JAX", marks=pytest.mark.skipif(
    importlib.util.find_spec("jax") is None, reason="jax is not installed (pip install DL[jax])"))]


@pytest.mark.skipif(BACKEND != "pytensor", reason="the fused recurrences are PyTensor Ops")
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", fused_classes())
def test_the_fused_op_computes_the_cells_step(name, engine):
    cls, rng = getattr(DL.models, name), numpy.random.RandomState(2)
    # fixed shapes: JAX traces one program per shape, and needs them known
    x_var = T.tensor3("x", dtype="float32", shape=(N_EXAMPLES, N_STEPS, N_UNITS))
    mask_var = T.matrix("mask", dtype="float32", shape=(N_EXAMPLES, N_STEPS))
    scan = cls(rng, x_var, mask_var, N_UNITS, fused=False)
    scan.b.set_value(rng.randn(*scan.b.get_value().shape).astype("float32"))  # a bias that is not zero
    fused = cls(rng, x_var, mask_var, N_UNITS, fused=True, params=scan.params)
    readout = rng.randn(N_UNITS).astype("float32")
    x, mask = rng.randn(N_EXAMPLES, N_STEPS, N_UNITS).astype("float32"), ragged_mask().astype("float32")
    expected = outputs_and_gradients(scan, x_var, mask_var, readout, mode="FAST_COMPILE")(x, mask)
    got = outputs_and_gradients(fused, x_var, mask_var, readout, mode=engine)(x, mask)
    # (float32; the kernels' own tanh and sigmoid, and sums in other orders)
    assert_all_close(got, expected, rtol=1e-4, atol=1e-5)
