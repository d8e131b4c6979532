"""Minibatch training with early stopping, as in the deeplearning.net tutorials.

`optimize()` compiles three functions over a minibatch index (the data stays
in shared variables; `givens` slice it):

    test_model(i)     errors on test minibatch i
    validate_model(i) errors on validation minibatch i
    train_model(i)    cost on training minibatch i, applying the update rule

and trains until `n_epochs` or until patience runs out.  Every
`validation_frequency` minibatches (by default once an epoch) it measures the
validation error over the whole validation set; an improvement by more than
`improvement_threshold` extends patience to `iteration * patience_increase`,
and the parameters of the best validation error are kept and restored at the
end.  Errors are exact over every example of a set: the last, partial
minibatch counts, and minibatch means are weighted by their sizes.
"""
import inspect
import random
import time

import numpy

from DL import updates as update_rules
from DL.backend import T, function, grad, random_updates
from DL.utils import flatten

SETS = ("train", "valid", "test")


class NonFiniteCostError(FloatingPointError):
    """The training cost became NaN or infinite; the best parameters were restored."""

    def __init__(self, message, epoch, minibatch, history):
        super().__init__(message)
        self.epoch = epoch
        self.minibatch = minibatch
        self.history = history


class OptimizeResult(tuple):
    """`(train_loss, valid_loss, test_loss)`: errors over each whole set with the
    restored parameters.  Attributes tell the story of the run:

    history               one dict per validation: epoch, iteration, minibatch,
                          train_cost (mean since the last validation), valid_error,
                          test_error (None when not measured), seconds
    best_valid_error      the best validation error seen, and `best_iteration`
    test_error_at_best    test error measured when that validation was best
    epochs, iterations    how far training went
    stopped               'n_epochs', 'patience' or 'interrupted'
    compile_seconds, train_seconds
    """

    def __new__(cls, losses, **story):
        result = super().__new__(cls, losses)
        result.__dict__.update(story)
        return result

    train_loss = property(lambda self: self[0])
    valid_loss = property(lambda self: self[1])
    test_loss = property(lambda self: self[2])


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


def _check_dataset(dataset, inputs, batch_size):
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("inputs must be the list of symbolic inputs, e.g. [x, t]")
    if not isinstance(dataset, (list, tuple)) or len(dataset) != 3:
        raise ValueError("dataset must be [train, valid, test] (see DL.utils.load_data), got %r"
                         % (type(dataset).__name__,))
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError("batch_size must be a positive integer, got %r" % (batch_size,))
    sizes = []
    for name, data_set in zip(SETS, dataset):
        if not isinstance(data_set, (list, tuple)) or len(data_set) != len(inputs):
            found = len(data_set) if isinstance(data_set, (list, tuple)) else type(data_set).__name__
            raise ValueError("the %s set must hold one array per input (%d: %s), got %s"
                             % (name, len(inputs), ", ".join(str(i) for i in inputs), found))
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
    if sizes[0] < batch_size:
        raise ValueError("the training set has %d examples, fewer than batch_size=%d; "
                         "lower batch_size" % (sizes[0], batch_size))
    return sizes


def _rule(optimizer, rule_options):
    """The update rule and its options; 'sgd' with momentum means classic momentum."""
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


def _check_graph(cost, params, errors, updates):
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
        if len(pair) != 2 or not hasattr(pair[0], "get_value"):
            raise ValueError("updates must be (shared variable, new value) pairs, got %r" % (pair,))
    return params, pairs


# --- compiling ----------------------------------------------------------------

def _givens(inputs, data_set, index, batch_size):
    """Replace each input with its minibatch slice, cast to the input's dtype."""
    givens = []
    for variable, data in zip(inputs, data_set):
        batch = data[index * batch_size:(index + 1) * batch_size]
        if batch.dtype != variable.dtype:
            batch = T.cast(batch, variable.dtype)
        givens.append((variable, batch))
    return givens


def compile_functions(dataset, inputs, cost, params, errors, batch_size, rule, rule_options,
                      extra_updates=(), max_grad_norm=None, mode=None):
    """(train_model, {set name: error function}, rule updates) over a minibatch index."""
    index = T.lscalar("index")
    error_functions = {}
    for name in ("test", "valid"):
        error_functions[name] = function([index], errors, mode=mode,
                                         givens=_givens(inputs, dataset[SETS.index(name)], index, batch_size))
    grads = grad(cost, params)
    if max_grad_norm is not None:
        grads = update_rules.total_norm_constraint(grads, max_grad_norm)
    rule_updates = rule(params, grads, **rule_options)
    all_updates = list(rule_updates) + list(extra_updates)
    all_updates += random_updates([cost], all_updates)
    train_model = function([index], cost, updates=all_updates, mode=mode,
                           givens=_givens(inputs, dataset[0], index, batch_size))
    return train_model, error_functions, rule_updates


def set_error(error_function, n_examples, batch_size, batches=None):
    """Mean error over the examples of the chosen minibatches (all by default)."""
    n_batches = -(-n_examples // batch_size)
    chosen = range(n_batches) if batches is None else batches
    total, count = 0.0, 0
    for i in chosen:
        size = min(batch_size, n_examples - i * batch_size)
        total += float(error_function(i)) * size
        count += size
    return total / count


# --- the loop -----------------------------------------------------------------

class _Progress(object):
    """A tqdm bar over minibatches, or nothing when turned off."""

    def __init__(self, enabled, total, name):
        self.bar = None
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, desc=name, unit="batch", leave=False, dynamic_ncols=True)

    def step(self, **postfix):
        if self.bar is not None:
            self.bar.update(1)
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)

    def write(self, line, verbose):
        if not verbose:
            return
        if self.bar is not None:
            self.bar.write(line)
        else:
            print(line)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def optimize(dataset=None, inputs=None, cost=None, params=None, errors=None, n_epochs=1000,
             batch_size=20, patience=10000, patience_increase=2, improvement_threshold=0.995,
             updates=None, test_batches=-1, print_cost=False, optimizer="rmsprop",
             validation_frequency=None, max_grad_norm=None, mode=None, progress=True, verbose=True,
             **rule_options):
    """Train `params` to lower `cost` on `dataset`; see the module docstring.

    dataset     [train, valid, test], each a list of shared variables in the
                order of `inputs` (DL.utils.load_data makes them)
    inputs      the symbolic inputs the data replaces, e.g. [x, t]
    cost        symbolic scalar to minimize;  errors: symbolic scalar to report
    params      the shared variables to train (nested lists are flattened)
    updates     extra (shared, new value) pairs for training, e.g. model.updates
    optimizer   an update rule of DL.updates: sgd, momentum, nesterov_momentum,
                rmsprop, rmsprop_graves, adadelta, adam; **rule_options are its
                keywords (learning_rate=..., ...)
    test_batches  > 0: measure test error on that many random test minibatches
    max_grad_norm clip the joint norm of all gradients to this
    mode        passed to every compiled function ('FAST_RUN', 'NUMBA', 'JAX')

    Returns an OptimizeResult: (train_loss, valid_loss, test_loss), the error
    on each whole set with the best parameters, and the run's `history`.
    """
    optimizer, rule, rule_options = _rule(optimizer, rule_options)
    params, extra_updates = _check_graph(cost, params, errors, updates)
    sizes = _check_dataset(dataset, inputs, batch_size)
    for name, value in (("n_epochs", n_epochs), ("patience", patience)):
        if not value > 0:
            raise ValueError("%s must be positive, got %r" % (name, value))

    start = time.time()
    train_model, error_functions, _ = compile_functions(
        dataset, inputs, cost, params, errors, batch_size, rule, rule_options,
        extra_updates, max_grad_norm, mode)
    compile_seconds = time.time() - start

    n_train_batches = -(-sizes[0] // batch_size)
    n_test_batches = -(-sizes[2] // batch_size)
    if validation_frequency is None:
        validation_frequency = max(1, min(n_train_batches, patience // 2))

    def valid_error():
        return set_error(error_functions["valid"], sizes[1], batch_size)

    def test_error():
        if 0 < test_batches < n_test_batches:
            sample = sorted(test_sampler.sample(range(n_test_batches), test_batches))
            return set_error(error_functions["test"], sizes[2], batch_size, sample)
        return set_error(error_functions["test"], sizes[2], batch_size)

    test_sampler = random.Random(0)
    best_values = [p.get_value(borrow=False) for p in params]
    best_valid, best_iteration, test_at_best = numpy.inf, 0, None
    history, costs_since = [], []
    epoch, iteration, stopped = 0, 0, "n_epochs"
    bar = _Progress(progress, int(min(n_epochs, 10 ** 6)) * n_train_batches, optimizer)
    bar.write("%s: training on %d examples, %d minibatches of %d an epoch (compiled in %.1f s)"
              % (optimizer, sizes[0], n_train_batches, batch_size, compile_seconds), verbose)
    train_start = time.time()
    try:
        while epoch < n_epochs and stopped == "n_epochs":
            epoch += 1
            for minibatch in range(n_train_batches):
                minibatch_cost = float(train_model(minibatch))
                if not numpy.isfinite(minibatch_cost):
                    for param, value in zip(params, best_values):
                        param.set_value(value)
                    raise NonFiniteCostError(
                        "training cost became %r at epoch %d, minibatch %d/%d (iteration %d); the "
                        "best parameters so far were restored. Lower the learning rate, clip "
                        "gradients (max_grad_norm=...) or check the data for NaN/inf."
                        % (minibatch_cost, epoch, minibatch + 1, n_train_batches, iteration + 1),
                        epoch, minibatch + 1, history)
                costs_since.append(minibatch_cost)
                if print_cost:
                    bar.write("    cost: %0.05f" % minibatch_cost, True)
                iteration += 1
                if iteration % validation_frequency == 0:
                    this_valid = valid_error()
                    record = {"epoch": epoch, "iteration": iteration, "minibatch": minibatch + 1,
                              "train_cost": float(numpy.mean(costs_since)), "valid_error": this_valid,
                              "test_error": None, "seconds": time.time() - train_start}
                    costs_since = []
                    if this_valid < best_valid:
                        if this_valid < best_valid * improvement_threshold:
                            patience = max(patience, iteration * patience_increase)
                        best_valid, best_iteration = this_valid, iteration
                        best_values = [p.get_value(borrow=False) for p in params]
                        test_at_best = record["test_error"] = test_error()
                    history.append(record)
                    bar.write("epoch %i, minibatch %i/%i: validation error %.3f %%%s"
                              % (epoch, minibatch + 1, n_train_batches, this_valid * 100,
                                 "" if record["test_error"] is None
                                 else ", test error of the best model %.3f %%" % (record["test_error"] * 100)),
                              verbose)
                bar.step(epoch=epoch, cost="%.4f" % minibatch_cost)
                if patience <= iteration:
                    stopped = "patience"
                    break
    except KeyboardInterrupt:
        stopped = "interrupted"
        bar.write("%s: interrupted at epoch %d; keeping the best parameters" % (optimizer, epoch), True)
    finally:
        bar.close()
    train_seconds = time.time() - train_start

    if history:
        for param, value in zip(params, best_values):
            param.set_value(value)
    final = _final_errors(dataset, inputs, errors, batch_size, sizes, error_functions, mode)
    bar.write("%s: stopped (%s) after %d epochs, %.1f s; best validation error %.3f %% at iteration %d; "
              "errors with the best parameters: train %.3f %%, valid %.3f %%, test %.3f %%"
              % (optimizer, stopped, epoch, train_seconds, best_valid * 100, best_iteration,
                 final[0] * 100, final[1] * 100, final[2] * 100), verbose)
    return OptimizeResult(final, history=history, best_valid_error=float(best_valid),
                          best_iteration=best_iteration, test_error_at_best=test_at_best,
                          epochs=epoch, iterations=iteration, stopped=stopped,
                          compile_seconds=compile_seconds, train_seconds=train_seconds,
                          optimizer=optimizer)


def _final_errors(dataset, inputs, errors, batch_size, sizes, error_functions, mode):
    """Errors over the whole train, valid and test sets."""
    index = T.lscalar("index")
    train_errors = function([index], errors, mode=mode, givens=_givens(inputs, dataset[0], index, batch_size))
    return (set_error(train_errors, sizes[0], batch_size),
            set_error(error_functions["valid"], sizes[1], batch_size),
            set_error(error_functions["test"], sizes[2], batch_size))
