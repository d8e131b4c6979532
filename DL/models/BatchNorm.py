"""Batch normalization (Ioffe and Szegedy 2015), as torch.nn.BatchNorm2d / BatchNorm1d.

Training path, over the minibatch (and, for images, every position):

    mean  = E[x],  var = E[(x - mean)^2]                    the biased variance
    y     = gamma (x - mean) / sqrt(var + epsilon) + beta
    running_mean <- (1 - momentum) running_mean + momentum mean
    running_var  <- (1 - momentum) running_var  + momentum var m / (m - 1)   (unbiased; m values per feature)

Prediction path:  y = gamma (x - running_mean) / sqrt(running_var + epsilon) + beta.

input `(n_examples, n_features)` (features on axis 1) or `(n_examples, n_features,
height, width)` (channels on axis 1), output the same shape.  gamma starts at
one, beta at zero, the running mean at zero and the running variance at one.

`params` are `[gamma, beta]`, trained by gradient.  The running statistics are
`state`: the training pass registers their updates on its output (DL.state), so
they reach `model.updates` and `optimize` (which applies them at every step),
checkpoints keep them, and `model.variables` (`[gamma, beta, running_mean,
running_var]`) is what `DL.io.save` writes and `params=` takes back (`params=`
also takes `[gamma, beta]` alone: fresh statistics).
"""
import numpy

from DL import state
from DL.backend import T, check_and_raise, floatX
from DL.init import zeros
from DL.models.base import Layer, as_tensor, check_size, check_train_keyword, make_param, sub_params


def _axes(ndim):
    """The axes a feature's statistics run over: all but axis 1."""
    return (0,) if ndim == 2 else (0, 2, 3)


def _per_feature(vector, ndim):
    """`(n_features,)` broadcast against a `(n_examples, n_features[, height, width])` input."""
    return vector.dimshuffle("x", 0) if ndim == 2 else vector.dimshuffle("x", 0, "x", "x")


class BatchNorm(Layer):
    """y = gamma (x - mean) / sqrt(var + epsilon) + beta per feature (see the module's docstring).

    input       symbolic float `(n_examples, n_features)` or `(n_examples, n_features, height,
                width)`, or None (parameters only)
    n_features  the size of axis 1
    momentum    in (0, 1]: how far the running statistics move at each training step
    epsilon     > 0, added to the variance
    params      None, `[gamma, beta]`, or `[gamma, beta, running_mean, running_var]`, each `(n_features,)`

    Hooks: output (batch statistics), output_deterministic (running statistics); params
    `[gamma, beta]`, state `[running_mean, running_var]`, variables (both), updates
    (the running statistics' moves); L1 = L2_sqr = 0 (gamma and beta are not penalized).
    """

    def __init__(self, input, n_features, momentum=0.1, epsilon=1e-5, params=None, name="BatchNorm"):
        self.name = name
        self.n_features = n = check_size(n_features, "%s: n_features" % name)
        if not 0 < momentum <= 1:
            raise ValueError("%s: momentum must be in (0, 1], got %r" % (name, momentum))
        if not epsilon > 0:
            raise ValueError("%s: epsilon must be > 0, got %r" % (name, epsilon))
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        given = [None] * 4 if params is None else list(params) + [None] * (4 - len(params))
        if params is not None and len(params) not in (2, 4):
            sub_params(params, 2, name + " (params=[gamma, beta] or [gamma, beta, running_mean, running_var])")
        values = [make_param(value, (n,), part, name, initial) for value, part, initial in zip(
            given, ("gamma", "beta", "running_mean", "running_var"),
            (lambda: numpy.ones(n, dtype=floatX), lambda: zeros(n), lambda: zeros(n),
             lambda: numpy.ones(n, dtype=floatX)))]
        self.gamma, self.beta, self.running_mean, self.running_var = values
        self.connect(input)

    @property
    def drops(self):
        """True: the training path (batch statistics) differs from the prediction path."""
        return True

    def check_input(self, input):
        x = as_tensor(input, "%s: input" % self.name, (2, 4),
                      "(n_examples, n_features=%d) or (n_examples, n_features, height, width)" % self.n_features)
        message = "%s: the input's axis 1 must have n_features=%d features" % (self.name, self.n_features)
        static = getattr(x.type, "shape", None)
        if static and static[1] is not None and static[1] != self.n_features:
            raise ValueError(message + ", got %d" % static[1])
        return check_and_raise(x, T.eq(x.shape[1], self.n_features), message)

    def apply(self, x, mask=None, train=False):
        """The normalized x, the same shape: batch statistics when `train` (and the running
        statistics' updates registered on the result), the running ones otherwise."""
        check_train_keyword(self, mask)
        x = self.check_input(x)
        if not train:
            return self.normalize(x, self.running_mean, self.running_var)
        axes = _axes(x.ndim)
        mean = T.mean(x, axis=axes)
        var = T.mean(T.sqr(x - _per_feature(mean, x.ndim)), axis=axes)  # biased, as torch normalizes
        count = x.shape[0]
        for axis in axes[1:]:
            count = count * x.shape[axis]
        count = T.cast(count, x.dtype)
        unbiased = var * count / T.maximum(count - 1, 1)
        m = T.cast(self.momentum, self.running_mean.dtype)
        moves = [(self.running_mean, T.cast((1 - m) * self.running_mean + m * mean, self.running_mean.dtype)),
                 (self.running_var, T.cast((1 - m) * self.running_var + m * unbiased, self.running_var.dtype))]
        return state.register(self.normalize(x, mean, var), moves)

    def normalize(self, x, mean, var):
        scale = self.gamma / T.sqrt(var + self.epsilon)
        return (x - _per_feature(mean, x.ndim)) * _per_feature(scale, x.ndim) + _per_feature(self.beta, x.ndim)

    @property
    def params(self):
        """`[gamma (n_features,), beta (n_features,)]`: trained by gradient."""
        return [self.gamma, self.beta]

    @property
    def state(self):
        """`[running_mean (n_features,), running_var (n_features,)]`: moved by the training path."""
        return [self.running_mean, self.running_var]
