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
from DL.init import glorot_uniform, orthogonal, zeros
from DL.models.RNN import (dropped, fused_over_time, resolve_fused, scan_over_time, sequence_input,
                          sequence_mask)
from DL.models.base import Layer, check_size, make_param, seed_from, sub_params

GATE_ORDER = "zrg"  # the column blocks of W, U and b: update gate, reset gate, candidate
N_GATES = len(GATE_ORDER)


def gru_step(input_part_t, h_tm1, U, activation, drop_t=()):
    """One GRU step, the definition: h_t `(n_examples, n_units)` from the hoisted
    input_part_t = x_t W + b `(n_examples, 3 n_units)`, h_{t-1} `(n_examples, n_units)`,
    U `(n_units, 3 n_units)`, the activation and `drop_t`, () or (the dropout mask,)."""
    n = U.shape[0]
    h_in = dropped(h_tm1, drop_t)
    gates = sigmoid(input_part_t[:, :2 * n] + T.dot(h_in, U[:, :2 * n]))  # z and r in one pass
    update_gate, reset_gate = gates[:, :n], gates[:, n:]
    candidate = activation(input_part_t[:, 2 * n:] + T.dot(reset_gate * h_in, U[:, 2 * n:]))
    return update_gate * h_tm1 + (1 - update_gate) * candidate


class GRU(Layer):
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

    def __init__(self, rng, input, mask, n_units, activation="tanh", params=None, dropout_rate=0,
                 n_in=None, name="GRU", fused=None):
        self.name = name
        self.n_units = n_units = check_size(n_units, "%s: n_units" % name)
        self.n_in = n_in = n_units if n_in is None else check_size(n_in, "%s: n_in" % name)
        self.activation = activations.get(activation)
        self.dropout_rate = check_rate(dropout_rate)
        self.input = sequence_input(input, "%s: input" % name, n_in)
        self.mask = sequence_mask(mask, self.input, name)

        W_value, U_value, b_value = sub_params(params, 3, name)
        self.W = make_param(W_value, (n_in, N_GATES * n_units), "W", name,
                            lambda: glorot_uniform(rng, n_in, N_GATES * n_units))
        self.U = make_param(U_value, (n_units, N_GATES * n_units), "U", name,
                            lambda: numpy.concatenate([orthogonal(rng, n_units) for _ in GATE_ORDER], axis=1))
        self.b = make_param(b_value, (N_GATES * n_units,), "b", name, lambda: zeros(N_GATES * n_units))

        can_fuse = (BACKEND == "pytensor" and self.activation is activations.get("tanh")
                    and self.dropout_rate == 0)
        self.fused = resolve_fused(fused, can_fuse, "PyTensor, the tanh activation and dropout_rate=0 "
                                   "(the fused Op has no dropout mask)", name)

        self._updates = []
        self.output_deterministic = self.h = self.hidden_states(None)
        self.output = self.output_deterministic
        if self.dropout_rate > 0:
            srng = RandomStreams(seed_from(rng))
            # One mask per sequence, drawn once: the same units drop at every step.
            self.dropout_mask = dropout_mask(srng, self.dropout_rate, (self.input.shape[0], n_units))
            self.output = self.hidden_states(self.dropout_mask) * self.dropout_mask.dimshuffle(0, "x", 1)
            self._updates = srng.updates()

    def hidden_states(self, drop):
        """h `(n_examples, n_timesteps, n_units)`; `drop` is the dropout mask or None."""
        input_part = T.dot(self.input, self.W) + self.b  # every step's x_t W + b, before the scan
        if self.fused:  # (never with dropout: `drop` is None)
            from DL.engine.gru_op import GRURecurrence
            (h,) = fused_over_time(GRURecurrence, input_part, self.U, self.mask)
            return h

        def step(input_part_t, h_tm1, U, *drop_t):
            return gru_step(input_part_t, h_tm1, U, self.activation, drop_t)

        start = T.zeros((self.input.shape[0], self.n_units), dtype=input_part.dtype)
        (h,) = scan_over_time(step, [input_part], [start], [self.U] + ([] if drop is None else [drop]),
                              self.mask, name=self.name + ".scan")
        return h

    @property
    def weights(self):
        return [self.W, self.U]

    @property
    def params(self):
        return [self.W, self.U, self.b]

    @property
    def updates(self):
        return list(self._updates)
