"""The engine, chosen in one place (users import it as ``DL.backend``).

Every other module writes ``from DL.backend import theano, T`` and reads like
Theano.  The default engine is PyTensor, the maintained continuation of
Theano; legacy Theano 1.0.5 is chosen with ``DL_BACKEND=theano``.  Whatever
differs between the two stays in this file.

Exports: ``theano`` (the engine view: Theano 1.0's module tree over the engine,
whose ``function`` and ``scan`` are DL's; DL.engine.theano_view), ``T``
(``theano.tensor``, with ``T.nnet``, ``T.signal.pool`` and
``T.shared_randomstreams`` on both engines), ``shared``, ``function``, ``scan``,
``grad``, ``clone``, ``RandomStreams``, ``floatX``, ``BACKEND`` and the small
helpers ``logits_of_softmax`` / ``logits_of_sigmoid`` that the stable losses use.
"""
import contextlib
import os
import sys
import warnings
import weakref

import numpy

from DL.engine.theano_view import root as _view_root

BACKEND = os.environ.get("DL_BACKEND", "pytensor").strip().lower()
_ENGINES = ("pytensor", "theano")
if BACKEND not in _ENGINES:
    raise ImportError(
        "DL_BACKEND=%r is not an engine DL knows; use one of %s" % (BACKEND, ", ".join(_ENGINES)))


def _user_chose_floatX(flags_variable, rc_file):
    """True when the user's own engine flags or rc file set floatX."""
    if "floatx" in os.environ.get(flags_variable, "").lower():
        return True
    rc_path = os.path.expanduser(rc_file)
    try:
        with open(rc_path) as rc:
            return "floatx" in rc.read().lower()
    except OSError:
        return False


if BACKEND == "pytensor":
    import pytensor as _engine
    import pytensor.tensor as _tensor
    from pytensor.graph.replace import clone_replace as _clone_replace
    from pytensor.tensor.special import Softmax as _SoftmaxOp

    if not _user_chose_floatX("PYTENSOR_FLAGS", "~/.pytensorrc"):
        _engine.config.floatX = "float32"

    def softmax(x):
        return _tensor.special.softmax(x, axis=-1)

    def log_softmax(x):
        return _tensor.special.log_softmax(x, axis=-1)

    def _is_softmax(var):
        return var.owner is not None and isinstance(var.owner.op, _SoftmaxOp)

    def _is_sigmoid(var):
        owner = var.owner
        return (owner is not None and hasattr(owner.op, "scalar_op")
                and type(owner.op.scalar_op).__name__.lower() == "sigmoid")

    def clone(output, replace=None):
        return _clone_replace(output, replace=replace)

else:  # legacy Theano 1.0.5
    os.environ.setdefault("THEANO_FLAGS", "blas.ldflags=")
    if "blas.ldflags" not in os.environ["THEANO_FLAGS"]:
        os.environ["THEANO_FLAGS"] += ",blas.ldflags="
    import theano as _engine
    from theano.tensor.nnet import Softmax as _SoftmaxOp
    from theano.tensor.nnet.sigm import ScalarSigmoid as _ScalarSigmoid

    # Theano 1.0.5 ships its scan loop as Cython-generated C for Python <= 3.10,
    # which fails to compile on 3.11+; with its import failing, scan runs its loop
    # in Python (theano.scan_module.scan_op falls back on ImportError).
    if sys.version_info >= (3, 11):
        sys.modules.setdefault("theano.scan_module.scan_perform_ext", None)

    if not _user_chose_floatX("THEANO_FLAGS", "~/.theanorc"):
        _engine.config.floatX = "float32"

    def softmax(x):
        # Theano's softmax works on rows; fold leading axes for 3-D input.
        if x.ndim == 2:
            return T.nnet.softmax(x)
        flat = T.nnet.softmax(x.reshape((-1, x.shape[-1])))
        output = flat.reshape(x.shape)
        output.tag.softmax_logits = x  # so that losses find the logits (logits_of_softmax)
        return output

    def log_softmax(x):
        shifted = x - x.max(axis=-1, keepdims=True)
        return shifted - T.log(T.exp(shifted).sum(axis=-1, keepdims=True))

    def _is_softmax(var):
        if var.owner is None:
            return False
        if isinstance(var.owner.op, _SoftmaxOp):
            return True
        # a 3-D softmax is reshape(softmax(reshape(x)))
        return False

    def _is_sigmoid(var):
        owner = var.owner
        return (owner is not None and hasattr(owner.op, "scalar_op")
                and isinstance(owner.op.scalar_op, _ScalarSigmoid))

    def clone(output, replace=None):
        return _engine.clone(output, replace=replace)

shared = _engine.shared


def batched_dot(a, b):
    """`a[i] . b[i]` for each i: a `(n_batch, n, k)`, b `(n_batch, k, m)` -> `(n_batch, n, m)`.

    A fixed number of nodes whatever n_batch.  PyTensor: matmul, which its rewrites turn
    into BatchedDot.  Theano: a broadcast product summed over k, because Theano's
    BatchedDot calls BLAS from its C code, which DL's Theano setup (blas.ldflags=) does
    not link (its module fails to load: undefined symbol dgemm_)."""
    if BACKEND == "pytensor":
        return T.matmul(a, b)
    return (a.dimshuffle(0, 1, 2, "x") * b.dimshuffle(0, "x", 1, 2)).sum(axis=2)


def function(inputs, outputs=None, mode=None, allow_input_downcast=True, no_default_updates=False,
             **kwargs):
    """theano.function, compiled with DL's rewrites on PyTensor's Numba engine.

    The same arguments and result as the engine's `function`; in a Numba mode
    the graph gets DL's own Ops for tanh and dimension shuffles, in a JAX mode
    DL's Bernoulli draws and linker (DL.engine.mode), in a C mode PyTensor's C code
    linked to SciPy's OpenBLAS (DL.engine.c_blas), and nothing outside this
    function's graph changes.  Three defaults differ:

    - `mode=None` is $DL_MODE when set (`DL_MODE=JAX python examples/...`), else
      the engine's configured mode.

    - `allow_input_downcast=True`: NumPy arrays of any numeric dtype are cast to
      the inputs' types (float64 or int64 data into a float32 `T.matrix()`), as
      scripts written when Theano's floatX was float64 expect.  Pass False for
      the engine's strict check.
    - Random draws advance at every call, as Theano's default updates did
      (DL.backend.RandomStreams); `no_default_updates=True` holds them fixed
      (a gradient check by finite differences needs the same dropout masks)."""
    compiling = contextlib.nullcontext()
    if BACKEND == "pytensor":
        from DL.engine import c_blas
        from DL.engine.mode import dl_mode, engine_of
        mode = dl_mode(default_mode() if mode is None else mode)
        engine = engine_of(mode)
        if engine and "DL.engine.recurrence_op" in sys.modules:
            sys.modules["DL.engine.recurrence_op"].register_all(engine)  # DL's Ops in the graphs built so far
        if engine == "jax" and _without_static_shapes(inputs):  # JAX traces with fixed shapes
            return PerShape(inputs, outputs, _compile, mode=mode, no_default_updates=no_default_updates,
                            allow_input_downcast=allow_input_downcast, **kwargs)
        compiling = c_blas.linked(mode)  # in a C mode, PyTensor's C code linked to SciPy's OpenBLAS
    with compiling:
        return _compile(inputs, outputs, mode=mode, allow_input_downcast=allow_input_downcast,
                        no_default_updates=no_default_updates, **kwargs)


def _compile(inputs, outputs, no_default_updates=False, **kwargs):
    """The engine's function (its `no_default_updates` only when asked for)."""
    if no_default_updates is not False:
        # PyTensor deprecates the argument, not the default updates it turns off.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The no_default_updates parameter",
                                    category=DeprecationWarning)
            return _engine.function(inputs, outputs, no_default_updates=no_default_updates, **kwargs)
    return _engine.function(inputs, outputs, **kwargs)


def _without_static_shapes(inputs):
    """True when some of `inputs` (plain symbolic tensors, all of them) has a dimension of
    unknown size."""
    inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    tensors = all(hasattr(v, "type") and hasattr(v.type, "shape") and v.owner is None for v in inputs)
    return tensors and any(None in v.type.shape for v in inputs)


class PerShape(object):
    """A function for an engine that traces with fixed shapes (JAX), on inputs whose shapes
    are not all fixed (`T.tensor3('x')`): a call compiles the graph for the shapes of its
    arguments the first time they come (copies of the inputs whose types hold those
    shapes, given for them) and reuses it after.  Arguments are positional, one per input.

    `compile(fixed_inputs, outputs, givens=..., on_unused_input="ignore", **options)`
    compiles one; `functions`, a dict by the arguments' shapes, may be shared between
    PerShape functions of the same graph (optimize's error functions of three sets)."""

    def __init__(self, inputs, outputs, compile, functions=None, **options):
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self.outputs, self.compile, self.options = outputs, compile, options
        self.functions = {} if functions is None else functions

    def __call__(self, *values):
        if len(values) != len(self.inputs):
            raise TypeError("this function takes %d inputs (%s), got %d"
                            % (len(self.inputs), ", ".join(str(v) for v in self.inputs), len(values)))
        shapes = tuple(numpy.shape(value) for value in values)
        if shapes not in self.functions:
            try:
                self.functions[shapes] = self._compiled(shapes, ones_fixed=True)
            except TypeError:
                # A size fixed at 1 makes its axis broadcastable, and a scan built for any
                # size then refuses its input (DL's own loops unfix their sizes of 1:
                # DL.engine.shape_op; a user's own scan may not): leave the sizes of 1
                # unfixed (JAX still sees them, but cannot reshape by sizes computed from them)
                self.functions[shapes] = self._compiled(shapes, ones_fixed=False)
        return self.functions[shapes](*values)

    def _compiled(self, shapes, ones_fixed):
        fixed = [_tensor.TensorType(v.type.dtype, shape=tuple(size if size != 1 or ones_fixed else None
                                                                for size in shape))(v.name)
                 for v, shape in zip(self.inputs, shapes)]
        givens = list(self.options.get("givens") or []) + list(zip(self.inputs, fixed))
        return self.compile(fixed, self.outputs, **dict(self.options, givens=givens, on_unused_input="ignore"))


if BACKEND == "pytensor":
    def scan(*args, **kwargs):
        """theano.scan with Theano's return value, (outputs, updates).

        PyTensor 3 warns on every call that it will return only the outputs;
        DL keeps the Theano signature, so that warning is silenced here."""
        kwargs.setdefault("return_updates", True)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Scan return signature", category=DeprecationWarning)
            return _engine.scan(*args, **kwargs)
else:
    scan = _engine.scan
grad = _engine.grad
config = _engine.config
floatX = _engine.config.floatX


def default_mode():
    """$DL_MODE (e.g. JAX, NUMBA), the mode of DL's own functions compiled without one
    (`function`, and so `optimize` and the examples), or None for the engine's
    configured mode.  It changes nothing for functions other code compiles."""
    if BACKEND != "pytensor":
        return None
    return os.environ.get("DL_MODE", "").strip() or None


def static_shapes(mode=None):
    """True when functions compiled in `mode` need every array's shape fixed when
    they are traced (JAX): there a minibatch cut from shared data by a symbolic
    index cannot compile, so it is cut on the host and passed in instead."""
    if BACKEND != "pytensor":
        return False
    from DL.engine.mode import engine_of  # (imports no JAX)
    return engine_of(default_mode() or _engine.config.mode if mode is None else mode) == "jax"


def check_and_raise(value, condition, message, exception=ValueError):
    """`value`, guarded by a run-time check: calling the compiled function
    raises `exception(message)` when the symbolic bool `condition` is false.

    For what only the data can tell (a mask whose shape does not fit its
    sequences, an id outside an embedding table), so that scan does not
    silently truncate and indexing does not wrap around.  On legacy Theano
    the check is an `Assert` that raises `exception` rather than AssertionError."""
    if BACKEND == "pytensor":
        from pytensor.raise_op import CheckAndRaise
        return CheckAndRaise(exception, message)(value, condition)
    return _TheanoCheck(message, exception)(value, condition)


def unfix_ones(x):
    """`x`, typed with its sizes of 1 unknown, so that a scan built over it still accepts
    it when a later compile fixes one of its sizes at 1 (DL.engine.shape_op; on legacy
    Theano, which compiles with the sizes it was given, `x` itself)."""
    if BACKEND == "pytensor":
        from DL.engine.shape_op import unfix_ones as pytensor_unfix_ones
        return pytensor_unfix_ones(x)
    return x


if BACKEND == "theano":
    from theano.gof.utils import MethodNotDefined as _MethodNotDefined
    from theano.tensor.opt import Assert as _Assert

    class _TheanoCheck(_Assert):
        """Theano's Assert, raising the given exception (Python code only: a
        check costs microseconds beside the products it guards)."""
        __props__ = ("msg", "exception")

        def __init__(self, msg, exception):
            super(_TheanoCheck, self).__init__(msg)
            self.exception = exception

        def perform(self, node, inputs, out_):
            out_[0][0] = inputs[0]
            if not all(numpy.all(condition) for condition in inputs[1:]):
                raise self.exception(self.msg)

        def c_code(self, *args, **kwargs):
            raise _MethodNotDefined()


def logits_of_softmax(output):
    """The pre-activation `a` when `output` is softmax(a), else None."""
    folded = getattr(output.tag, "softmax_logits", None)  # legacy Theano's softmax over 3-D
    if folded is not None:
        return folded
    return output.owner.inputs[0] if _is_softmax(output) else None


def logits_of_sigmoid(output):
    """The pre-activation `a` when `output` is sigmoid(a), else None."""
    return output.owner.inputs[0] if _is_sigmoid(output) else None


def cast_floatX(value):
    """A NumPy array (or scalar) in the engine's float type."""
    return numpy.asarray(value, dtype=_engine.config.floatX)


# Every draw's (shared generator -> next state), so that a compiled training
# function can be given the updates of draws the user forgot to pass.
_RANDOM_UPDATES = weakref.WeakKeyDictionary()


def graph_inputs(outputs):
    """The root variables (inputs, shared variables, constants) of `outputs`."""
    if BACKEND == "pytensor":
        try:
            from pytensor.graph.traversal import graph_inputs as _inputs
        except ImportError:
            from pytensor.graph.basic import graph_inputs as _inputs
    else:
        from theano.gof.graph import inputs as _inputs
    return list(_inputs(list(outputs)))


def random_updates(outputs, existing=()):
    """Updates for the random generators `outputs` draw from, not already in `existing`."""
    updated = set(id(variable) for variable, _ in existing)
    found = []
    for variable in graph_inputs(outputs):
        if id(variable) not in updated and variable in _RANDOM_UPDATES:
            found.append((variable, _RANDOM_UPDATES[variable]))
            updated.add(id(variable))
    return found


class RandomStreams(object):
    """Theano's RandomStreams (`theano.tensor.shared_randomstreams`), on either engine.

    Each draw gets its own shared generator, seeded from this stream's seed,
    and records the generator's update.  As in Theano, that update is also the
    generator's `default_update`, so every function that draws advances it at
    each call, including functions compiled with the engine's own `function`:
    a dropout mask is new at every call, and the sequence of masks is fixed by
    the seed.  ``srng.updates()`` (or a model's ``.updates``) lists the same
    pairs, for code that passes them explicitly (an explicit update replaces
    the default one; nothing advances twice); ``no_default_updates=True``
    compiles a function whose draws stay fixed.  A draw inside the step of a
    `scan` comes back in the updates that `scan` returns, as in Theano.

    The methods are Theano 1.0's, with its arguments and defaults: `size` is a
    tuple (of ints or scalars) or a symbolic vector, or None for the shape of
    the parameters; `ndim`, when given, must be the result's; `dtype` defaults
    to int64 for counts and indices and to floatX (or the parameters' wider
    float type) for `uniform` and `normal`.  The numbers differ from Theano's
    (another generator); their distributions do not.

    >>> srng = RandomStreams(seed=1)
    >>> mask = srng.binomial(size=(3,), p=0.5, dtype=floatX)
    >>> f = function([], mask)      # a new mask at every call
    """

    def __init__(self, seed=None):
        self._seeder = numpy.random.RandomState(seed)
        self._updates = []
        self._reseeders = []  # one per draw: sets its generator back to a given seed
        self.state_updates = self._updates  # Theano's name for the same list

    def _next_seed(self):
        return int(self._seeder.randint(2 ** 30))

    def updates(self):
        """The (shared generator, next state) pairs of every draw so far."""
        return list(self._updates)

    def seed(self, seed=None):
        """Start every generator drawn so far (and later ones) again from `seed`,
        as a new stream with that seed would."""
        self._seeder = numpy.random.RandomState(seed)
        for reseed in self._reseeders:
            reseed(self._next_seed())

    if BACKEND == "pytensor":
        # Theano's method -> (PyTensor's method, how Theano's parameters map to its arguments)
        _ENGINE_CALLS = {
            "binomial": ("binomial", lambda n, p: ((n, p), {})),
            "uniform": ("uniform", lambda low, high: ((low, high), {})),
            "normal": ("normal", lambda avg, std: ((avg, std), {})),
            "multinomial": ("multinomial", lambda n, pvals: ((n, pvals), {})),
            "choice": ("choice", lambda a, replace, p: ((a,), dict(replace=replace, p=p))),
            "random_integers": ("integers", lambda low, high: ((low, high + 1), {})),  # high included
        }

        def _draw(self, distribution, size, params):
            method, arguments = self._ENGINE_CALLS[distribution]
            args, kwargs = arguments(**params)
            rng = _engine.tensor.random.shared_rng(seed=self._next_seed())
            next_rng, sample = getattr(rng, method)(*args, size=size, **kwargs)
            # Theano's RandomStreams set this; PyTensor still honours it (and warns that
            # setting it is deprecated in favour of explicit updates, which DL also keeps).
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Setting default_update is deprecated",
                                        category=DeprecationWarning)
                rng.default_update = next_rng
            self._updates.append((rng, next_rng))
            self._reseeders.append(lambda seed: rng.set_value(numpy.random.default_rng(seed)))
            _RANDOM_UPDATES[rng] = next_rng
            return sample
    else:
        def _draw(self, distribution, size, params):
            from theano.tensor.shared_randomstreams import RandomStreams as _Legacy
            legacy = _Legacy(seed=self._next_seed())
            sample = getattr(legacy, distribution)(size=size, **params)  # sets Theano's default_update
            self._updates.extend(legacy.state_updates)
            self._reseeders.append(legacy.seed)
            _RANDOM_UPDATES.update(dict(legacy.state_updates))
            return sample

    def _sample(self, distribution, size, ndim, dtype, **params):
        """A draw of `distribution`, cast to `dtype`, checked against `ndim`."""
        sample = T.cast(self._draw(distribution, size, params), dtype)
        if ndim is not None and sample.ndim != ndim:
            raise ValueError("RandomStreams.%s: ndim=%d, but size %s and the parameters give a %d-d "
                             "sample" % (distribution, ndim, size, sample.ndim))
        return sample

    def _float_dtype(self, dtype, *params):
        """`dtype`, or floatX widened to the symbolic or NumPy parameters' float types."""
        if dtype is not None:
            return dtype
        typed = [str(p.dtype) for p in params if hasattr(p, "dtype") and "float" in str(p.dtype)]
        return str(numpy.result_type(floatX, *typed))

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64"):
        """Successes in `n` trials of probability `p` (n=1: a {0, 1} mask)."""
        return self._sample("binomial", size, ndim, dtype, n=n, p=p)

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        """Uniform on [low, high)."""
        return self._sample("uniform", size, ndim, self._float_dtype(dtype, low, high), low=low, high=high)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
        """Normal with mean `avg` and standard deviation `std`."""
        return self._sample("normal", size, ndim, self._float_dtype(dtype, avg, std), avg=avg, std=std)

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
        """Counts of `n` draws among the categories of `pvals` `(..., n_categories)`;
        the sample is `size + (n_categories,)` (size None: pvals' shape)."""
        return self._sample("multinomial", size, ndim, dtype, n=n, pvals=pvals)

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Elements of `a` (of range(a) for an integer), with probabilities `p`."""
        return self._sample("choice", size, ndim, dtype, a=a, replace=replace, p=p)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers uniform on [low, high], both ends included."""
        return self._sample("random_integers", size, ndim, dtype, low=low, high=high)


# The engine view: Theano 1.0's module tree (DL.engine.theano_view), whose
# `function` and `scan` are DL's (above), `theano.tensor is T`, and whose other
# names are DL's where DL has one (T.nnet, theano.sandbox.rng_mrg, ...) and the
# engine's otherwise.  The engine's own modules are not changed: other code that
# imports pytensor or theano gets them as they are.
theano = _view_root(BACKEND)
T = theano.tensor

from DL.engine import denormals as _denormals  # noqa: E402
from DL.engine.denormals import flushed as flush_denormals  # noqa: E402
from DL.engine.allocator import kept_heap  # noqa: E402


@contextlib.contextmanager
def while_training(flush_denormals=True):
    """The block DL trains in (DL.optimizers.train_loop, optimize's final evaluation):
    the calling thread flushes denormal floats to zero unless flush_denormals=False
    (DL.engine.denormals), and glibc keeps the step's freed arrays for reuse
    (DL.engine.allocator).  Both are as before once the block is left.  Yields the
    heap's reserve: `reserve.run(step, *arguments)` calls a training step and lets
    the reserve grow when the steps outgrow it."""
    with kept_heap() as reserve, _denormals.flushed(flush_denormals):
        yield reserve

__all__ = ["BACKEND", "theano", "T", "shared", "function", "scan", "grad", "clone",
           "config", "floatX", "RandomStreams", "softmax", "log_softmax",
           "logits_of_softmax", "logits_of_sigmoid", "cast_floatX",
           "graph_inputs", "random_updates", "static_shapes", "PerShape", "check_and_raise", "unfix_ones", "batched_dot",
           "flush_denormals", "kept_heap", "while_training"]
