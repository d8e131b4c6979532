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

    def __init__(self, rng, input, n_in, n_hidden, n_out, dropout_rate=0, activation="tanh",
                 outputActivation="softmax", params=None, name="MLP", srng=None):
        hidden_params, output_params = sub_params(params, 2, name)
        n_hidden = check_size(n_hidden, name + ": n_hidden (the hidden layer's n_out)")
        self.hiddenLayer = HiddenLayer(rng, input, n_in, n_hidden, dropout_rate, hidden_params,
                                       activation, name=name + ".hiddenLayer", srng=srng)
        self.outputLayer = HiddenLayer(rng, self.hiddenLayer.output, n_hidden, n_out, 0, output_params,
                                       outputActivation,
                                       input_deterministic=self.hiddenLayer.output_deterministic,
                                       name=name + ".outputLayer")
        self.input = self.hiddenLayer.input
        self.layers = [self.hiddenLayer, self.outputLayer]
        self.outputActivation = self.outputLayer.outputActivation
        self.output = self.outputLayer.output
        self.output_deterministic = self.outputLayer.output_deterministic
