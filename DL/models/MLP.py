"""Multi-layer perceptron: one hidden layer and an output layer.

    h = activation(x W_h + b_h)               (dropped out on the training path)
    y = outputActivation(h W_o + b_o)

x `(n_examples, n_in)`, h `(n_examples, n_hidden)`, y `(n_examples, n_out)`.
params: `[[W_h, b_h], [W_o, b_o]]`.  `srng=`: a RandomStreams to draw the dropout
masks from (`T.shared_randomstreams.RandomStreams(seed)`, as the original
package's scripts passed it); by default the hidden layer has its own.
"""
from DL.models.HiddenLayer import HiddenLayer
from DL.models.base import Model, check_size, sub_params


class MLP(Model):
    """A multi-layer perceptron: y = outputActivation(activation(x W_h + b_h) W_o + b_o).

    rng               numpy.random.RandomState: draws W_h (then the dropout seed), then W_o
    input             symbolic float x `(n_examples, n_in)`, or None (parameters only)
    n_in, n_hidden, n_out   sizes of x, h and y
    dropout_rate      in [0, 1): hidden units dropped on the training path
    activation        the hidden layer's ('tanh', 'sigmoid', 'relu', ...)
    outputActivation  'softmax' (classes: y holds probabilities), 'sigmoid' (bits), 'linear' (reals)
    params            None, or `[[W_h (n_in, n_hidden), b_h (n_hidden,)], [W_o (n_hidden, n_out), b_o (n_out,)]]`
    srng          None, or a RandomStreams to draw the dropout masks from (the original
                  package's argument); by default a stream seeded from rng

    Hooks: output, output_deterministic `(n_examples, n_out)`; pred `(n_examples,)`
    class ids (softmax), or `(n_examples, n_out)`; loss(y), errors(y) with y
    `(n_examples,)` class ids (softmax) or `(n_examples, n_out)`; params, L1,
    L2_sqr, updates; hiddenLayer, outputLayer.
    """

    def __init__(self, rng, input, n_in, n_hidden, n_out, dropout_rate=0, activation="tanh",
                 outputActivation="softmax", params=None, name="MLP", srng=None):
        self.name = name
        hidden_params, output_params = sub_params(params, 2, name)
        n_hidden = check_size(n_hidden, name + ": n_hidden (the hidden layer's n_out)")
        self.hiddenLayer = HiddenLayer(rng, None, n_in, n_hidden, dropout_rate, hidden_params,
                                       activation, name=name + ".hiddenLayer", srng=srng)
        self.outputLayer = HiddenLayer(rng, None, n_hidden, n_out, 0, output_params, outputActivation,
                                       name=name + ".outputLayer")
        self.layers = [self.hiddenLayer, self.outputLayer]
        self.connect(input)
