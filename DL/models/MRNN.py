"""A multiplicative recurrent network (Sutskever, Martens and Hinton 2011).

    f_t = (h_{t-1} W_fh) * (x_t W_fx)                the input gates the transition
    h_t = activation(f_t W_hf + x_t W_hx + b)
    y_t = outputActivation(h_t W_o + b_o)

that is h_t = activation(W_hx x_t + W_hf diag(W_fx x_t) W_fh h_{t-1} + b): each
input chooses its own transition matrix, factored through `n_fact` factors.
The step is a MultiplicativeLayer with input h_{t-1} and multiplier x_t
(W_fi = W_fh, W_fm = W_fx, W_of = W_hf, W_om = W_hx).

What depends on x alone (x_t W_fx, x_t W_hx + b) is computed for every step
before the loop; each step (`multiplicative_step`, the cell's step) multiplies
by W_fh and W_hf only.

x `(n_examples, n_timesteps, n_in)`, h `(n_examples, n_timesteps, n_hidden)`,
y `(n_examples, n_timesteps, n_out)`.  h0 is learned.  The mask, loss, errors
and variational dropout are the RNN's (see DL.models.RNN): padded steps hold
the state, one dropout mask per sequence acts on h at every step.

params: `[h0, [W_fh, W_hf, W_fx, W_hx, b], [W_o, b_o]]`.
"""
from DL.backend import T
from DL.models.MultiplicativeLayer import MultiplicativeLayer, mult_parts, multiplicative_unit
from DL.models.RNN import RNN
from DL.models.base import check_size
from DL.recurrence import Cell, dropped, run


def multiplicative_step(input_parts_t, h_tm1, W_fh, W_hf, *drop_t, n_fact, activation):
    """One MRNN step, the definition: h_t `(n_examples, n_hidden)` from the hoisted
    input_parts_t = [x_t W_fx, x_t W_hx + b] `(n_examples, n_fact + n_hidden)`, h_{t-1},
    W_fh `(n_hidden, n_fact)`, W_hf `(n_fact, n_hidden)` and `drop_t`, () or (the dropout mask,)."""
    return multiplicative_unit(dropped(h_tm1, drop_t), input_parts_t[:, :n_fact], input_parts_t[:, n_fact:],
                               W_fh, W_hf, activation)


CELL = Cell(multiplicative_step, states=("h",))


class MRNN(RNN):
    """A multiplicative RNN: h_t = activation(((h_{t-1} W_fh) * (x_t W_fx)) W_hf + x_t W_hx + b).

    Arguments as the RNN's, plus `n_fact`, the number of factors.
    params: None, or `[h0 (n_hidden,), [W_fh (n_hidden, n_fact), W_hf (n_fact, n_hidden),
    W_fx (n_in, n_fact), W_hx (n_in, n_hidden), b (n_hidden,)], [W_o (n_hidden, n_out), b_o (n_out,)]]`.
    Hooks as the RNN's (output `(n_examples, n_timesteps, n_out)`, h, step, ...).
    """

    cell = CELL

    def __init__(self, rng, input, n_in, n_hidden, n_out, n_fact, dropout_rate=0, activation="tanh",
                 outputActivation="softmax", params=None, mask=None, name="MRNN"):
        self.n_fact = check_size(n_fact, "%s: n_fact" % name)
        super().__init__(rng, input, n_in, n_hidden, n_out, dropout_rate, activation, outputActivation,
                         params, mask, name)

    def transition_layer(self, rng, activation, params):
        """The multiplicative unit: input h_{t-1}, multiplier x_t (parameters only: the scan applies it)."""
        return MultiplicativeLayer(rng, None, None, n_in=self.n_hidden, n_out=self.n_hidden, n_mult=self.n_in,
                                   n_fact=self.n_fact, activation=activation, params=params,
                                   name=self.name + ".hiddenLayer")

    def hidden_states(self, x, mask, drop):
        layer = self.hiddenLayer
        # x_t W_fx and x_t W_hx + b depend on the input alone: computed for every step at
        # once, side by side in one sequence (given as two, the scan's gradient listed
        # them in an order that changed from run to run, which defeats the compile cache).
        input_parts = T.concatenate(mult_parts(x, layer.W_fm, layer.W_om, layer.b), axis=-1)
        (h,) = run(self.cell, [input_parts], [self.initial_state(x.shape[0])],
                   [layer.W_fi, layer.W_of] + ([] if drop is None else [drop]), mask,
                   name=self.name + ".scan", n_fact=self.n_fact, activation=layer.activation)
        return h

    def step(self, x_t, h_tm1):
        h_t = self.hiddenLayer.apply((h_tm1, x_t))
        return h_t, self.outputLayer.apply(h_t)
