"""What every model shares: parameters, regularizers, and the output hooks.

A model builds two graphs over the same weights: `output`, the training path
(dropout applied), and `output_deterministic`, the prediction path (no unit
dropped).  `pred` and `errors` read only the second.

The output activation picks the loss and the prediction:

    softmax   loss = nll_multiclass   pred = argmax        errors = pred_error
    sigmoid   loss = nll_binary       pred = round         errors = pred_error
    other     loss = mse              pred = output        errors = mse
"""
import numbers

import numpy

from DL import losses
from DL.backend import T, shared, floatX
from DL.regularization import L1, L2_sqr, layers_L1, layers_L2_sqr


def seed_from(rng):
    """A fresh integer seed drawn from a NumPy RandomState or Generator."""
    if hasattr(rng, "randint"):
        return int(rng.randint(2 ** 30))
    if hasattr(rng, "integers"):
        return int(rng.integers(2 ** 30))
    raise TypeError("rng must be a numpy.random.RandomState or Generator, got %r" % (rng,))


def as_tensor(value, argument, ndims, shape_doc, kind="float"):
    """`value` as a symbolic tensor of one of the ranks `ndims`, or a clear error."""
    try:
        tensor = T.as_tensor_variable(value)
    except Exception:
        raise TypeError("%s must be a symbolic tensor %s, got %r"
                        % (argument, shape_doc, type(value).__name__)) from None
    if tensor.ndim not in ndims:
        raise ValueError("%s must be %s (%s-D), got a %d-D tensor"
                         % (argument, shape_doc, " or ".join(map(str, ndims)), tensor.ndim))
    if kind == "float" and not tensor.dtype.startswith("float"):
        raise TypeError("%s must be a float tensor %s, got dtype %s (cast it, or use "
                        "an EmbeddingLayer for integer ids)" % (argument, shape_doc, tensor.dtype))
    if kind == "int" and not tensor.dtype.startswith(("int", "uint")):
        raise TypeError("%s must be an integer tensor %s, got dtype %s"
                        % (argument, shape_doc, tensor.dtype))
    return tensor


def check_size(value, argument, minimum=1):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError("%s must be an integer >= %d, got %r" % (argument, minimum, value))
    return int(value)


def make_param(value, shape, name, owner, initial):
    """A shared variable of `shape`: `value` (shared or array) or `initial()`.

    A shared variable passed in is used as it is, so two models can share weights."""
    if value is None:
        value = initial()
    current = value.get_value(borrow=True) if hasattr(value, "get_value") else value
    current_shape = numpy.shape(current)
    if tuple(current_shape) != tuple(shape):
        raise ValueError("%s: parameter %s has shape %s but the layer needs %s"
                         % (owner, name, tuple(current_shape), tuple(shape)))
    if hasattr(value, "get_value"):
        return value
    return shared(numpy.asarray(value, dtype=floatX), name="%s.%s" % (owner, name), borrow=False)


def sub_params(params, count, owner):
    """Check the nesting of `params=`: None, or a list of `count` entries.

    A NumPy object array counts as a list: the original package saved
    `model.params` with `numpy.savez`, and `numpy.load(..., allow_pickle=True)`
    gives that nesting back as an object array (e.g. `(2, 2)` for an MLP)."""
    if params is None:
        return [None] * count
    if isinstance(params, numpy.ndarray) and params.dtype == object:
        params = list(params) if params.ndim else params.item()
    if not isinstance(params, (list, tuple)) or len(params) != count:
        found = len(params) if isinstance(params, (list, tuple)) else type(params).__name__
        raise ValueError("%s: params= must be a list of %d entries (one per sub-layer, "
                         "the nesting of model.params), got %s" % (owner, count, found))
    return list(params)


class Model(object):
    """Base of every model: collects params, L1, L2_sqr and updates of `layers`."""

    layers = ()
    outputActivation = "linear"
    mask = None

    @property
    def params(self):
        return [layer.params for layer in self.layers]

    @property
    def L1(self):
        return layers_L1(self.layers)

    @property
    def L2_sqr(self):
        return layers_L2_sqr(self.layers)

    @property
    def updates(self):
        collected = []
        for layer in self.layers:
            collected.extend(layer.updates)
        return collected + list(getattr(self, "_own_updates", []))

    # --- output hooks -----------------------------------------------------

    @property
    def pred(self):
        if self.outputActivation == "softmax":
            return losses.pred_multiclass(self.output_deterministic)
        if self.outputActivation == "sigmoid":
            return losses.pred_binary(self.output_deterministic)
        return self.output_deterministic

    def _mask_for(self, mask):
        return self.mask if mask is None else mask

    def loss(self, y, mask=None):
        """Symbolic training loss of `output` against targets `y`."""
        mask = self._mask_for(mask)
        if self.outputActivation == "softmax":
            return losses.nll_multiclass(self.output, y, mask)
        if self.outputActivation == "sigmoid":
            return losses.nll_binary(self.output, y, mask)
        return losses.mse(self.output, y, mask)

    def errors(self, y, mask=None):
        """Symbolic error rate (classes, bits) or mse (real outputs), no dropout."""
        mask = self._mask_for(mask)
        if self.outputActivation in ("softmax", "sigmoid"):
            return losses.pred_error(self.pred, y, mask)
        return losses.mse(self.output_deterministic, y, mask)


class Layer(Model):
    """A layer that holds its own shared variables (no sub-layers).

    `weights` are the matrices L1 and L2_sqr penalize; biases are not
    penalized.  A layer that draws random numbers overrides `updates`."""

    weights = ()

    @property
    def L1(self):
        return L1(self.weights)

    @property
    def L2_sqr(self):
        return L2_sqr(self.weights)

    @property
    def updates(self):
        return []
