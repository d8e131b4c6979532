"""A long short-term memory layer (Hochreiter and Schmidhuber 1997; the
deeplearning.net LSTM tutorial's variant, without peepholes).

    a_t = x_t W + h_{t-1} U + b                    (n_examples, 4 n_units): the four gates at once
    i_t = sigmoid(a_t[:, 0n:1n])                   input gate
    f_t = sigmoid(a_t[:, 1n:2n])                   forget gate
    o_t = sigmoid(a_t[:, 2n:3n])                   output gate
    g_t = activation(a_t[:, 3n:4n])                candidate cell
    c_t = f_t * c_{t-1} + i_t * g_t                memory cell
    h_t = o_t * activation(c_t)                    output
    on a padded step (mask 0):  c_t = c_{t-1},  h_t = h_{t-1}

x `(n_examples, n_timesteps, n_units)` (e.g. an EmbeddingLayer's output), mask
`(n_examples, n_timesteps)` float (or None: every step is real), output h
`(n_examples, n_timesteps, n_units)`; c_0 = h_0 = 0.  x W + b is computed for
every step before the scan, so a step costs one product, h_{t-1} U.  W and U
`(n_units, 4 n_units)` start as four orthogonal blocks, b at zero.  Pool the
output over the valid steps with `DL.pooling.mean_pool(lstm.output, mask)`.

`lstm_step` below is the definition.  On PyTensor with the tanh activation the
loop over time runs as one fused Op that computes the same (`DL.engine.lstm_op`:
forward and backward passes compiled with Numba, the gates kept for the backward
one; checked against the scan in tests/test_lstm.py); it runs on the C, Numba and
JAX engines (JAX, like any JAX graph, needs inputs of fixed shape).  `fused=False`
uses the scan, as other activations and legacy Theano do.

params: `[W, U, b]`; L1 and L2 cover W and U.  No dropout inside, so
`output_deterministic` is `output`.
"""
import numpy

from DL import activations
from DL.activations import sigmoid
from DL.backend import BACKEND, T
from DL.init import orthogonal, zeros
from DL.models.RNN import fused_over_time, resolve_fused, scan_over_time, sequence_input, sequence_mask
from DL.models.base import Layer, check_size, make_param, sub_params

GATE_ORDER = "ifoc"  # the column blocks of W, U and b: input, forget, output gate, candidate cell
N_GATES = len(GATE_ORDER)


def gate_blocks(rng, n_units):
    """`(n_units, 4 n_units)`: one orthogonal `(n_units, n_units)` block per gate, drawn from `rng`."""
    return numpy.concatenate([orthogonal(rng, n_units) for _ in range(N_GATES)], axis=1)


def lstm_step(input_part_t, h_tm1, c_tm1, U, activation):
    """One LSTM step, the definition: (h_t, c_t) `(n_examples, n_units)` each, from the
    hoisted input_part_t = x_t W + b `(n_examples, 4 n_units)`, h_{t-1} and c_{t-1}
    `(n_examples, n_units)`, U `(n_units, 4 n_units)` and the activation function."""
    n = U.shape[0]
    gates = input_part_t + T.dot(h_tm1, U)
    squashed = sigmoid(gates[:, :3 * n])  # the three gates in one elementwise pass
    input_gate, forget_gate, output_gate = squashed[:, :n], squashed[:, n:2 * n], squashed[:, 2 * n:]
    candidate = activation(gates[:, 3 * n:])
    c_t = forget_gate * c_tm1 + input_gate * candidate
    return output_gate * activation(c_t), c_t


class LSTM(Layer):
    """An LSTM layer over sequences (equations in the module docstring; `lstm_step` is one step).

    rng         numpy.random.RandomState: draws W's four orthogonal blocks, then U's
    input       symbolic float x `(n_examples, n_timesteps, n_units)`
    mask        symbolic float `(n_examples, n_timesteps)`, 1 on real steps, 0 on padding; or None
    n_units     the size of x_t, h_t and c_t
    activation  of the candidate and the cell output ('tanh'; others run the scan)
    params      None, or `[W (n_units, 4 n_units), U (n_units, 4 n_units), b (4 n_units,)]`
    fused       None: the fused Op where it can run (PyTensor, tanh); True: require it;
                False: the scan

    Hooks: output = output_deterministic = h `(n_examples, n_timesteps, n_units)`,
    c `(n_examples, n_timesteps, n_units)` the cells; params, L1, L2_sqr (W, U).
    """

    GATE_ORDER = GATE_ORDER

    def __init__(self, rng, input, mask, n_units, activation="tanh", params=None, name="LSTM", fused=None):
        self.name = name
        self.n_units = n_units = check_size(n_units, "%s: n_units" % name)
        self.activation = activations.get(activation)
        input = self.check_input(input)
        self.mask = sequence_mask(mask, input, name)

        W_value, U_value, b_value = sub_params(params, 3, name)
        self.W = make_param(W_value, (n_units, N_GATES * n_units), "W", name, lambda: gate_blocks(rng, n_units))
        self.U = make_param(U_value, (n_units, N_GATES * n_units), "U", name, lambda: gate_blocks(rng, n_units))
        self.b = make_param(b_value, (N_GATES * n_units,), "b", name, lambda: zeros(N_GATES * n_units))

        can_fuse = BACKEND == "pytensor" and self.activation is activations.get("tanh")
        self.fused = resolve_fused(fused, can_fuse, "PyTensor and the tanh activation", name)
        self.connect(input)
        self.h, self.c = self.output, self.cells

    def check_input(self, input):
        return sequence_input(input, "%s: input" % self.name, self.n_units)

    def apply(self, x, train=False):
        """h `(n_examples, n_timesteps, n_units)` for x `(n_examples, n_timesteps, n_units)`
        under the layer's mask (no dropout: `train` changes nothing); the cells go to `cells`."""
        input_part = T.dot(x, self.W) + self.b  # every step's x_t W + b, before the scan
        if self.fused:
            h, self.cells = self._fused_recurrence(input_part)
            return h
        start = T.zeros((x.shape[0], self.n_units), dtype=input_part.dtype)

        def step(input_part_t, h_tm1, c_tm1, U):
            return lstm_step(input_part_t, h_tm1, c_tm1, U, self.activation)

        h, self.cells = scan_over_time(step, [input_part], [start, start], [self.U], self.mask,
                                       name=self.name + ".scan")
        return h

    def _fused_recurrence(self, input_part):
        """h and c `(n_examples, n_timesteps, n_units)` from the fused Op (same results as the scan)."""
        from DL.engine.lstm_op import LSTMRecurrence
        h, c = fused_over_time(LSTMRecurrence, input_part, self.U, self.mask)
        return h, c

    @property
    def weights(self):
        """The matrices L1 and L2_sqr penalize."""
        return [self.W, self.U]

    @property
    def params(self):
        """`[W (n_units, 4 n_units), U (n_units, 4 n_units), b (4 n_units,)]`."""
        return [self.W, self.U, self.b]
