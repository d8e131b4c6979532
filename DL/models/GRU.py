"""A gated recurrent unit layer (Cho et al. 2014; Keras' `reset_after=False`).

    z_t = sigmoid(x_t W_z + h_{t-1} U_z + b_z)             update gate
    r_t = sigmoid(x_t W_r + h_{t-1} U_r + b_r)             reset gate
    g_t = activation(x_t W_g + (r_t * h_{t-1}) U_g + b_g)  candidate: reset before the product
    h_t = z_t * h_{t-1} + (1 - z_t) * g_t                  keep the old state where z is 1
    on a padded step (mask 0):  h_t = h_{t-1}

x `(n_examples, n_timesteps, n_in)` (n_in defaults to n_units, as the LSTM's
input, e.g. an EmbeddingLayer's output), mask `(n_examples, n_timesteps)`
float (or None: every step is real), output h `(n_examples, n_timesteps,
n_units)`; h_0 = 0.  W `(n_in, 3 n_units)` and U `(n_units, 3 n_units)` hold
the blocks z, r, g side by side (`GATE_ORDER`); W is Glorot-uniform, U three
orthogonal blocks, b zero.  x W + b is computed for every step before the
scan, so a step costs two products with U.

A layer like the LSTM (no output layer), so it composes: pool it over the
valid steps (`DL.pooling`), wrap it in `DL.models.Bidirectional`, or put a
HiddenLayer on it.

Dropout (variational, Gal and Ghahramani 2016): with `dropout_rate > 0`, one
mask d `(n_examples, n_units)` per sequence, drawn once outside the scan,
drops the same units of h_{t-1} at every step where h_{t-1} enters the
products with U (the interpolation z_t * h_{t-1} carries the state whole), and
drops the same units of the training `output` (h * d), as RNN does.
`output_deterministic` uses d = 1.

On PyTensor with the tanh activation and no dropout, the loop over time runs
as one fused Op that computes the same as the scan (`DL.engine.gru_op`: forward
and backward passes compiled with Numba, the gates kept for the backward one;
checked against the scan in tests/test_gru.py), on the C, Numba and JAX
engines.  `fused=False` uses the scan, as other activations, dropout (the Op
has no dropout mask) and legacy Theano do.

params: `[W, U, b]`; L1 and L2 cover W and U.
"""
import numpy

from DL import activations
from DL.activations import sigmoid
from DL.backend import BACKEND, T, RandomStreams
from DL.dropout import check_rate, dropout_mask
from DL.init import glorot_uniform, orthogonal
from DL.models.base import check_size, seed_from
from DL.recurrence import Cell, Gated, dropped, resolve_fused, sequence_mask


def gru_step(input_part_t, h_tm1, U, *drop_t, activation):
    """One GRU step, the definition: h_t `(n_examples, n_units)` from the hoisted
    input_part_t = x_t W + b `(n_examples, 3 n_units)`, h_{t-1} `(n_examples, n_units)`,
    U `(n_units, 3 n_units)`, `drop_t`, () or (the dropout mask,), and the activation."""
    n = U.shape[0]
    h_in = dropped(h_tm1, drop_t)
    gates = sigmoid(input_part_t[:, :2 * n] + T.dot(h_in, U[:, :2 * n]))  # z and r in one pass
    update_gate, reset_gate = gates[:, :n], gates[:, n:]
    candidate = activation(input_part_t[:, 2 * n:] + T.dot(reset_gate * h_in, U[:, 2 * n:]))
    return update_gate * h_tm1 + (1 - update_gate) * candidate


# the column blocks of W, U and b: update gate, reset gate, candidate
CELL = Cell(gru_step, states=("h",), gates="zrg", fused="DL.engine.gru_op:GRURecurrence")
GATE_ORDER, N_GATES = CELL.gates, CELL.n_gates


class GRU(Gated):
    """A GRU layer over sequences (equations in the module docstring; `gru_step` is one step).

    rng           numpy.random.RandomState: draws W, then U's three orthogonal blocks, then the dropout seed
    input         symbolic float x `(n_examples, n_timesteps, n_in)`
    mask          symbolic float `(n_examples, n_timesteps)`, 1 on real steps, 0 on padding; or None
    n_units       the size of h_t
    activation    of the candidate ('tanh'; others run the scan)
    params        None, or `[W (n_in, 3 n_units), U (n_units, 3 n_units), b (3 n_units,)]`
    dropout_rate  in [0, 1): variational dropout on h (training output only; runs the scan)
    n_in          the size of x_t (default n_units)
    fused         None: the fused Op where it can run (PyTensor, tanh, no dropout); True:
                  require it (a ValueError otherwise); False: the scan

    Hooks: output (with dropout), output_deterministic, h `(n_examples, n_timesteps, n_units)`;
    params, L1, L2_sqr (W, U), updates (the dropout masks' random state).
    """

    GATE_ORDER = GATE_ORDER
    cell = CELL

    def __init__(self, rng, input, mask, n_units, activation="tanh", params=None, dropout_rate=0,
                 n_in=None, name="GRU", fused=None):
        self.name = name
        self.n_units = n_units = check_size(n_units, "%s: n_units" % name)
        self.n_in = n_in = n_units if n_in is None else check_size(n_in, "%s: n_in" % name)
        self.activation = activations.get(activation)
        self.dropout_rate = check_rate(dropout_rate)
        input = None if input is None else self.check_input(input)
        self.mask = sequence_mask(mask, input, name)

        self.gate_params(params, lambda: glorot_uniform(rng, n_in, N_GATES * n_units),
                         lambda: numpy.concatenate([orthogonal(rng, n_units) for _ in GATE_ORDER], axis=1))

        can_fuse = (BACKEND == "pytensor" and self.activation is activations.get("tanh")
                    and self.dropout_rate == 0)
        self.fused = resolve_fused(fused, can_fuse, "PyTensor, the tanh activation and dropout_rate=0 "
                                   "(the fused Op has no dropout mask)", name)

        self.srng = RandomStreams(seed_from(rng)) if self.dropout_rate > 0 else None
        self.connect(input, self.mask)

    def trace(self, x, mask=None, train=False):
        """{"output" = "h": `(n_examples, n_timesteps, n_units)`} for x `(n_examples,
        n_timesteps, n_in)` under `mask`.  With `train` and dropout, one mask
        `(n_examples, n_units)` per sequence, drawn here, outside the loop, drops the same
        units of h_{t-1} at every step and of the output."""
        drop = None
        if train and self.dropout_rate > 0:
            drop = dropout_mask(self.srng, self.dropout_rate, (x.shape[0], self.n_units))
        (h,) = self.states(x, mask, drop)
        if drop is not None:
            h = h * drop.dimshuffle(0, "x", 1)
        return {"output": h, "h": h}
