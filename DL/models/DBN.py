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

    def __init__(self, rng, input, n_in, n_out, layer_sizes=None, dropout_rate=0, activation="tanh",
                 outputActivation="softmax", params=None, name="DBN", srng=None):
        ff_params, output_params = sub_params(params, 2, name)
        hidden_sizes = list(layer_sizes or [])
        self.forwardFeed = ForwardFeed(rng, input, [n_in] + hidden_sizes, dropout_rate, ff_params,
                                       activation, name=name + ".forwardFeed", srng=srng)
        n_top = hidden_sizes[-1] if hidden_sizes else check_size(n_in, name + ": n_in")
        self.outputLayer = HiddenLayer(rng, self.forwardFeed.output, n_top, n_out, 0, output_params,
                                       outputActivation,
                                       input_deterministic=self.forwardFeed.output_deterministic,
                                       name=name + ".outputLayer")
        self.input = input
        self.layers = [self.forwardFeed, self.outputLayer]
        self.outputActivation = self.outputLayer.outputActivation
        self.output = self.outputLayer.output
        self.output_deterministic = self.outputLayer.output_deterministic
