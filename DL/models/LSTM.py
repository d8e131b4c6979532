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

`lstm_step` below is the definition, and `CELL` its description for the loop
over time (DL.recurrence: two states h and c, the gate layout "ifoc").  On PyTensor with the tanh activation the
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
from DL.init import orthogonal
from DL.models.base import check_size
from DL.recurrence import Cell, Gated, resolve_fused, sequence_mask


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


# the column blocks of W, U and b: input, forget, output gate, candidate cell
CELL = Cell(lstm_step, states=("h", "c"), gates="ifoc", fused="DL.engine.lstm_op:LSTMRecurrence")
GATE_ORDER, N_GATES = CELL.gates, CELL.n_gates


class LSTM(Gated):
    """An LSTM layer over sequences (equations in the module docstring; `lstm_step` is one step).

    rng         numpy.random.RandomState: draws W's four orthogonal blocks, then U's
    input       symbolic float x `(n_examples, n_timesteps, n_units)`, or None (parameters only)
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
    cell = CELL

    def __init__(self, rng, input, mask, n_units, activation="tanh", params=None, name="LSTM", fused=None):
        self.name = name
        self.n_units = self.n_in = n_units = check_size(n_units, "%s: n_units" % name)
        self.activation = activations.get(activation)
        input = None if input is None else self.check_input(input)
        self.mask = sequence_mask(mask, input, name)

        self.gate_params(params, lambda: gate_blocks(rng, n_units), lambda: gate_blocks(rng, n_units))

        can_fuse = BACKEND == "pytensor" and self.activation is activations.get("tanh")
        self.fused = resolve_fused(fused, can_fuse, "PyTensor and the tanh activation", name)
        self.connect(input, self.mask)
        if self.input is not None:
            self.c = self.trained["c"]

    def trace(self, x, mask=None, train=False):
        """{"output" = "h": `(n_examples, n_timesteps, n_units)`, "c": the cells, the same
        shape} for x `(n_examples, n_timesteps, n_units)` under `mask` (no dropout: `train`
        changes nothing)."""
        h, c = self.states(x, mask)
        return {"output": h, "h": h, "c": c}
