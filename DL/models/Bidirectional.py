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

`layer(input, mask, name)` builds one direction (it is called twice, so each
direction gets its own parameters), e.g.

    Bidirectional(lambda x, m, name: LSTM(rng, x, m, 128, name=name), embedded, mask)
    Bidirectional(lambda x, m, name: GRU(rng, x, m, 128, name=name), embedded, mask)
    Bidirectional(lambda x, m, name: RNN(rng, x, n_in, 64, 2, mask=m, name=name), x, mask)

Of an LSTM or GRU the wrapper reads `output` and `output_deterministic`; of an
RNN (a model with an output layer) its hidden states `h` and `h_deterministic`.
Pool the result over the valid steps with `DL.pooling` (max or mean).

params: `[forward.params, backward.params]`; L1, L2_sqr and updates are both
directions'.
"""
from DL.backend import T
from DL.models.RNN import sequence_mask
from DL.models.base import Model, as_tensor


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


def _states(layer):
    """The per-step (training, deterministic) states of one direction."""
    if hasattr(layer, "h_deterministic"):  # an RNN-style model: its hidden states, not its outputs
        return layer.h, layer.h_deterministic
    return layer.output, layer.output_deterministic


def _width(layer):
    for attribute in ("n_units", "n_hidden"):
        if hasattr(layer, attribute):
            return getattr(layer, attribute)
    raise TypeError("Bidirectional: the layer built has neither n_units nor n_hidden; build an LSTM, "
                    "a GRU or an RNN-style model")


class Bidirectional(Model):

    def __init__(self, layer, input, mask=None, name="Bidirectional"):
        if not callable(layer):
            raise TypeError("Bidirectional: layer must be a function (input, mask, name) -> layer that "
                            "builds one direction, got %r" % (layer,))
        self.name = name
        self.input = as_tensor(input, "%s: input" % name, (3,), "(n_examples, n_timesteps, n_in)")
        self.mask = sequence_mask(mask, self.input, name)
        index = None if self.mask is None else reversal_index(self.mask, self.input.shape[1])
        reverse = lambda x: reverse_valid_steps(x, self.mask, index)  # noqa: E731

        self.forward = layer(self.input, self.mask, name + ".forward")
        self.backward = layer(reverse(self.input), self.mask, name + ".backward")
        self.layers = [self.forward, self.backward]
        self.n_units = 2 * _width(self.forward)
        (forward, forward_deterministic), (backward, backward_deterministic) = map(_states, self.layers)
        self.output = T.concatenate([forward, reverse(backward)], axis=2)
        self.output_deterministic = T.concatenate([forward_deterministic, reverse(backward_deterministic)],
                                                  axis=2)
