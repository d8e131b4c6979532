"""An Elman recurrent network, and the scan machinery the recurrent models share.

    h_0 = h0                                          (learned)
    h_t = activation([x_t, h_{t-1} * d] W_h + b_h)    the transition: a HiddenLayer over [x_t, h_{t-1}]
    y_t = outputActivation((h_t * d) W_o + b_o)       the output layer: a HiddenLayer on every step

x `(n_examples, n_timesteps, n_in)`, h `(n_examples, n_timesteps, n_hidden)`,
y `(n_examples, n_timesteps, n_out)`; W_h `(n_in + n_hidden, n_hidden)`.
Since [x_t, h] W_h = x_t W_h[:n_in] + h W_h[n_in:], the input's share is
computed for every step at once before the scan; only h W_h[n_in:] runs in it.

Mask: an optional float `(n_examples, n_timesteps)`, 1 on real steps and 0 on
padding.  On a padded step the state holds still (h_t = h_{t-1}), so padding,
wherever it sits, changes no output of a real step; `loss(y)` and `errors(y)`
average over the real steps only.

Dropout (variational, Gal and Ghahramani 2016): with `dropout_rate > 0`, one
mask d `(n_examples, n_hidden)` is drawn per sequence, outside the scan, and
drops the same units of h at every step, both where h feeds the next step and
where it feeds the output.  Prediction (`output_deterministic`, `pred`,
`errors`) uses d = 1.

params: `[h0, [W_h, b_h], [W_o, b_o]]`.
"""
import numpy

from DL.backend import T, RandomStreams, check_and_raise, scan
from DL.dropout import check_rate, dropout_mask
from DL.init import zeros
from DL.models.HiddenLayer import HiddenLayer
from DL.models.base import Model, as_tensor, check_size, make_param, seed_from, sub_params


# --- what every recurrent model shares --------------------------------------

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
    same_shape = T.and_(T.eq(mask.shape[0], input.shape[0]), T.eq(mask.shape[1], input.shape[1]))
    return check_and_raise(mask, same_shape, "%s: mask must have the shape (n_examples, n_timesteps) of "
                         "the input's first two axes; their shapes differ" % owner)


def dropped(h_tm1, drop_t):
    """h_{t-1} `(n_examples, n_hidden)` times the sequence's dropout mask, when there is one (`drop_t` is () or (mask,))."""
    return h_tm1 * drop_t[0] if drop_t else h_tm1


def _time_major(sequence):
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


def scan_over_time(step, sequences, initial_states, non_sequences=(), mask=None, name=None):
    """Run `step` along the time axis; return each state as `(n_examples, n_timesteps, ...)`.

    step(*sequences_t, *states_tm1, *non_sequences) -> the new state(s), where
    `sequences` are `(n_examples, n_timesteps, ...)` and states `(n_examples, ...)`.
    Every shared variable `step` uses must come in through `non_sequences`
    (the scan is strict: its inner graph then holds no hidden inputs).
    With a mask, states hold still on padded steps.
    """
    time_major = [_time_major(sequence) for sequence in sequences]
    non_sequences = list(non_sequences)
    n_sequences, n_states = len(time_major), len(initial_states)
    # Scan needs each initial state in the dtype its step returns (float32 data
    # and float64 weights give float64 states): learn it from one symbolic step.
    probe = _as_list(step(*[sequence[0] for sequence in time_major], *initial_states, *non_sequences))
    initial_states = [T.cast(state, new.dtype) for state, new in zip(initial_states, probe)]
    if mask is not None:
        time_major.append(_time_major(mask))

    def inner(*arguments):
        sequences_t = arguments[:n_sequences]
        rest = arguments[n_sequences + (mask is not None):]
        states_tm1, constants = rest[:n_states], rest[n_states:]
        new_states = _as_list(step(*sequences_t, *states_tm1, *constants))
        if mask is not None:
            new_states = hold_on_padding(new_states, states_tm1, arguments[n_sequences])
        return new_states

    states, _ = scan(inner, sequences=time_major, outputs_info=initial_states,
                     non_sequences=non_sequences, strict=True, name=name)
    return [_time_major(state) for state in _as_list(states)]


def resolve_fused(fused, can_fuse, needs, owner):
    """The `fused` argument of the gated layers: None -> the fused Op where it can run
    (`can_fuse`), True -> the fused Op or a ValueError saying what it `needs`, False -> the scan."""
    if fused and not can_fuse:
        raise ValueError("%s: fused=True needs %s" % (owner, needs))
    return can_fuse if fused is None else bool(fused)


def fused_over_time(recurrence, input_part, U, mask=None):
    """Run a fused recurrence Op (DL.engine.recurrence_op) along the time axis; return
    its states (all its outputs but the kept gates) as `(n_examples, n_timesteps, n_units)`.

    input_part `(n_examples, n_timesteps, n_gates n_units)` is x W + b for every step,
    U `(n_units, n_gates n_units)`, mask `(n_examples, n_timesteps)` or None.  The Op
    runs time major in one dtype (float32 data and float64 weights: float64, as the scan)."""
    dtype = numpy.promote_types(input_part.dtype, U.dtype).name
    time_major = _time_major(T.cast(input_part, dtype))  # (the kernels copy it to C order)
    if mask is None:
        mask = T.ones((time_major.shape[0], time_major.shape[1]), dtype=dtype)
    else:
        mask = _time_major(T.cast(mask, dtype))
    recurrence.engines.register_for_graph()
    *states, _ = recurrence()(time_major, mask, T.cast(U, dtype))
    return [_time_major(state) for state in states]


# --- the model ----------------------------------------------------------------

class RNN(Model):
    """An Elman network: h_t = activation([x_t, h_{t-1}] W_h + b_h), y_t = outputActivation(h_t W_o + b_o).

    rng               numpy.random.RandomState: draws W_h, then the dropout seed, then W_o
    input             symbolic float x `(n_examples, n_timesteps, n_in)`
    n_in, n_hidden, n_out   sizes of x_t, h_t and y_t
    dropout_rate      in [0, 1): one mask per sequence on h, at every step (training path only)
    activation        the transition's;  outputActivation  'softmax', 'sigmoid' or 'linear'
    params            None, or `[h0 (n_hidden,), [W_h (n_in + n_hidden, n_hidden), b_h (n_hidden,)],
                      [W_o (n_hidden, n_out), b_o (n_out,)]]`
    mask              None, or float `(n_examples, n_timesteps)`: 1 on real steps, 0 on padding

    Hooks: output, output_deterministic `(n_examples, n_timesteps, n_out)`; pred;
    loss(y, mask=None), errors(y, mask=None) with y `(n_examples, n_timesteps)`
    class ids (softmax) or `(n_examples, n_timesteps, n_out)`, averaged over the
    real steps (the model's mask unless another is given); h `(n_examples,
    n_timesteps, n_hidden)` the training path's states, h_deterministic the prediction
    path's; params, L1, L2_sqr, updates;
    step(x_t, h_tm1) one step for generation.
    """

    def __init__(self, rng, input, n_in, n_hidden, n_out, dropout_rate=0, activation="tanh",
                 outputActivation="softmax", params=None, mask=None, name="RNN"):
        self.name = name
        self.n_in = check_size(n_in, "%s: n_in" % name)
        self.n_hidden = check_size(n_hidden, "%s: n_hidden" % name)
        n_out = check_size(n_out, "%s: n_out" % name)
        self.dropout_rate = check_rate(dropout_rate)
        input = self.check_input(input)
        self.mask = sequence_mask(mask, input, name)
        h0_value, transition_params, output_params = sub_params(params, 3, name)

        self.h0 = make_param(h0_value, (self.n_hidden,), "h0", name, lambda: zeros(self.n_hidden))
        self.hiddenLayer = self.transition_layer(rng, activation, transition_params)
        self.srng = RandomStreams(seed_from(rng)) if self.dropout_rate > 0 else None
        self.outputLayer = HiddenLayer(rng, None, self.n_hidden, n_out, 0, output_params,
                                       outputActivation, name=name + ".outputLayer")
        self.layers = [self.hiddenLayer, self.outputLayer]
        self.connect(input)

    def check_input(self, input):
        return sequence_input(input, "%s: input" % self.name, self.n_in)

    def transition_layer(self, rng, activation, params):
        """The HiddenLayer over [x_t, h_{t-1}] (parameters only: the scan applies it)."""
        return HiddenLayer(rng, None, self.n_in + self.n_hidden, self.n_hidden, 0, params,
                           activation, name=self.name + ".hiddenLayer")

    def apply(self, x, train=False):
        """y `(n_examples, n_timesteps, n_out)` for x `(n_examples, n_timesteps, n_in)`.

        With `train` and dropout, one mask `(n_examples, n_hidden)` per sequence,
        drawn here, outside the scan, drops the same units of h at every step.
        The states are kept: `h` the training path's, `h_deterministic` the other's."""
        drop = None
        if train and self.dropout_rate > 0:
            drop = dropout_mask(self.srng, self.dropout_rate, (x.shape[0], self.n_hidden))
        h = self.hidden_states(x, drop)
        if drop is not None:
            h = h * drop.dimshuffle(0, "x", 1)
        if train:
            self.h = h
        if not train or not self.drops:
            self.h_deterministic = h
        return self.outputLayer.apply(h, train)

    def hidden_states(self, x, drop):
        """h `(n_examples, n_timesteps, n_hidden)` for x; `drop` the dropout mask or None."""
        layer = self.hiddenLayer
        input_part = T.dot(x, layer.W[:self.n_in]) + layer.b  # hoisted out of the scan

        def step(input_part_t, h_tm1, recurrent_W, *drop_t):
            return layer.activation(input_part_t + T.dot(dropped(h_tm1, drop_t), recurrent_W))

        (h,) = scan_over_time(step, [input_part], [self.initial_state(x.shape[0])],
                              [layer.W[self.n_in:]] + ([] if drop is None else [drop]), self.mask,
                              name=self.name + ".scan")
        return h

    def initial_state(self, n_examples=None):
        """h0 for each of `n_examples` (default: the input's): `(n_examples, n_hidden)`."""
        n_examples = self.input.shape[0] if n_examples is None else n_examples
        return T.alloc(self.h0, n_examples, self.n_hidden)

    def step(self, x_t, h_tm1):
        """One step without dropout, e.g. to generate text: (h_t, y_t) from
        x_t `(n_examples, n_in)` and h_{t-1} `(n_examples, n_hidden)`."""
        h_t = self.hiddenLayer.apply(T.concatenate([x_t, h_tm1], axis=1))
        return h_t, self.outputLayer.apply(h_t)

    @property
    def params(self):
        """`[h0 (n_hidden,), hiddenLayer's params, outputLayer's params]`."""
        return [self.h0] + [layer.params for layer in self.layers]
