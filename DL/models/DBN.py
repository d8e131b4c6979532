"""A deep feed-forward net: a ForwardFeed of hidden layers, then an output layer.

    h_0 = x,  h_i = activation(h_{i-1} W_i + b_i),  y = outputActivation(h_k W_o + b_o)

x `(n_examples, n_in)`, `layer_sizes = [n_1, ..., n_k]` the hidden sizes,
y `(n_examples, n_out)`.  params: `[[[W_1, b_1], ..., [W_k, b_k]], [W_o, b_o]]`.
`srng=`: a RandomStreams for the dropout masks of every hidden layer, as the
original package took it.  (The name is the original package's; the layers
are trained jointly by backpropagation, not pre-trained as restricted
Boltzmann machines.)
"""
from DL.models.ForwardFeed import ForwardFeed
from DL.models.HiddenLayer import HiddenLayer
from DL.models.base import Model, check_size, sub_params


class DBN(Model):
    """A deep net: hidden layers of `layer_sizes`, then an output layer.

    rng               numpy.random.RandomState: draws each hidden W (and dropout seed), then W_o
    input             symbolic float x `(n_examples, n_in)`, or None (parameters only)
    n_in, n_out       sizes of x and y
    layer_sizes       the hidden sizes `[n_1, ..., n_k]` (empty: logistic regression on x)
    dropout_rate      in [0, 1): hidden units dropped on the training path
    activation        the hidden layers'; outputActivation  'softmax', 'sigmoid' or 'linear'
    params            None, or `[[[W_1, b_1], ..., [W_k, b_k]], [W_o (n_k, n_out), b_o (n_out,)]]`
    srng          None, or a RandomStreams to draw the dropout masks from (the original
                  package's argument); by default a stream seeded from rng

    Hooks: output, output_deterministic `(n_examples, n_out)`, pred, loss(y),
    errors(y) (y as for the MLP), params, L1, L2_sqr, updates; forwardFeed, outputLayer.
    """

    def __init__(self, rng, input, n_in, n_out, layer_sizes=None, dropout_rate=0, activation="tanh",
                 outputActivation="softmax", params=None, name="DBN", srng=None):
        self.name = name
        ff_params, output_params = sub_params(params, 2, name)
        hidden_sizes = list(layer_sizes or [])
        self.forwardFeed = ForwardFeed(rng, None, [n_in] + hidden_sizes, dropout_rate, ff_params,
                                       activation, name=name + ".forwardFeed", srng=srng)
        n_top = hidden_sizes[-1] if hidden_sizes else check_size(n_in, name + ": n_in")
        self.outputLayer = HiddenLayer(rng, None, n_top, n_out, 0, output_params, outputActivation,
                                       name=name + ".outputLayer")
        self.layers = [self.forwardFeed, self.outputLayer]
        self.connect(input)
