"""The loop over time, written once: every recurrent model is a cell on it.

A *cell* is one step of a recurrence and what the loop needs to know of it:

    Cell(step, states=("h",), gates="", fused=None)

    step    step(*sequences_t, *states_tm1, *weights, **options) -> the new states,
            the definition of the model's maths (e.g. DL.models.LSTM.lstm_step)
    states  the names of the states it returns, the layer's output first: ("h", "c")
    gates   the gate layout, one letter per column block of the hoisted input part
            x_t W + b and of U: "ifoc" (LSTM), "zrg" (GRU), "" (no gates)
    fused   "module:Class", the Op that runs the whole loop at once (DL.engine), or None

`run(cell, sequences, initial_states, weights, mask)` runs a cell along the time
axis as a scan, `fused_over_time` as its fused Op; either way the states come back
batch major, `(n_examples, n_timesteps, ...)`:

    sequences       `(n_examples, n_timesteps, ...)` each: what the step reads at t
    initial_states  `(n_examples, ...)` each; None for a state the step returns but
                    does not read back (a state estimator's h_t)
    weights         the shared variables the step uses, in the order it takes them
                    (the scan is strict: its inner graph holds no hidden inputs)
    mask            None, or float `(n_examples, n_timesteps)`: 1 on real steps,
                    0 on padding; on a padded step every state holds still

        h_t = step(x_t, h_{t-1})            m_t = 1
        h_t = h_{t-1}                       m_t = 0

The fused Ops (DL.engine.lstm_op, DL.engine.gru_op) take their numbers of gates
and states from the cell; tests/test_recurrence.py holds each Op's Numba and JAX
kernels against the scan of the cell's step, outputs and gradients.

`Recurrent` is the base of the recurrent layers and models (RNN, MRNN, LSTM,
GRU): a `cell`, a width `n_units`, and `trace(x, mask, train)` that returns the
states `h` beside the `output`, so that `Bidirectional` can wrap any of them.
`Gated` is what the gated layers (LSTM, GRU) share: W, U and b laid out by the
cell's gates, x W + b hoisted out of the loop, the fused Op where it can run.
"""
import importlib

import numpy

from DL.backend import T, check_and_raise, scan, unfix_ones
from DL.init import zeros
from DL.models.base import Layer, Model, as_tensor, make_param, sub_params


class Cell(object):
    """One step of a recurrence (see the module's docstring)."""

    def __init__(self, step, states=("h",), gates="", fused=None):
        self.step, self.states, self.gates, self.fused = step, tuple(states), gates, fused

    @property
    def n_states(self):
        return len(self.states)

    @property
    def n_gates(self):
        return len(self.gates)

    def fused_op(self):
        """The class of the cell's fused Op, imported on first use (it imports the engine)."""
        module, name = self.fused.split(":")
        return getattr(importlib.import_module(module), name)

    def __repr__(self):
        return "Cell(%s, states=%r, gates=%r)" % (getattr(self.step, "__name__", "step"), self.states,
                                                  self.gates)


# --- sequences and masks ----------------------------------------------------------

def sequence_input(value, argument, n_in):
    """A 3-D float tensor `(n_examples, n_timesteps, n_in)`, or a clear error."""
    return as_tensor(value, argument, (3,), "(n_examples, n_timesteps, n_in=%d): one row of "
                     "n_in numbers per step; a batch of single vectors needs a time axis" % n_in)


def sequence_mask(mask, input, owner):
    """`mask` as a float `(n_examples, n_timesteps)` matching `input`, or None."""
    if mask is None:
        return None
    mask = as_tensor(mask, "%s: mask" % owner, (2,), "(n_examples, n_timesteps), 1 on real "
                     "steps and 0 on padding", kind="number")
    if input is None:
        return mask
    same_shape = T.and_(T.eq(mask.shape[0], input.shape[0]), T.eq(mask.shape[1], input.shape[1]))
    return check_and_raise(mask, same_shape, "%s: mask must have the shape (n_examples, n_timesteps) of "
                           "the input's first two axes; their shapes differ" % owner)


def dropped(h_tm1, drop_t):
    """h_{t-1} `(n_examples, n_hidden)` times the sequence's dropout mask, when there is one
    (`drop_t` is () or (mask,))."""
    return h_tm1 * drop_t[0] if drop_t else h_tm1


def time_major(sequence):
    """`(n_examples, n_timesteps, ...)` <-> `(n_timesteps, n_examples, ...)`."""
    return sequence.dimshuffle(*([1, 0] + list(range(2, sequence.ndim))))


def _as_list(value):
    """A step's result as a list of states."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def hold_on_padding(new_states, old_states, m_t):
    """Each state `(n_examples, ...)` keeps its old value where the step is padding
    (m_t `(n_examples,)` is 0)."""
    held = []
    for new, old in zip(new_states, old_states):
        keep = T.cast(m_t, new.dtype).dimshuffle(0, *(["x"] * (new.ndim - 1)))
        held.append(keep * new + (1 - keep) * old)
    return held


# --- the loop -------------------------------------------------------------------

def scan_over_time(step, sequences, initial_states, non_sequences=(), mask=None, name=None, strict=True):
    """Run `step` along the time axis with a scan; return each state `(n_examples, n_timesteps, ...)`.

    step(*sequences_t, *carried_states_tm1, *non_sequences) -> every state, where
    `sequences` are `(n_examples, n_timesteps, ...)` and states `(n_examples, ...)`;
    an initial state of None marks a state that is returned but not read back.
    With `strict` (the default) every shared variable `step` uses must come in
    through `non_sequences`.  With a mask, states hold still on padded steps.
    """
    steps = [time_major(sequence) for sequence in sequences]
    non_sequences = list(non_sequences)
    carried = [i for i, state in enumerate(initial_states) if state is not None]
    if mask is not None and len(carried) != len(initial_states):
        raise ValueError("scan_over_time: with a mask every state must be carried (padding holds it)")
    n_sequences, n_carried = len(steps), len(carried)
    # Scan needs each initial state in the dtype its step returns (float32 data and
    # float64 weights give float64 states): learn it from one symbolic step.
    carried_start = [initial_states[i] for i in carried]
    probe = _as_list(step(*[sequence[0] for sequence in steps], *carried_start, *non_sequences))
    outputs_info = [None if state is None else unfix_ones(T.cast(state, new.dtype))
                    for state, new in zip(initial_states, probe)]
    if mask is not None:
        steps.append(time_major(mask))
    steps = [unfix_ones(sequence) for sequence in steps]  # (one example, on JAX: DL.engine.shape_op)

    def inner(*arguments):
        sequences_t = arguments[:n_sequences]
        rest = arguments[n_sequences + (mask is not None):]
        states_tm1, constants = rest[:n_carried], rest[n_carried:]
        new_states = _as_list(step(*sequences_t, *states_tm1, *constants))
        if mask is not None:
            new_states = hold_on_padding(new_states, states_tm1, arguments[n_sequences])
        return new_states

    states, _ = scan(inner, sequences=steps, outputs_info=outputs_info, non_sequences=non_sequences,
                     strict=strict, name=name)
    return [time_major(state) for state in _as_list(states)]


def fused_over_time(recurrence, input_steps, U, mask=None):
    """Run a fused recurrence Op (DL.engine.recurrence_op) along the time axis; return
    its states (all its outputs but the kept gates) as `(n_examples, n_timesteps, n_units)`.

    input_steps `(n_timesteps, n_examples, n_gates n_units)` is x W + b for every step,
    time major (as the Op runs: computing it from the time-major x turns n_in numbers an
    example and step around, not n_gates n_units), U `(n_units, n_gates n_units)`, mask
    `(n_examples, n_timesteps)` or None.  The Op runs in one dtype (float32 data and
    float64 weights: float64, as the scan)."""
    dtype = numpy.promote_types(input_steps.dtype, U.dtype).name
    input_steps = T.cast(input_steps, dtype)  # (the kernels copy it to C order if it is not)
    if mask is None:
        mask = T.ones((input_steps.shape[0], input_steps.shape[1]), dtype=dtype)
    else:
        mask = time_major(T.cast(mask, dtype))
    recurrence.engines.register_for_graph()
    *states, _ = recurrence()(input_steps, mask, T.cast(U, dtype))
    return [time_major(state) for state in states]


def run(cell, sequences, initial_states, weights=(), mask=None, name=None, strict=True, **options):
    """The cell along the time axis, by scan: its states, each `(n_examples, n_timesteps, ...)`.

    `options` are keywords of the cell's step (e.g. `activation`).  (A cell's fused Op
    runs through `fused_over_time`.)"""

    def step(*arguments):
        return cell.step(*arguments, **options)

    return scan_over_time(step, sequences, initial_states, weights, mask, name, strict)


def resolve_fused(fused, can_fuse, needs, owner):
    """The `fused` argument of the gated layers: None -> the fused Op where it can run
    (`can_fuse`), True -> the fused Op or a ValueError saying what it `needs`, False -> the scan."""
    if fused and not can_fuse:
        raise ValueError("%s: fused=True needs %s" % (owner, needs))
    return can_fuse if fused is None else bool(fused)


# --- the recurrent models' base ---------------------------------------------------

class Recurrent(Model):
    """A layer or model run along the time axis by a `cell` (see the module's docstring).

    Subclasses set `cell` and `n_units` (the width of the states h) and define
    `trace(x, mask=None, train=False)` -> {"output": ..., "h": the states
    `(n_examples, n_timesteps, n_units)`, ...}; `apply` is its output.  The hooks
    `h` (training path) and `h_deterministic` come from the constructor's two traces."""

    cell = None
    n_units = None

    def check_input(self, input):
        return sequence_input(input, "%s: input" % self.name, self.n_in)

    def apply(self, x, mask=None, train=False):
        """The output for x `(n_examples, n_timesteps, n_in)` under `mask` (see `trace`)."""
        return self.trace(x, mask, train)["output"]

    def trace(self, x, mask=None, train=False):
        raise NotImplementedError("%s: a recurrent model defines trace(x, mask=None, train=False)"
                                  % type(self).__name__)

    def connect(self, input, mask=None):
        super().connect(input, mask)
        if self.input is not None:
            self.h, self.h_deterministic = self.trained["h"], self.deterministic["h"]


class Gated(Recurrent, Layer):
    """A gated recurrent layer (LSTM, GRU): the cell's step on x_t W + b and U.

        W `(n_in, n_gates n_units)`, U `(n_units, n_gates n_units)`, b `(n_gates n_units,)`,
        the gates' column blocks in the order of `cell.gates`

    params `[W, U, b]`; L1 and L2 cover W and U."""

    def gate_params(self, params, W_initial, U_initial):
        """W, U and b from `params=` (None or `[W, U, b]`), else drawn by `W_initial()` and
        `U_initial()` in that order; b starts at zero."""
        n, width = self.n_units, self.cell.n_gates * self.n_units
        W_value, U_value, b_value = sub_params(params, 3, self.name)
        self.W = make_param(W_value, (self.n_in, width), "W", self.name, W_initial)
        self.U = make_param(U_value, (n, width), "U", self.name, U_initial)
        self.b = make_param(b_value, (width,), "b", self.name, lambda: zeros(width))

    def states(self, x, mask, drop=None):
        """The cell's states, each `(n_examples, n_timesteps, n_units)`, for x `(n_examples,
        n_timesteps, n_in)`: x W + b for every step before the loop, then the loop (the
        fused Op where the layer has it and no dropout mask `drop` is given)."""
        if self.fused and drop is None:
            return fused_over_time(self.cell.fused_op(), T.dot(time_major(x), self.W) + self.b, self.U, mask)
        input_part = T.dot(x, self.W) + self.b
        start = T.zeros((x.shape[0], self.n_units), dtype=input_part.dtype)
        weights = [self.U] + ([] if drop is None else [drop])
        return run(self.cell, [input_part], [start] * self.cell.n_states, weights, mask,
                   name=self.name + ".scan", activation=self.activation)

    @property
    def weights(self):
        """The matrices L1 and L2_sqr penalize."""
        return [self.W, self.U]

    @property
    def params(self):
        """`[W (n_in, n_gates n_units), U (n_units, n_gates n_units), b (n_gates n_units,)]`."""
        return [self.W, self.U, self.b]
