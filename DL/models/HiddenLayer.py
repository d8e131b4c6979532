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
from DL.dropout import check_rate
from DL.init import glorot_uniform, zeros
from DL.models.base import WeightLayer, check_size, check_train_keyword, make_param, seed_from, sub_params


class HiddenLayer(WeightLayer):
    """output = activation(input W + b), units dropped on the training path.

    rng           numpy.random.RandomState (or Generator): draws W, then the dropout seed
    input         symbolic float `(n_examples, n_in)` or `(n_examples, n_timesteps, n_in)`,
                  or None: parameters only, to `apply` to other tensors
    n_in, n_out   sizes: W `(n_in, n_out)`, b `(n_out,)`
    dropout_rate  in [0, 1): the share of output units dropped on the training path
    params        None, or `[W, b]` (shared variables or arrays)
    activation    a name of DL.activations ('tanh', 'sigmoid', 'relu', 'cappedrelu',
                  'linear', 'softmax') or a function
    srng          None, or a RandomStreams to draw the dropout masks from (the original
                  package's argument); by default a stream seeded from rng

    Hooks: output, output_deterministic `(n_examples, n_out)`, pred, loss(y),
    errors(y), params `[W, b]`, L1, L2_sqr (W only), updates (dropout draws).
    """

    def __init__(self, rng, input, n_in, n_out, dropout_rate=0, params=None,
                 activation="tanh", name="HiddenLayer", srng=None):
        self.name = name
        n_in = check_size(n_in, "%s: n_in" % name)
        n_out = check_size(n_out, "%s: n_out" % name)
        self.dropout_rate = check_rate(dropout_rate)
        self.activation = activations.get(activation)
        self.outputActivation = activations.name_of(activation)

        W_value, b_value = sub_params(params, 2, name)
        self.W = make_param(W_value, (n_in, n_out), "W", name,
                            lambda: glorot_uniform(rng, n_in, n_out, self.outputActivation))
        self.b = make_param(b_value, (n_out,), "b", name, lambda: zeros(n_out))
        self.srng = None
        if self.dropout_rate > 0:  # the user's stream (srng=, as the original package took), else our own
            self.srng = srng if srng is not None else RandomStreams(seed_from(rng))
        self.connect(input)

    def preactivation(self, x):
        """x W + b: `(..., n_in)` -> `(..., n_out)`."""
        return T.dot(x, self.W) + self.b

    def apply(self, x, mask=None, train=False):
        """activation(x W + b) for x `(..., n_in)`, dropped out when `train`; shares the weights.
        (`mask` is accepted, as by every layer, and unused: each row stands alone.)"""
        check_train_keyword(self, mask)
        return self.dropped(self.activation(self.preactivation(x)), train)
