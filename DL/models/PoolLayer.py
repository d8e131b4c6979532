"""A pooling layer: each window of each channel reduced to one number.

    output[n, c, i, j] = max  over the window at (i stride_h - pad_h, j stride_w - pad_w)   mode "max"
                       = mean over that window's image cells (padding excluded)            mode "average"

input `(n_examples, n_channels, height, width)`, output `(n_examples, n_channels,
out_h, out_w)` with out_h = (height + 2 pad_h - pool_h) // stride_h + 1 (the
windows that fit; out_w likewise).  `stride` defaults to the pool size (windows
side by side).  Padding is never a value: a max never sees a zero of it, and an
average divides by the image cells it covers (torch's count_include_pad=False).
No parameters.  The pooling is the engine's `T.signal.pool.pool_2d`
(DL.engine.conv).  Max pooling's gradient goes to one input of each window, the
first largest in row-major order (as PyTorch; see DL.engine.pool_op).
"""
from DL.engine.conv import check_fits, pool_2d, static_shape
from DL.models.ConvLayer import IMAGES, size_pair
from DL.models.base import Layer, as_tensor, check_train_keyword

MODES = {"max": "max", "average": "average_exc_pad"}


class PoolLayer(Layer):
    """Max or average pooling over windows of `pool_size` (see the module's docstring).

    input      symbolic float `(n_examples, n_channels, height, width)`, or None
    pool_size  (pool_h, pool_w), or an int
    stride     (stride_h, stride_w), an int, or None: the pool size
    mode       "max" or "average" (padding excluded from the average)
    padding    the padding per side, an int or a pair, each smaller than the pool

    Hooks: output = output_deterministic `(n_examples, n_channels, out_h, out_w)`;
    params [] (none), L1 = L2_sqr = 0.
    """

    def __init__(self, input, pool_size=(2, 2), stride=None, mode="max", padding=0, name="PoolLayer"):
        self.name = name
        self.pool_size = size_pair(pool_size, "%s: pool_size" % name)
        self.stride = self.pool_size if stride is None else size_pair(stride, "%s: stride" % name)
        self.padding = size_pair(padding, "%s: padding" % name, minimum=0)
        if mode not in MODES:
            raise ValueError("%s: mode must be 'max' or 'average', got %r" % (name, mode))
        self.mode = mode
        if self.padding[0] >= self.pool_size[0] or self.padding[1] >= self.pool_size[1]:
            raise ValueError("%s: padding %s must be smaller than the pool_size %s"
                             % (name, self.padding, self.pool_size))
        self.connect(input)

    def check_input(self, input):
        return as_tensor(input, "%s: input" % self.name, (4,), IMAGES)

    def apply(self, x, mask=None, train=False):
        """The pooled x `(n_examples, n_channels, out_h, out_w)` (no dropout, no mask: `train`
        and `mask` change nothing)."""
        check_train_keyword(self, mask)
        x = self.check_input(x)
        check_fits(self.name, "pool", static_shape(x)[2:], self.pool_size, self.padding)
        return pool_2d(x, self.pool_size, ignore_border=True, stride=self.stride, pad=self.padding,
                       mode=MODES[self.mode])

    @property
    def params(self):
        return []
