"""A chain of hidden layers.

    h_0 = input,  h_i = activation(h_{i-1} W_i + b_i)  for i = 1 .. len(layer_sizes) - 1

`layer_sizes = [n_in, n_1, ..., n_k]`; input `(n_examples, n_in)`, output
`(n_examples, n_k)`.  With `dropout_rate > 0` each layer's output is dropped
on the training path, drawn from `srng` when one is given (one RandomStreams for
every layer, as in the original package), else from each layer's own stream.
params: one `[W, b]` per layer.
"""
from DL.models.HiddenLayer import HiddenLayer
from DL.models.base import Model, check_size, sub_params


def chain(rng, input, layer_sizes, dropout_rate, params, activation, owner,
          input_deterministic=None, srng=None):
    """HiddenLayers from `layer_sizes`, each feeding the next, on both paths."""
    if not isinstance(layer_sizes, (list, tuple)) or len(layer_sizes) < 1:
        raise ValueError("%s: layer_sizes must list the input size and then each layer's size, "
                         "got %r" % (owner, layer_sizes))
    sizes = [check_size(size, "%s: layer_sizes[%d]" % (owner, i)) for i, size in enumerate(layer_sizes)]
    layer_params = sub_params(params, len(sizes) - 1, owner)
    layers = []
    train_x, det_x = input, input if input_deterministic is None else input_deterministic
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = HiddenLayer(rng, train_x, n_in, n_out, dropout_rate, layer_params[i], activation,
                            input_deterministic=det_x, name="%s.layers[%d]" % (owner, i), srng=srng)
        layers.append(layer)
        train_x, det_x = layer.output, layer.output_deterministic
    return layers, train_x, det_x


class ForwardFeed(Model):

    def __init__(self, rng, input, layer_sizes=None, dropout_rate=0, params=None,
                 activation="tanh", input_deterministic=None, name="ForwardFeed", srng=None):
        self.input = input
        self.layers, self.output, self.output_deterministic = chain(
            rng, input, layer_sizes, dropout_rate, params, activation, name, input_deterministic, srng)
        self.outputActivation = activation if isinstance(activation, str) else "linear"
