"""A convolutional layer: learned filters slid over images.

    output[n, o] = activation(b[o] + sum_c (input[n, c] * W[o, c]))      (n_examples, n_out, out_h, out_w)

where * is 2-D cross-correlation (the filter is not turned), as torch.nn.Conv2d
and Keras compute it, so their weights load as they are:

    (x * w)[i, j] = sum_{u, v} x[i stride_h + u - pad_h, j stride_w + v - pad_w] w[u, v]

input `(n_examples, n_in, height, width)` (channels first, as Theano),
W `(n_out, n_in, filter_h, filter_w)`, b `(n_out,)`, and
out_h = (height + 2 pad_h - filter_h) // stride_h + 1 (out_w likewise).
`padding` is "valid" (none), "same" (odd filters: filter // 2 zeros on each
side, so a stride of 1 keeps the image's size) or an int / pair of zeros per side.
W starts Glorot-uniform over fan_in = n_in filter_h filter_w and fan_out =
n_out filter_h filter_w, b at zero.  With `dropout_rate > 0` the training
`output` drops units (inverted dropout).  The convolution is the engine's
`T.nnet.conv2d` (DL.engine.conv: DL's Ops on PyTensor, with Numba and JAX code;
Theano's own on legacy Theano), called with filter_flip=False.
params: `[W, b]`; L1 and L2 cover W.
"""
import numbers

import numpy

from DL import activations
from DL.backend import T, RandomStreams, check_and_raise, floatX
from DL.dropout import check_rate
from DL.engine.conv import check_fits, conv2d, static_shape
from DL.init import check_rng, zeros
from DL.models.base import (WeightLayer, as_tensor, check_size, check_train_keyword, make_param, seed_from,
                            sub_params)

IMAGES = "(n_examples, n_in, height, width)"


def size_pair(value, argument, minimum=1):
    """`value`, an int or a pair of ints >= `minimum`, as a pair; or a ValueError naming `argument`."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= minimum for v in pair)):
        raise ValueError("%s must be an int or a pair of ints >= %d (height, width), got %r"
                         % (argument, minimum, value))
    return tuple(int(v) for v in pair)


def conv_padding(padding, filter_size, owner):
    """The zeros on each side, (pad_h, pad_w), for "valid", "same" (odd filters) or an int / pair."""
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if filter_size[0] % 2 == 0 or filter_size[1] % 2 == 0:
            raise ValueError("%s: padding='same' needs odd filters (it pads filter // 2 on each side), "
                             "got filter_size=%s; give the padding as an int or a pair instead"
                             % (owner, filter_size))
        return (filter_size[0] // 2, filter_size[1] // 2)
    if isinstance(padding, str):
        raise ValueError("%s: padding must be 'valid', 'same', an int or a pair, got %r" % (owner, padding))
    return size_pair(padding, "%s: padding" % owner, minimum=0)


def conv_weights(rng, n_in, n_out, filter_size, activation):
    """`(n_out, n_in, filter_h, filter_w)` Glorot-uniform over the filters' fans (x4 for sigmoid)."""
    check_rng(rng)
    area = filter_size[0] * filter_size[1]
    bound = numpy.sqrt(6.0 / (n_in * area + n_out * area)) * (4 if activation == "sigmoid" else 1)
    return numpy.asarray(rng.uniform(-bound, bound, size=(n_out, n_in) + tuple(filter_size)), dtype=floatX)


def check_images(images, n_channels, owner):
    """`images` as a 4-D float tensor with `n_channels` on axis 1 (checked now where the shape
    is known, else when the function runs), or a clear error."""
    images = as_tensor(images, "%s: input" % owner, (4,), "%s, n_in=%d" % (IMAGES, n_channels))
    channels = static_shape(images)[1]
    message = ("%s: the input has %%s channels (axis 1 of %s) but the layer has n_in=%d; make them "
               "equal" % (owner, IMAGES, n_channels))
    if channels is not None and channels != n_channels:
        raise ValueError(message % channels)
    return check_and_raise(images, T.eq(images.shape[1], n_channels), message % "another number of")


class ConvLayer(WeightLayer):
    """output = activation(conv(input, W) + b): n_out filters over n_in channels.

    rng           numpy.random.RandomState: draws W, then the dropout seed
    input         symbolic float `(n_examples, n_in, height, width)`, or None (parameters only)
    n_in, n_out   channels in and filters (channels out)
    filter_size   (filter_h, filter_w), or an int for square filters
    stride        (stride_h, stride_w), or an int
    padding       "valid", "same" (odd filters) or the zeros per side, an int or a pair
    activation    a DL.activations name or a function ('relu')
    dropout_rate  in [0, 1): the share of output units dropped on the training path
    params        None, or `[W (n_out, n_in, filter_h, filter_w), b (n_out,)]`

    Hooks: output, output_deterministic `(n_examples, n_out, out_h, out_w)`; params,
    L1, L2_sqr (W), updates (the dropout draws).
    """

    def __init__(self, rng, input, n_in, n_out, filter_size=(3, 3), stride=(1, 1), padding="valid",
                 activation="relu", dropout_rate=0, params=None, name="ConvLayer"):
        self.name = name
        self.n_in = check_size(n_in, "%s: n_in" % name)
        self.n_out = check_size(n_out, "%s: n_out" % name)
        self.filter_size = size_pair(filter_size, "%s: filter_size" % name)
        self.stride = size_pair(stride, "%s: stride" % name)
        self.padding = conv_padding(padding, self.filter_size, name)
        self.dropout_rate = check_rate(dropout_rate)
        self.activation = activations.get(activation)
        self.outputActivation = activations.name_of(activation)

        W_value, b_value = sub_params(params, 2, name)
        self.W = make_param(W_value, (self.n_out, self.n_in) + self.filter_size, "W", name,
                            lambda: conv_weights(rng, self.n_in, self.n_out, self.filter_size,
                                                 self.outputActivation))
        self.b = make_param(b_value, (self.n_out,), "b", name, lambda: zeros(self.n_out))
        self.srng = RandomStreams(seed_from(rng)) if self.dropout_rate > 0 else None
        self.connect(input)

    def check_input(self, input):
        return check_images(input, self.n_in, self.name)

    def apply(self, x, mask=None, train=False):
        """activation(conv(x, W) + b) for x `(n_examples, n_in, height, width)`, dropped out
        when `train`: `(n_examples, n_out, out_h, out_w)`.  (`mask` is unused.)"""
        check_train_keyword(self, mask)
        x = self.check_input(x)
        check_fits(self.name, "filter", static_shape(x)[2:], self.filter_size, self.padding)
        convolved = conv2d(x, self.W, border_mode=self.padding, subsample=self.stride, filter_flip=False,
                           filter_shape=(self.n_out, self.n_in) + self.filter_size)
        return self.dropped(self.activation(convolved + self.b.dimshuffle("x", 0, "x", "x")), train)
