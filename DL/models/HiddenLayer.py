"""A fully connected layer.

    output = activation(input W + b)

input `(n_examples, n_in)` (or `(n_examples, n_timesteps, n_in)`), W `(n_in, n_out)`,
b `(n_out,)`, output `(n_examples, n_out)` (or with the time axis).  W starts
Glorot-uniform (x4 for sigmoid units), b at zero.  With `dropout_rate > 0` the
training `output` drops units of this layer's output (inverted dropout);
`output_deterministic` never does.  Dropout draws from `srng` when one is given
(a RandomStreams, as the original package's MLP and DBN took it), else from the
layer's own stream seeded from `rng`.  As an output layer, the activation picks
loss, pred and errors (see `DL.models.base`).
"""
from DL import activations
from DL.backend import T, RandomStreams
from DL.dropout import check_rate, dropout
from DL.init import glorot_uniform, zeros
from DL.models.base import Layer, as_tensor, check_size, make_param, seed_from, sub_params


class HiddenLayer(Layer):

    def __init__(self, rng, input, n_in, n_out, dropout_rate=0, params=None,
                 activation="tanh", input_deterministic=None, name="HiddenLayer", srng=None):
        self.name = name
        n_in = check_size(n_in, "%s: n_in" % name)
        n_out = check_size(n_out, "%s: n_out" % name)
        self.dropout_rate = check_rate(dropout_rate)
        self.activation = activations.get(activation)
        self.outputActivation = activations.name_of(activation)
        self.input = as_tensor(input, "%s: input" % name, (2, 3), "(n_examples, n_in)")

        W_value, b_value = sub_params(params, 2, name)
        self.W = make_param(W_value, (n_in, n_out), "W", name,
                            lambda: glorot_uniform(rng, n_in, n_out, self.outputActivation))
        self.b = make_param(b_value, (n_out,), "b", name, lambda: zeros(n_out))

        self.srng = None
        if self.dropout_rate > 0:
            self.srng = srng if srng is not None else RandomStreams(seed_from(rng))
        first_draw = len(self.srng.updates()) if self.srng is not None else 0
        self.output = self.apply(self.input, train=True)
        # this layer's own draws: a stream given by the user may serve other layers too
        self._draws = self.srng.updates()[first_draw:] if self.srng is not None else []
        if input_deterministic is None:
            input_deterministic = self.input
        self.output_deterministic = self.apply(input_deterministic, train=False)

    def preactivation(self, x):
        return T.dot(x, self.W) + self.b

    def apply(self, x, train=False):
        """This layer on another input `x` (shares the weights)."""
        h = self.activation(self.preactivation(x))
        if train and self.dropout_rate > 0:
            h = dropout(self.srng, self.dropout_rate, h)
        return h

    @property
    def weights(self):
        return [self.W]

    @property
    def params(self):
        return [self.W, self.b]

    @property
    def updates(self):
        return list(self._draws)
