"""A bidirectional wrapper: one recurrent layer reads each sequence forwards,
a second one reads it backwards, and their states sit side by side.

    h_fwd = layer_f(x, mask)
    h_bwd = R(layer_b(R(x), mask))      R reverses each sequence's valid steps
    output[n, t] = [h_fwd[n, t], h_bwd[n, t]]                 (n_examples, n_timesteps, 2 n_units)

          x_1      x_2      x_3      pad   pad
    fwd   h_1 -->  h_2 -->  h_3 -->  (h_3  h_3: held)
    bwd   g_1 <--  g_2 <--  g_3      (padding is skipped: g_3 is the backward pass's first step)

R keeps each padded step where it is and reverses the order of the valid steps
among themselves (with padding at the end, as `DL.datasets.pad_and_mask` puts
it, step t < L goes to L - 1 - t).  So the backward pass starts at each
sequence's last real step, never at the padding, and padding changes no
output of a real step in either direction.  R is its own inverse, and it maps
the mask to itself, so both directions take the same mask.

    Bidirectional(layer, input, mask=None, name="Bidirectional")

`layer(input, mask, name)` builds one direction; the wrapper calls it twice, with
input=None (each direction gets its own parameters, applied by the wrapper), e.g.

    Bidirectional(lambda x, m, name: LSTM(rng, x, m, 128, name=name), embedded, mask)
    Bidirectional(lambda x, m, name: GRU(rng, x, m, 128, name=name), embedded, mask)
    Bidirectional(lambda x, m, name: RNN(rng, x, n_in, 64, 2, mask=m, name=name), x, mask)

Any recurrent layer or model (DL.recurrence.Recurrent: RNN, MRNN, LSTM, GRU)
serves: the wrapper reads its states `h` from its `trace` (of an RNN, its
hidden states, not its outputs) and their width from `n_units`.  Pool the
result over the valid steps with `DL.pooling` (max or mean).

`apply(x, mask=None, train=False)` runs both directions on other sequences
(the same parameters): e.g. the training path on word-dropped embeddings and
the prediction path on all the words.

params: `[forward.params, backward.params]`; L1, L2_sqr and updates are both
directions'.
"""
from DL.backend import T
from DL.models.base import Model, as_tensor
from DL.recurrence import Recurrent, sequence_mask


def reversal_index(mask, n_timesteps):
    """`(n_examples, n_timesteps)` int64: the step each step reads from when the
    valid steps of each row are reversed among themselves (padding stays put)."""
    valid = T.cast(T.gt(mask, 0), "int64")
    steps = T.arange(n_timesteps).dimshuffle("x", 0)
    # The valid steps in order, then the padded ones (distinct keys: any sort will do).
    valid_first = T.argsort(steps + n_timesteps * (1 - valid), axis=1)
    rank = T.cumsum(valid, axis=1) - 1                   # a valid step's place among the valid ones
    length = T.sum(valid, axis=1).dimshuffle(0, "x")
    mirrored = T.clip(length - 1 - rank, 0, n_timesteps - 1)
    rows = T.arange(mask.shape[0]).dimshuffle(0, "x")
    return T.switch(valid, valid_first[rows, mirrored], steps)


def reverse_valid_steps(x, mask=None, index=None):
    """x `(n_examples, n_timesteps, ...)` with each row's valid steps in reverse order.
    Without a mask every step is valid: the time axis reversed."""
    if mask is None:
        return x[:, ::-1]
    if index is None:
        index = reversal_index(mask, x.shape[1])
    return x[T.arange(x.shape[0]).dimshuffle(0, "x"), index]


class Bidirectional(Model):
    """Two recurrent layers side by side, one reading each sequence backwards (see the module).

    layer   a function (input, mask, name) -> a recurrent layer (LSTM, GRU, RNN, MRNN)
    input   symbolic float `(n_examples, n_timesteps, n_in)`, or None (parameters only)
    mask    None, or float `(n_examples, n_timesteps)`: 1 on real steps, 0 on padding

    Hooks: output, output_deterministic `(n_examples, n_timesteps, 2 n_units)`;
    n_units (both directions'); params, L1, L2_sqr, updates; forward, backward the layers.
    """

    def __init__(self, layer, input, mask=None, name="Bidirectional"):
        if not callable(layer):
            raise TypeError("Bidirectional: layer must be a function (input, mask, name) -> layer that "
                            "builds one direction, got %r" % (layer,))
        self.name = name
        self.forward = self.direction(layer, name + ".forward")
        self.backward = self.direction(layer, name + ".backward")
        self.layers = [self.forward, self.backward]
        self.n_units = 2 * self.forward.n_units
        input = None if input is None else self.check_input(input)
        self.mask = sequence_mask(mask, input, name)
        self.connect(input, self.mask)

    def direction(self, layer, name):
        """One direction's layer, built with input=None (parameters only), or a clear error."""
        built = layer(None, None, name)
        if not isinstance(built, Recurrent):
            raise TypeError("%s: layer(input, mask, name) must build a recurrent layer (an LSTM, GRU, RNN "
                            "or MRNN: DL.recurrence.Recurrent), got %s" % (self.name, type(built).__name__))
        return built

    def check_input(self, input):
        return as_tensor(input, "%s: input" % self.name, (3,), "(n_examples, n_timesteps, n_in)")

    def apply(self, x, mask=None, train=False):
        """`(n_examples, n_timesteps, 2 n_units)`: [h_fwd, R(h_bwd(R(x)))] for x `(n_examples,
        n_timesteps, n_in)` under `mask` (the same mask serves both directions)."""
        index = None if mask is None else reversal_index(mask, x.shape[1])
        reverse = lambda sequence: reverse_valid_steps(sequence, mask, index)  # noqa: E731
        forward = self.forward.trace(x, mask, train)["h"]
        backward = self.backward.trace(reverse(x), mask, train)["h"]
        return T.concatenate([forward, reverse(backward)], axis=2)
