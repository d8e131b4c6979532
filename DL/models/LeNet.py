"""LeNet, the convolutional network of the deeplearning.net tutorial (LeCun et al. 1998).

    x  (n_examples, channels, height, width)                   (flat rows are reshaped)
    h1 = maxpool(tanh(conv(x,  W1) + b1))     20 filters 5x5, pool 2x2   (n, 20, 12, 12) for MNIST
    h2 = maxpool(tanh(conv(h1, W2) + b2))     50 filters 5x5, pool 2x2   (n, 50, 4, 4)
    h3 = tanh(flatten(h2) W3 + b3)            500 units
    y  = softmax(h3 W4 + b4)                  10 classes

As in the tutorial, the tanh is taken after the pooling (max pooling commutes
with a monotone activation, so this is the same network computed on a quarter
of the numbers): each stage's ConvLayer is linear, the tanh is LeNet's.
Input: flat rows `(n_examples, channels height width)`, as DL.datasets.mnist()
gives them, or images `(n_examples, channels, height, width)`.
params: `[conv1 [W, b], conv2 [W, b], hidden [W, b], output [W, b]]`.
"""
from DL import activations
from DL.models.ConvLayer import ConvLayer
from DL.models.HiddenLayer import HiddenLayer
from DL.models.PoolLayer import PoolLayer
from DL.models.base import Model, as_tensor, check_size, sub_params


class LeNet(Model):
    """Two convolution + max-pooling stages, a hidden layer and a softmax (see the module).

    rng            numpy.random.RandomState: draws the weights, stage by stage
    input          symbolic float `(n_examples, channels height width)` or `(n_examples,
                   channels, height, width)`, or None (parameters only)
    image_shape    (channels, height, width) of one example
    n_filters      the filters of the two stages;  filter_size  their (square) size
    pool_size      the max pools' (square) size
    n_hidden, n_out   the hidden layer's units and the classes
    activation     of the convolutions and the hidden layer ('tanh')
    dropout_rate   in [0, 1): the hidden layer's units dropped on the training path
    params         None, or `[[W1, b1], [W2, b2], [W3, b3], [W4, b4]]`

    Hooks: output, output_deterministic `(n_examples, n_out)`, pred, loss(y), errors(y),
    params, L1, L2_sqr, updates; convLayers, poolLayers, hiddenLayer, outputLayer.
    """

    def __init__(self, rng, input, image_shape=(1, 28, 28), n_filters=(20, 50), filter_size=5, pool_size=2,
                 n_hidden=500, n_out=10, activation="tanh", dropout_rate=0, params=None, name="LeNet"):
        self.name = name
        if len(image_shape) != 3:
            raise ValueError("%s: image_shape must be (channels, height, width), got %r" % (name, image_shape))
        self.image_shape = tuple(check_size(size, "%s: image_shape" % name) for size in image_shape)
        if len(n_filters) != 2:
            raise ValueError("%s: n_filters must give the two stages' filters, e.g. (20, 50), got %r"
                             % (name, n_filters))
        parts = sub_params(params, 4, name)
        channels, height, width = self.image_shape
        self.convLayers, self.poolLayers = [], []
        for stage, filters in enumerate(n_filters):
            conv = ConvLayer(rng, None, channels, filters, filter_size, activation="linear", params=parts[stage],
                             name="%s.convLayers[%d]" % (name, stage))
            pool = PoolLayer(None, pool_size, name="%s.poolLayers[%d]" % (name, stage))
            height, width = self.shrink(height, conv, pool), self.shrink(width, conv, pool)
            self.convLayers.append(conv)
            self.poolLayers.append(pool)
            channels = filters
        self.activation = activations.get(activation)
        self.hiddenLayer = HiddenLayer(rng, None, channels * height * width, n_hidden, dropout_rate, parts[2],
                                       activation, name=name + ".hiddenLayer")
        self.outputLayer = HiddenLayer(rng, None, n_hidden, n_out, 0, parts[3], "softmax",
                                       name=name + ".outputLayer")
        self.layers = self.convLayers + [self.hiddenLayer, self.outputLayer]
        self.connect(input)

    def shrink(self, size, conv, pool):
        """The size of an image axis of `size` after a stage (a ValueError if nothing is left)."""
        after = (size - conv.filter_size[0] + 1) // pool.pool_size[0]
        if after < 1:
            raise ValueError("%s: the image_shape %s is too small for two stages of %s filters and %s pools"
                             % (self.name, self.image_shape, conv.filter_size, pool.pool_size))
        return after

    def check_input(self, input):
        x = as_tensor(input, "%s: input" % self.name, (2, 4),
                      "(n_examples, channels height width) or (n_examples, channels, height, width)")
        return x

    def apply(self, x, mask=None, train=False):
        """The class probabilities `(n_examples, n_out)` for x, flat rows or images."""
        if x.ndim == 2:
            x = x.reshape((x.shape[0],) + self.image_shape)
        for conv, pool in zip(self.convLayers, self.poolLayers):
            x = self.activation(pool.apply(conv.apply(x, train=train)))  # the pool before the tanh
        return self.outputLayer.apply(self.hiddenLayer.apply(x.flatten(2), train=train), train=train)
