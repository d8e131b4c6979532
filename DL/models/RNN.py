"""An Elman recurrent network.

    h_0 = h0                                          (learned)
    h_t = activation([x_t, h_{t-1} * d] W_h + b_h)    the transition: a HiddenLayer over [x_t, h_{t-1}]
    y_t = outputActivation((h_t * d) W_o + b_o)       the output layer: a HiddenLayer on every step

x `(n_examples, n_timesteps, n_in)`, h `(n_examples, n_timesteps, n_hidden)`,
y `(n_examples, n_timesteps, n_out)`; W_h `(n_in + n_hidden, n_hidden)`.
Since [x_t, h] W_h = x_t W_h[:n_in] + h W_h[n_in:], the input's share is
computed for every step at once before the loop; only h W_h[n_in:] runs in it
(`elman_step`, the cell's step; the loop over time is DL.recurrence's).

Mask: an optional float `(n_examples, n_timesteps)`, 1 on real steps and 0 on
padding.  On a padded step the state holds still (h_t = h_{t-1}), so padding,
wherever it sits, changes no output of a real step; `loss(y)` and `errors(y)`
average over the real steps only.

Dropout (variational, Gal and Ghahramani 2016): with `dropout_rate > 0`, one
mask d `(n_examples, n_hidden)` is drawn per sequence, outside the loop, and
drops the same units of h at every step, both where h feeds the next step and
where it feeds the output.  Prediction (`output_deterministic`, `pred`,
`errors`) uses d = 1.

params: `[h0, [W_h, b_h], [W_o, b_o]]`.
"""
from DL.backend import T, RandomStreams
from DL.dropout import check_rate, dropout_mask
from DL.init import zeros
from DL.models.HiddenLayer import HiddenLayer
from DL.models.base import check_size, make_param, seed_from, sub_params
from DL.recurrence import Cell, Recurrent, dropped, run, sequence_mask


def elman_step(input_part_t, h_tm1, recurrent_W, *drop_t, activation):
    """One Elman step, the definition: h_t `(n_examples, n_hidden)` from the hoisted
    input_part_t = x_t W_h[:n_in] + b_h, h_{t-1}, recurrent_W = W_h[n_in:] `(n_hidden,
    n_hidden)` and `drop_t`, () or (the sequence's dropout mask,)."""
    return activation(input_part_t + T.dot(dropped(h_tm1, drop_t), recurrent_W))


CELL = Cell(elman_step, states=("h",))


# --- the model ----------------------------------------------------------------

class RNN(Recurrent):
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

    cell = CELL

    def __init__(self, rng, input, n_in, n_hidden, n_out, dropout_rate=0, activation="tanh",
                 outputActivation="softmax", params=None, mask=None, name="RNN"):
        self.name = name
        self.n_in = check_size(n_in, "%s: n_in" % name)
        self.n_hidden = self.n_units = check_size(n_hidden, "%s: n_hidden" % name)
        n_out = check_size(n_out, "%s: n_out" % name)
        self.dropout_rate = check_rate(dropout_rate)
        input = None if input is None else self.check_input(input)
        self.mask = sequence_mask(mask, input, name)
        h0_value, transition_params, output_params = sub_params(params, 3, name)

        self.h0 = make_param(h0_value, (self.n_hidden,), "h0", name, lambda: zeros(self.n_hidden))
        self.hiddenLayer = self.transition_layer(rng, activation, transition_params)
        self.srng = RandomStreams(seed_from(rng)) if self.dropout_rate > 0 else None
        self.outputLayer = HiddenLayer(rng, None, self.n_hidden, n_out, 0, output_params,
                                       outputActivation, name=name + ".outputLayer")
        self.layers = [self.hiddenLayer, self.outputLayer]
        self.connect(input, self.mask)

    def transition_layer(self, rng, activation, params):
        """The HiddenLayer over [x_t, h_{t-1}] (parameters only: the scan applies it)."""
        return HiddenLayer(rng, None, self.n_in + self.n_hidden, self.n_hidden, 0, params,
                           activation, name=self.name + ".hiddenLayer")

    def trace(self, x, mask=None, train=False):
        """{"output": y `(n_examples, n_timesteps, n_out)`, "h": the states `(n_examples,
        n_timesteps, n_hidden)`} for x `(n_examples, n_timesteps, n_in)` under `mask`.

        With `train` and dropout, one mask `(n_examples, n_hidden)` per sequence,
        drawn here, outside the loop, drops the same units of h at every step."""
        drop = None
        if train and self.dropout_rate > 0:
            drop = dropout_mask(self.srng, self.dropout_rate, (x.shape[0], self.n_hidden))
        h = self.hidden_states(x, mask, drop)
        if drop is not None:
            h = h * drop.dimshuffle(0, "x", 1)
        return {"output": self.outputLayer.apply(h, train=train), "h": h}

    def hidden_states(self, x, mask, drop):
        """h `(n_examples, n_timesteps, n_hidden)` for x; `drop` the dropout mask or None."""
        layer = self.hiddenLayer
        input_part = T.dot(x, layer.W[:self.n_in]) + layer.b  # hoisted out of the loop
        (h,) = run(self.cell, [input_part], [self.initial_state(x.shape[0])],
                   [layer.W[self.n_in:]] + ([] if drop is None else [drop]), mask,
                   name=self.name + ".scan", activation=layer.activation)
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
