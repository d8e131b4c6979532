"""What every model shares: parameters, regularizers, and the output hooks.

Define once, apply twice.  A layer or model creates its parameters once, in
its constructor, and has one forward function

    apply(x, mask=None, train=False)

that returns what it computes and writes nothing to `self`.  `connect` applies
it twice to the model's input:

    output               = apply(input, mask, train=True)    the training path (dropout)
    output_deterministic = apply(input, mask, train=False)   the prediction path (no unit dropped)

(one graph when nothing drops).  x is the input tensor; a layer with a second
input (MultiplicativeLayer's multiplier, a state estimator's actions) takes
its inputs as one tuple x = (input, mult).  `mask` is the float
`(n_examples, n_timesteps)` padding mask of sequences (1 on real steps);
feed-forward layers accept it and ignore it, so every layer composes with
every other.  A model composes layers by calling their `apply`; a layer built
with `input=None` has its parameters only, to be applied to tensors made
elsewhere (a scan's, another layer's).  `pred` and `errors` read only the
deterministic path.  A class that neither defines `apply` nor composes
`layers` gets a NotImplementedError naming it.

A model whose hooks read more than its output (a recurrent model's states, a
state estimator's predictor input) computes it all in `trace(x, mask, train)`,
a dict of named tensors with "output"; its `apply` is that output, and the
constructor keeps the two traces in `trained` and `deterministic`.

`updates` are the random draws of the training path, read off its graph
(each draw's generator and its next state): whatever the layers drew, once.

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

from DL import losses, state
from DL.backend import BACKEND, T, floatX, random_updates, shared
from DL.dropout import dropout
from DL.regularization import L1, L2_sqr, layers_L1, layers_L2_sqr
from DL.utils import flatten


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
    return shared(numpy.asarray(value, dtype=floatX), name="%s.%s" % (owner, name), borrow=False,
                  **static_shape(shape))


def static_shape(shape):
    """The keyword that fixes a parameter's shape in its type, on PyTensor: shapes computed
    from it are then constants, as engines that trace (JAX) need them.  (Legacy Theano's
    types have no shape.)"""
    return {"shape": tuple(int(n) for n in shape)} if BACKEND == "pytensor" else {}


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


def chain(layers, x, mask=None, train=False):
    """x through `layers` in turn, each layer's `apply` feeding the next; no layers: x itself."""
    for layer in layers:
        x = layer.apply(x, mask=mask, train=train)
    return x


def check_train_keyword(model, mask):
    """A TypeError for `apply(x, True)`: `train` comes after `mask` and is passed by name."""
    if isinstance(mask, bool):
        raise TypeError("%s.apply(x, mask=None, train=False): pass train by name, "
                        "apply(x, train=%r)" % (type(model).__name__, mask))


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
    layer, if any, in `outputLayer`), defines `apply(x, mask=None, train=False)`
    (or `trace`) unless its layers simply feed each other in turn, and calls
    `connect(input, mask)`.  Then

        params    [layer.params for layer in layers]  (the nesting `params=` takes back)
        L1, L2_sqr  sums over the layers' weights (not biases)
        updates   the random draws of the training path (read off its graph)
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

    def apply(self, x, mask=None, train=False):
        """The forward function: the output for input `x` (and the sequences' `mask`) on the
        training path (`train=True`: dropout) or the deterministic one.  By default the
        layers in turn, each feeding the next; a model that does more defines its own."""
        check_train_keyword(self, mask)
        if not self.layers:
            raise NotImplementedError("%s defines no apply(x, mask=None, train=False) and composes no "
                                      "layers: a layer class must define its forward function"
                                      % type(self).__name__)
        return chain(self.layers, x, mask, train)

    def trace(self, x, mask=None, train=False):
        """{"output": apply(x, mask, train)} and, in models whose hooks need them, the
        intermediate tensors of the same pass, by name."""
        return {"output": self.apply(x, mask=mask, train=train)}

    def check_input(self, input):
        """`input` as a float `(n_examples, n_in)` tensor (or with a time axis)."""
        return as_tensor(input, "%s: input" % self.name, (2, 3), "(n_examples, n_in)")

    def connect(self, input, mask=None):
        """Trace the model on `input` twice: `output` (training) and `output_deterministic`,
        each pass's named tensors in `trained` and `deterministic`.  With `input=None` the
        model holds its parameters only."""
        if self.outputLayer is not None:
            self.outputActivation = self.outputLayer.outputActivation
        self.input = None if input is None else self.check_input(input)
        if self.input is None:
            return
        self.trained = self.trace(self.input, mask, train=True)
        self.deterministic = self.trace(self.input, mask, train=False) if self.drops else self.trained
        self.output = self.trained["output"]
        self.output_deterministic = self.deterministic["output"]

    def __getattr__(self, name):
        # only reached for attributes never set: say why a hook is missing
        if name in ("output", "output_deterministic") and self.__dict__.get("input", 0) is None:
            raise AttributeError("%s was built with input=None: it holds its parameters only; "
                                 "apply it with .apply(x, mask=None, train=False)"
                                 % self.__dict__.get("name", type(self).__name__))
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
    def state(self):
        """Shared variables that are not parameters but are saved with them (batch
        normalization's running statistics), nested one list per layer."""
        return [layer.state for layer in self.layers]

    @property
    def variables(self):
        """Everything a saved model holds, nested as `params` (and taken back by `params=`):
        each layer's parameters, then its state.  `DL.io.save(path, model.variables)`."""
        if not flatten(self.state):
            return self.params
        return [layer.variables for layer in self.layers]

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
        """The training path's updates, read off its graph: (shared generator, next state)
        of every random draw, then (state, new value) of every state a layer moves
        (batch normalization's running statistics, DL.state); [] for a model built
        with input=None."""
        if self.__dict__.get("input") is None:
            return []
        draws = random_updates([self.output])
        return draws + state.updates([self.output], draws)

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
    def state(self):
        return []

    def dropped(self, h, train):
        """h with this layer's units dropped (inverted dropout, from `srng`) on the training path."""
        return dropout(self.srng, self.dropout_rate, h) if train and self.dropout_rate > 0 else h

    @property
    def variables(self):
        return list(self.params) + list(self.state)

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


class WeightLayer(Layer):
    """A layer of one weight `W` and one bias `b` (HiddenLayer, ConvLayer): params `[W, b]`;
    L1 and L2_sqr cover W."""

    @property
    def weights(self):
        """The matrices L1 and L2_sqr penalize."""
        return [self.W]

    @property
    def params(self):
        """`[W, b]`."""
        return [self.W, self.b]
