"""A chain of hidden layers.

    h_0 = input,  h_i = activation(h_{i-1} W_i + b_i)  for i = 1 .. len(layer_sizes) - 1

`layer_sizes = [n_in, n_1, ..., n_k]`; input `(n_examples, n_in)`, output
`(n_examples, n_k)`.  With `dropout_rate > 0` each layer's output is dropped
on the training path, drawn from `srng` when one is given (one RandomStreams for
every layer, as in the original package), else from each layer's own stream.
params: one `[W, b]` per layer.
"""
from DL.models.HiddenLayer import HiddenLayer
from DL.models.base import Model, chain, check_size, sub_params


def hidden_layers(rng, layer_sizes, dropout_rate, params, activation, owner, srng=None):
    """HiddenLayers (parameters only) from `layer_sizes = [n_in, n_1, ..., n_k]`:
    layer i maps n_{i-1} to n_i; `params` one `[W, b]` per layer, or None."""
    if not isinstance(layer_sizes, (list, tuple)) or len(layer_sizes) < 1:
        raise ValueError("%s: layer_sizes must list the input size and then each layer's size, "
                         "got %r" % (owner, layer_sizes))
    sizes = [check_size(size, "%s: layer_sizes[%d]" % (owner, i)) for i, size in enumerate(layer_sizes)]
    layer_params = sub_params(params, len(sizes) - 1, owner)
    return [HiddenLayer(rng, None, n_in, n_out, dropout_rate, layer_params[i], activation,
                        name="%s.layers[%d]" % (owner, i), srng=srng)
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]


class ForwardFeed(Model):
    """A chain of HiddenLayers: h_i = activation(h_{i-1} W_i + b_i).

    rng           numpy.random.RandomState: draws each layer's W (and dropout seed) in turn
    input         symbolic float `(n_examples, n_in)` (or with a time axis), or None
    layer_sizes   `[n_in, n_1, ..., n_k]`; `[n_in]` alone is the identity
    dropout_rate  in [0, 1): each layer's output is dropped on the training path
    params        None, or one `[W_i (n_{i-1}, n_i), b_i (n_i,)]` per layer
    activation    every layer's activation (a DL.activations name or a function)
    srng          None, or a RandomStreams to draw the dropout masks from (the original
                  package's argument); by default a stream seeded from rng

    Hooks: output, output_deterministic `(n_examples, n_k)`, params, L1, L2_sqr, updates;
    `layers` the HiddenLayers.  As an output, the last layer's activation picks the loss.
    """

    def __init__(self, rng, input, layer_sizes=None, dropout_rate=0, params=None,
                 activation="tanh", name="ForwardFeed", srng=None):
        self.name = name
        self.layers = hidden_layers(rng, layer_sizes, dropout_rate, params, activation, name, srng)
        self.outputLayer = self.layers[-1] if self.layers else None
        self.connect(input)

    def apply(self, x, mask=None, train=False):
        """x `(n_examples, n_in)` through the layers in turn: `(n_examples, n_k)`; with
        `layer_sizes=[n_in]` (no layers) the identity.  (`mask` is unused.)"""
        return chain(self.layers, x, mask, train)
