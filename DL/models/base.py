"""What every model shares: parameters, regularizers, and the output hooks.

Define once, apply twice.  A layer or model creates its parameters once, in
its constructor, and has one forward function `apply(x, train)`.  `connect`
applies it twice to the model's input:

    output               = apply(input, train=True)    the training path (dropout)
    output_deterministic = apply(input, train=False)   the prediction path (no unit dropped)

(one graph when nothing drops).  A model composes layers by calling their
`apply`; a layer built with `input=None` has its parameters only, to be applied
to tensors made elsewhere (a scan's, another layer's).  `pred` and `errors`
read only the deterministic path.

The output activation (`outputActivation`, the output layer's) picks the loss
and the prediction:

    softmax   loss = nll_multiclass   pred = argmax        errors = pred_error
    sigmoid   loss = nll_binary       pred = round         errors = pred_error
    other     loss = mse              pred = output        errors = mse

Every model's `loss` and `errors` take `(y=None, mask=None)`: targets y
`(n_examples,)` class ids or `(n_examples, n_out)` (a time axis after
n_examples for sequences), and an optional float mask `(n_examples,)` or
`(n_examples, n_timesteps)`, 1 where the example or step counts.  A model
that needs no targets (the next-observation estimators) says so, and refuses y.
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
    """`value` as a symbolic tensor of one of the ranks `ndims`, or a clear error.

    argument   the name the error gives it ("MLP: input");  shape_doc  e.g. "(n_examples, n_in)"
    kind       "float", "int" or "number": the dtypes accepted"""
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
    """`value` as an int >= `minimum`, or a ValueError naming `argument`."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError("%s must be an integer >= %d, got %r" % (argument, minimum, value))
    return int(value)


def make_param(value, shape, name, owner, initial):
    """A shared variable of `shape` named `owner.name`: `value` (a shared variable or an
    array of `shape`, from `params=`), or `initial()` when `value` is None.

    A shared variable passed in is used as it is, so two models can share weights;
    a value of another shape is refused, naming `owner` and both shapes."""
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


def output_pred(activation, output):
    """The prediction from `output` `(n_examples, [n_timesteps,] n_out)`: class ids
    (softmax), bits (sigmoid) or the output itself (other activations)."""
    if activation == "softmax":
        return losses.pred_multiclass(output)
    if activation == "sigmoid":
        return losses.pred_binary(output)
    return output


def output_loss(activation, output, y, mask=None):
    """The training loss of `output` against targets `y`, picked by the activation."""
    if activation == "softmax":
        return losses.nll_multiclass(output, y, mask)
    if activation == "sigmoid":
        return losses.nll_binary(output, y, mask)
    return losses.mse(output, y, mask)


def output_errors(activation, output_deterministic, y, mask=None):
    """The error rate (softmax, sigmoid) or mse (other activations) of the prediction."""
    if activation in ("softmax", "sigmoid"):
        return losses.pred_error(output_pred(activation, output_deterministic), y, mask)
    return losses.mse(output_deterministic, y, mask)


class Model(object):
    """Base of every model: the hooks, over the model's `layers` and its `apply`.

    A subclass creates its parameters (its sub-layers, in `layers`; its output
    layer, if any, in `outputLayer`), defines `apply(x, train)` unless its layers
    simply feed each other in turn, and calls `connect(input)`.  Then

        params    [layer.params for layer in layers]  (the nesting `params=` takes back)
        L1, L2_sqr  sums over the layers' weights (not biases)
        updates   the random draws of the training path (each layer's, then the model's own `srng`'s)
        output, output_deterministic, pred, loss(y, mask), errors(y, mask)
    """

    layers = ()
    outputLayer = None   # the layer whose activation picks loss, pred and errors
    outputActivation = "linear"  # that activation's name (a Layer: its own)
    dropout_rate = 0     # the model's own dropout (its layers have theirs)
    srng = None          # the model's own random stream, when it draws itself
    mask = None
    name = "Model"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # DL.models imports each class under its module's name, so `DL.models.MLP` is the
        # class; this keeps the module path `DL.models.MLP.MLP` naming it too (help() works)
        setattr(cls, cls.__name__, cls)

    def apply(self, x, train=False):
        """The forward function: the output for input `x` on the training path
        (`train=True`: dropout) or the deterministic one.  By default the
        layers in turn, each feeding the next (a model that does more overrides it)."""
        for layer in self.layers:
            x = layer.apply(x, train)
        return x

    def check_input(self, input):
        """`input` as a float `(n_examples, n_in)` tensor (or with a time axis)."""
        return as_tensor(input, "%s: input" % self.name, (2, 3), "(n_examples, n_in)")

    def connect(self, input):
        """Apply the model to `input` twice: `output` (training) and `output_deterministic`.
        With `input=None` the model holds its parameters only."""
        if self.outputLayer is not None:
            self.outputActivation = self.outputLayer.outputActivation
        self.input = None if input is None else self.check_input(input)
        if self.input is None:
            return
        self.output = self.apply(self.input, train=True)
        self.output_deterministic = self.apply(self.input, train=False) if self.drops else self.output

    def __getattr__(self, name):
        # only reached for attributes never set: say why a hook is missing
        if name in ("output", "output_deterministic") and self.__dict__.get("input", 0) is None:
            raise AttributeError("%s was built with input=None: it holds its parameters only; "
                                 "apply it with .apply(x, train)" % self.__dict__.get("name", type(self).__name__))
        raise AttributeError("%r object has no attribute %r" % (type(self).__name__, name))

    @property
    def drops(self):
        """True when the training path drops units (its own or a layer's)."""
        return self.dropout_rate > 0 or any(layer.drops for layer in self.layers)

    @property
    def params(self):
        """The shared variables, nested one list per layer: what `params=` takes back."""
        return [layer.params for layer in self.layers]

    @property
    def L1(self):
        """Symbolic scalar: the sum of |w| over the layers' weights (not biases)."""
        return layers_L1(self.layers)

    @property
    def L2_sqr(self):
        """Symbolic scalar: the sum of w ** 2 over the layers' weights (not biases)."""
        return layers_L2_sqr(self.layers)

    @property
    def updates(self):
        """(shared generator, next state) pairs of the training path's random draws."""
        collected = []
        for layer in self.layers:
            collected.extend(layer.updates)
        return collected + (self.srng.updates() if self.srng is not None else [])

    # --- output hooks -----------------------------------------------------

    @property
    def pred(self):
        """The prediction, from `output_deterministic` (see `output_pred`)."""
        return output_pred(self.outputActivation, self.output_deterministic)

    def targets(self, y, mask, hook):
        """(y, mask) for `loss` and `errors`: y is required; the mask defaults to the model's."""
        if y is None:
            raise TypeError("%s.%s(y, mask=None) needs the targets y: class ids for a softmax output, "
                            "else arrays shaped as the output" % (type(self).__name__, hook))
        return y, self.mask if mask is None else mask

    def loss(self, y=None, mask=None):
        """Symbolic training loss of `output` against targets `y` (optional `mask`)."""
        y, mask = self.targets(y, mask, "loss")
        return output_loss(self.outputActivation, self.output, y, mask)

    @property
    def metric(self):
        """What `errors` measures, for optimize(metric=...): 'error rate' (softmax, sigmoid) or 'mse'."""
        return "error rate" if self.outputActivation in ("softmax", "sigmoid") else "mse"

    def errors(self, y=None, mask=None):
        """Symbolic error rate (classes, bits) or mse (real outputs) against `y`, no dropout."""
        y, mask = self.targets(y, mask, "errors")
        return output_errors(self.outputActivation, self.output_deterministic, y, mask)


class Layer(Model):
    """A layer that holds its own shared variables (no sub-layers).

    `weights` are the matrices L1 and L2_sqr penalize; biases are not
    penalized.  Its `outputActivation` is its own activation's name."""

    weights = ()

    @property
    def drops(self):
        return self.dropout_rate > 0

    @property
    def L1(self):
        """Symbolic scalar: the sum of |w| over `weights`."""
        return L1(self.weights)

    @property
    def L2_sqr(self):
        """Symbolic scalar: the sum of w ** 2 over `weights`."""
        return L2_sqr(self.weights)
