"""Compiling the train / validate / test functions, as the deeplearning.net tutorials do.

The data stays in shared variables; each function takes a minibatch index and
`givens` slices minibatch i out of the data (`data[i * batch_size:(i + 1) * batch_size]`):

    train_model(i)      cost on training minibatch i, then apply the update rule
    error_functions[s]  errors on minibatch i of set s ('train', 'valid', 'test')

`compile_functions` wraps them in a `TrainingFunctions` object whose
`validate()` and `test()` give the error over a whole set, exact over every
example: the last, partial minibatch counts, and minibatch means are weighted
by their sizes.  A set smaller than `batch_size` is one partial minibatch.

    functions = compile_functions(dataset, [x, t], cost, params, errors, batch_size=20,
                                  rule="sgd", rule_options=dict(learning_rate=0.1))
    cost_0 = functions.train(0)          # one step on minibatch 0
    functions.validate()                 # error over the whole validation set

With `guard=True` (the default) a step whose cost or gradient is NaN or
infinite is not applied: every update keeps its variable's value, and
`train(i)` raises `NonFiniteStep`.
"""
import inspect

import numpy

from DL import state, updates as update_rules
from DL.backend import PerShape, T, function, grad, graph_inputs, random_updates, static_shapes
from DL.optimizers.metrics import as_metric
from DL.optimizers.notice import FirstCalls
from DL.utils import flatten

SETS = ("train", "valid", "test")


class NonFiniteStep(FloatingPointError):
    """The cost or a gradient of a training step was NaN or infinite; the step was not applied."""

    def __init__(self, cost, index):
        self.what = ("training cost became %r" % cost if not numpy.isfinite(cost)
                     else "a gradient became NaN or infinite (cost %r)" % cost)
        super().__init__("training minibatch %d: %s; the step was not applied" % (index, self.what))
        self.cost, self.index = cost, index


# --- checking what the user passed, before anything compiles ----------------

def _n_examples(data, where):
    if hasattr(data, "get_value"):
        shape = data.get_value(borrow=True).shape
    elif hasattr(data, "shape") and not hasattr(data, "owner"):
        shape = data.shape
    else:
        shape = tuple(data.shape.eval()) if data.ndim > 0 else ()
    if len(shape) == 0:
        raise ValueError("%s is a scalar; sets hold arrays with one row per example" % where)
    return int(shape[0])


def check_dataset(dataset, inputs, batch_size):
    """The number of examples of each set, [n_train, n_valid, n_test], or a clear error.

    dataset     [train, valid, test], each a list of shared variables (or symbolic
                casts of them) in the order of `inputs`, one row per example"""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("inputs must be the list of symbolic inputs, e.g. [x, t]")
    if not isinstance(dataset, (list, tuple)) or len(dataset) != 3:
        raise ValueError("dataset must be [train, valid, test] (see DL.utils.load_data), got %r"
                         % (type(dataset).__name__,))
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError("batch_size must be a positive integer, got %r" % (batch_size,))
    sizes = []
    for name, data_set in zip(SETS, dataset):
        if not isinstance(data_set, (list, tuple)) or len(data_set) != len(inputs):
            found = len(data_set) if isinstance(data_set, (list, tuple)) else type(data_set).__name__
            raise ValueError("the %s set must hold one array per input (%d: %s), got %s"
                             % (name, len(inputs), ", ".join(str(i) for i in inputs), found))
        for i, data in enumerate(data_set):
            if not hasattr(data, "owner") and not hasattr(data, "get_value"):
                raise TypeError("the %s set's element %d is a %s, not a shared variable: move the sets "
                                "to shared variables once with DL.utils.load_data(dataset)"
                                % (name, i, type(data).__name__))
        lengths = [_n_examples(data, "%s set element %d" % (name, i)) for i, data in enumerate(data_set)]
        if len(set(lengths)) > 1:
            raise ValueError("the %s set's arrays differ in length (%s); each needs one row per example"
                             % (name, ", ".join(map(str, lengths))))
        if lengths[0] == 0:
            raise ValueError("the %s set is empty" % name)
        for i, (variable, data) in enumerate(zip(inputs, data_set)):
            if variable.ndim != data.ndim:
                raise ValueError("input %d (%s) is %d-D but the %s set's element %d is %d-D"
                                 % (i, variable, variable.ndim, name, i, data.ndim))
        sizes.append(lengths[0])
    return sizes


def update_rule(optimizer, rule_options):
    """(name, rule, options): the update rule of DL.updates called `optimizer`, its
    options checked; 'sgd' with momentum means classic momentum."""
    if optimizer == "sgd" and rule_options.get("momentum"):
        optimizer = "momentum"
    elif optimizer == "sgd":
        rule_options = {k: v for k, v in rule_options.items() if k != "momentum"}
    rule = update_rules.get(optimizer)
    accepted = [name for name in inspect.signature(rule).parameters if name not in ("params", "grads")]
    unknown = sorted(set(rule_options) - set(accepted))
    if unknown:
        raise TypeError("optimize(): %s %s not an option of optimizer %r (nor of optimize); "
                        "its options are: %s" % (", ".join(unknown), "is" if len(unknown) == 1 else "are",
                                                 optimizer, ", ".join(accepted)))
    return optimizer, rule, rule_options


def check_graph(cost, params, errors, updates):
    """(flat params, extra update pairs), or a clear error."""
    if cost is None or getattr(cost, "ndim", None) != 0:
        raise ValueError("cost must be a symbolic scalar (e.g. model.loss(t)), got %r" % (cost,))
    if errors is None or getattr(errors, "ndim", None) != 0:
        raise ValueError("errors must be a symbolic scalar (e.g. model.errors(t)), got %r" % (errors,))
    params = flatten(params or [])
    if not params:
        raise ValueError("params is empty: pass flatten(model.params)")
    for param in params:
        if not hasattr(param, "get_value"):
            raise TypeError("params must be shared variables, got %r" % (param,))
    pairs = list(updates.items()) if hasattr(updates, "items") else list(updates or [])
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not hasattr(pair[0], "get_value"):
            raise ValueError("updates must be (shared variable, new value) pairs, got %r" % (pair,))
    return params, pairs


# --- minibatch functions --------------------------------------------------------

def _givens(inputs, data_set, index, batch_size):
    """Replace each input with its minibatch slice, cast to the input's dtype."""
    givens = []
    for variable, data in zip(inputs, data_set):
        batch = data[index * batch_size:(index + 1) * batch_size]
        if batch.dtype != variable.dtype:
            batch = T.cast(batch, variable.dtype)
        givens.append((variable, batch))
    return givens


def _host_array(data):
    """The NumPy value of a set's element: a shared variable, or a symbolic cast of one."""
    if hasattr(data, "get_value"):
        return data.get_value(borrow=True)
    roots = [v for v in graph_inputs([data]) if hasattr(v, "get_value")]
    if len(roots) != 1:
        raise ValueError("a set's element must be a shared variable or a cast of one, got %r" % (data,))
    return roots[0].get_value(borrow=True).astype(data.dtype, copy=False)


class _HostMinibatches(object):
    """`f(index)` for engines that need fixed shapes (JAX): minibatch `index` is cut
    from the data on the host and passed in, where other engines slice it in the
    graph through `givens`.  JAX traces a graph only when every shape in it is
    known, including those computed from the inputs (a recurrent model's initial
    state, a dropout mask), so each minibatch shape gets its own function
    (DL.backend.PerShape): usually two (the full minibatches and the last, shorter
    one; a set smaller than a minibatch has only the short one).  `functions`, a
    dict, holds them by shape; the error functions of the three sets share one
    (the same graph on other data), so that the validation and test sets, of the
    same minibatch shapes, trace no program of their own."""

    def __init__(self, inputs, outputs, data_set, batch_size, mode, updates=None, compiler=function,
                 functions=None):
        self.inputs = list(inputs)
        # the sets' host arrays, found once: a set stored as floats and cast to ints
        # would otherwise be converted whole at every minibatch
        self.host_data = [_host_array(data) for data in data_set]
        self.batch_size = batch_size
        self.per_shape = PerShape(self.inputs, outputs, compiler, functions, updates=updates, mode=mode)

    def __call__(self, index):
        start = index * self.batch_size
        batches = [numpy.asarray(data[start:start + self.batch_size], dtype=variable.dtype)
                   for data, variable in zip(self.host_data, self.inputs)]
        return self.per_shape(*batches)


def minibatch_function(inputs, outputs, data_set, batch_size, mode=None, updates=None, compiler=function,
                       traced=None):
    """`f(index)`: `outputs` on minibatch `index` of `data_set` (a list of shared
    variables in the order of `inputs`), applying `updates`.  `compiler` compiles
    (DL.backend.function by default; wrap it to count or time compiles).  On an
    engine that traces (JAX), `traced` (a dict) shares the functions of each
    minibatch shape between the functions of one graph on several sets."""
    if static_shapes(mode):
        return _HostMinibatches(inputs, outputs, data_set, batch_size, mode, updates, compiler, traced)
    index = T.lscalar("index")
    return compiler([index], outputs, updates=updates, mode=mode,
                    givens=_givens(inputs, data_set, index, batch_size))


class _ErrorFunctions(dict):
    """{set name: errors on minibatch i of that set}; a set's function is compiled
    the first time it is asked for (the training set's, usually at the very end)."""

    def __init__(self, compile_set):
        super().__init__()
        self.compile_set = compile_set

    def __missing__(self, name):
        if name not in SETS:
            raise KeyError("no set %r; the sets are %s" % (name, ", ".join(SETS)))
        self[name] = self.compile_set(SETS.index(name))
        return self[name]


# --- the guard against non-finite steps ---------------------------------------

def _all_finite(values):
    """A symbolic bool: every element of `values` is finite (summed in float64, so
    only NaN or inf makes the sum non-finite, not the size of finite values)."""
    total = sum(T.sum(value, dtype="float64") for value in values)
    return T.lt(abs(total), numpy.inf)


def _unless_non_finite(finite, updates):
    """Each tensor update applied only when `finite`; otherwise the variable keeps its
    value.  (Random generators are not tensors; a checkpoint puts them back itself.)"""
    guarded = []
    for variable, new_value in updates:
        dtype = getattr(variable, "dtype", None)
        if dtype is not None and getattr(new_value, "dtype", None) == dtype and new_value.ndim == variable.ndim:
            new_value = T.switch(finite, new_value, variable)
        guarded.append((variable, new_value))
    return guarded


def compile_training(dataset, inputs, cost, params, errors, batch_size, rule, rule_options,
                     extra_updates=(), max_grad_norm=None, mode=None, guard=False, compiler=function):
    """(train_model, error_functions, rule updates, every shared variable training updates).

    rule          an update rule of DL.updates (a function), called with **rule_options
    extra_updates (shared, new value) pairs the training function also applies
    max_grad_norm clip the joint norm of all gradients to this
    guard         `train_model(i)` returns `(cost, finite)` and applies no update when
                  the cost or a gradient is NaN or infinite: the state stays that of
                  the last good step
    error_functions has 'valid' and 'test' compiled; 'train' compiles when asked for."""
    traced = {}  # (JAX) the error functions by minibatch shape, for every set

    def compile_errors(which):
        return minibatch_function(inputs, errors, dataset[which], batch_size, mode, compiler=compiler,
                                  traced=traced)
    error_functions = _ErrorFunctions(compile_errors)
    for name in ("test", "valid"):
        error_functions[name]  # compiled now: the loop needs them
    grads = grad(cost, params)
    if max_grad_norm is not None:
        grads = update_rules.total_norm_constraint(grads, max_grad_norm)
    rule_updates = rule(params, grads, **rule_options)
    all_updates = list(rule_updates) + list(extra_updates)
    all_updates += random_updates([cost], all_updates)
    all_updates += state.updates([cost], all_updates)  # e.g. batch normalization's running statistics
    outputs = cost
    if guard:
        finite = _all_finite([cost] + list(grads))
        all_updates = _unless_non_finite(finite, all_updates)
        outputs = [cost, finite]
    train_model = minibatch_function(inputs, outputs, dataset[0], batch_size, mode, all_updates, compiler)
    return train_model, error_functions, rule_updates, [variable for variable, _ in all_updates]


# --- errors over whole sets -----------------------------------------------------

def set_error(error_function, n_examples, batch_size, batches=None):
    """Mean error over the examples of the chosen minibatches (all by default):
    each minibatch's mean weighted by its size, so the last, partial one counts
    exactly as much as its examples."""
    n_batches = -(-n_examples // batch_size)
    chosen = range(n_batches) if batches is None else batches
    total, count = 0.0, 0
    for i in chosen:
        size = min(batch_size, n_examples - i * batch_size)
        total += float(error_function(i)) * size
        count += size
    return total / count


class TrainingFunctions(tuple):
    """The compiled functions of a training run, with the sizes that make whole-set
    errors exact.  It unpacks as `(train_model, error_functions, rule_updates)`.

    train(i)          one training step on minibatch i; the cost (a float).  Raises
                      NonFiniteStep when guarded and the step was not applied
    validate()        errors over the whole validation set
    test(batches)     errors over the test set, or over the chosen test minibatches
    error(name)       errors over the whole set 'train', 'valid' or 'test'
    n_batches(name)   minibatches in a set (the last one may be partial)
    metric            what the errors measure (a DL.optimizers.metrics.Metric)
    sizes, batch_size, guarded
    first_calls       says, through its `write`, when a function's first call compiles
                      for long (DL.optimizers.notice); silent unless given a `write`

    `set_error` computes a set's error from its minibatch function (default:
    `DL.optimizers.compiling.set_error`, exact over every example)."""

    def __new__(cls, compiled, sizes, batch_size, guarded, metric=None, set_error=set_error):
        functions = super().__new__(cls, compiled)
        functions.train_model, functions.error_functions = compiled[:2]
        functions.sizes, functions.batch_size, functions.guarded = list(sizes), batch_size, guarded
        functions.metric = as_metric(metric)
        functions.set_error = set_error
        functions.first_calls = FirstCalls()  # silent; optimize gives it its progress bar's `write`
        return functions

    def train(self, index):
        with self.first_calls("the training step"):
            outputs = self.train_model(index)
        if not self.guarded:
            return float(outputs)
        cost, finite = outputs
        if not finite:
            raise NonFiniteStep(float(cost), index)
        return float(cost)

    def n_batches(self, name):
        return -(-self.sizes[SETS.index(name)] // self.batch_size)

    def error(self, name, batches=None):
        with self.first_calls("the %s set's error function" % name):
            return self.set_error(self.error_functions[name], self.sizes[SETS.index(name)], self.batch_size,
                                  batches)

    def validate(self):
        return self.error("valid")

    def test(self, batches=None):
        return self.error("test", batches)


def compile_functions(dataset, inputs, cost, params, errors, batch_size=20, rule="rmsprop",
                      rule_options=None, extra_updates=(), max_grad_norm=None, mode=None,
                      guard=True, metric=None, compiler=function):
    """Check the arguments and compile a run's functions: a TrainingFunctions.

    dataset       [train, valid, test], each a list of shared variables in the
                  order of `inputs` (DL.utils.load_data makes them); arrays are
                  `(n_examples, ...)`
    inputs        the symbolic inputs the data replaces, e.g. [x, t]
    cost          symbolic scalar to minimize;  errors: symbolic scalar to report
    params        the shared variables to train (nested lists are flattened)
    rule          an update rule of DL.updates, by name ('sgd', 'adam', ...; 'sgd'
                  with momentum is classic momentum) or as a function
    rule_options  its keywords, e.g. dict(learning_rate=0.1)
    extra_updates (shared, new value) pairs for training, e.g. model.updates
    max_grad_norm clip the joint norm of all gradients to this
    mode          passed to every compiled function ('FAST_RUN', 'NUMBA', 'JAX')
    guard         refuse steps whose cost or gradient is NaN or infinite
    metric        what `errors` measures (see DL.optimizers.metrics); default: read
                  from the errors graph
    compiler      the function that compiles (DL.backend.function)"""
    rule_options = dict(rule_options or {})
    if isinstance(rule, str):
        _, rule, rule_options = update_rule(rule, rule_options)
    params, extra_updates = check_graph(cost, params, errors, extra_updates)
    sizes = check_dataset(dataset, inputs, batch_size)
    metric = as_metric(metric, errors)
    compiled = compile_training(dataset, inputs, cost, params, errors, batch_size, rule, rule_options,
                                extra_updates, max_grad_norm, mode, guard, compiler)
    return TrainingFunctions(compiled[:3], sizes, batch_size, guard, metric)
