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

Nothing is lost to a crash or a bad step:
- A step whose cost or gradient is NaN or infinite is not applied (the
  training function's updates are guarded); training stops with
  `NonFiniteCostError` naming the epoch and minibatch, the best parameters
  restored.
- Ctrl-C asks to stop after the minibatch under way (a second one stops at
  once); `optimize` returns with the best parameters.
- `checkpoint=PATH` saves the whole state (DL.checkpoint: parameters, update-rule
  state, random generators, the loop) atomically every `checkpoint_every`
  epochs, at the end, on Ctrl-C and on a non-finite cost (the state before
  the bad step).  `resume=PATH` continues from it: a run killed at any moment
  and resumed ends with the same parameters, bit for bit, as one never stopped.
"""
import inspect
import json
import os
import random
import signal
import threading
import time

import numpy

from DL import checkpoint as checkpoints
from DL import updates as update_rules
from DL.backend import T, function, grad, graph_inputs, random_updates, static_shapes
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
    checkpoint            the checkpoint file written (None without checkpoint=)
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
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not hasattr(pair[0], "get_value"):
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
    state, a dropout mask), so each minibatch shape gets its own function, whose
    inputs declare that shape: usually two (the full minibatches and the last,
    shorter one)."""

    def __init__(self, inputs, outputs, data_set, batch_size, mode, updates=None):
        self.inputs, self.outputs, self.updates, self.mode = list(inputs), outputs, updates, mode
        # the sets' host arrays, found once: a set stored as floats and cast to ints
        # would otherwise be converted whole at every minibatch
        self.host_data = [_host_array(data) for data in data_set]
        self.batch_size = batch_size
        self.functions = {}

    def _function(self, batches):
        shapes = tuple(batch.shape for batch in batches)
        if shapes not in self.functions:
            fixed = [T.TensorType(variable.dtype, shape=shape)(variable.name)
                     for variable, shape in zip(self.inputs, shapes)]
            self.functions[shapes] = function(fixed, self.outputs, updates=self.updates, mode=self.mode,
                                              givens=list(zip(self.inputs, fixed)),
                                              on_unused_input="ignore")
        return self.functions[shapes]

    def __call__(self, index):
        start = index * self.batch_size
        batches = [numpy.asarray(data[start:start + self.batch_size], dtype=variable.dtype)
                   for data, variable in zip(self.host_data, self.inputs)]
        return self._function(batches)(*batches)


def _minibatch_function(index, inputs, outputs, data_set, batch_size, mode, updates=None):
    """`f(index)`: `outputs` on minibatch `index` of `data_set`."""
    if static_shapes(mode):
        return _HostMinibatches(inputs, outputs, data_set, batch_size, mode, updates)
    return function([index], outputs, updates=updates, mode=mode,
                    givens=_givens(inputs, data_set, index, batch_size))


def _all_finite(values):
    """A symbolic bool: every element of `values` is finite (summed in float64, so
    only NaN or inf makes the sum non-finite, not the size of finite values)."""
    total = sum(T.sum(value, dtype="float64") for value in values)
    return T.lt(abs(total), numpy.inf)


def _unless_non_finite(finite, updates):
    """Each tensor update applied only when `finite`; otherwise the variable keeps its
    value.  (Random generators are not tensors; optimize() puts them back itself.)"""
    guarded = []
    for variable, new_value in updates:
        dtype = getattr(variable, "dtype", None)
        if dtype is not None and getattr(new_value, "dtype", None) == dtype and new_value.ndim == variable.ndim:
            new_value = T.switch(finite, new_value, variable)
        guarded.append((variable, new_value))
    return guarded


def compile_training(dataset, inputs, cost, params, errors, batch_size, rule, rule_options,
                     extra_updates=(), max_grad_norm=None, mode=None, guard=False):
    """compile_functions(), and the list of every shared variable training updates.

    With `guard`, `train_model(i)` returns `(cost, finite)` and applies no update
    when the cost or a gradient is NaN or infinite: the state stays that of the
    last good step."""
    index = T.lscalar("index")
    error_functions = {}
    for name in ("test", "valid"):
        error_functions[name] = _minibatch_function(index, inputs, errors, dataset[SETS.index(name)],
                                                    batch_size, mode)
    grads = grad(cost, params)
    if max_grad_norm is not None:
        grads = update_rules.total_norm_constraint(grads, max_grad_norm)
    rule_updates = rule(params, grads, **rule_options)
    all_updates = list(rule_updates) + list(extra_updates)
    all_updates += random_updates([cost], all_updates)
    outputs = cost
    if guard:
        finite = _all_finite([cost] + list(grads))
        all_updates = _unless_non_finite(finite, all_updates)
        outputs = [cost, finite]
    train_model = _minibatch_function(index, inputs, outputs, dataset[0], batch_size, mode, all_updates)
    return train_model, error_functions, rule_updates, [variable for variable, _ in all_updates]


def compile_functions(dataset, inputs, cost, params, errors, batch_size, rule, rule_options,
                      extra_updates=(), max_grad_norm=None, mode=None):
    """(train_model, {set name: error function}, rule updates) over a minibatch index."""
    return compile_training(dataset, inputs, cost, params, errors, batch_size, rule, rule_options,
                            extra_updates, max_grad_norm, mode)[:3]


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

    def __init__(self, enabled, total, name, initial=0):
        self.bar = None
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=initial, desc=name, unit="batch", leave=False,
                            dynamic_ncols=True)

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


class _CtrlC(object):
    """Within the block, a first Ctrl-C only asks to stop: the loop stops after the
    minibatch under way, so no step is left half applied and a checkpoint can be
    written.  A second Ctrl-C interrupts at once.  (Only in the main thread, and only
    when Python's own handler is in place.)"""

    def __init__(self, notify):
        self.notify = notify
        self.requested = False
        self.previous = None

    def __enter__(self):
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.notify()

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


class _Loop(object):
    """Where early stopping is: everything a checkpoint carries besides the variables."""

    def __init__(self, patience, n_train_batches):
        self.epoch = 0                      # the epoch under way (0: none yet)
        self.minibatch = n_train_batches    # minibatches done in it
        self.iteration = 0
        self.patience = patience
        self.best_valid = numpy.inf
        self.best_iteration = 0
        self.test_at_best = None
        self.history = []
        self.costs_since = []
        self.train_seconds = 0.0
        self.test_sampler = random.Random(0)

    def to_json(self):
        state = dict(vars(self))
        state["test_sampler"] = checkpoints.sampler_state(self.test_sampler)
        state["best_valid"] = float(self.best_valid)
        return state

    def load_json(self, state, patience):
        """The saved loop; a larger `patience` given now extends the saved one."""
        sampler = state.pop("test_sampler")
        vars(self).update(state)
        checkpoints.set_sampler_state(self.test_sampler, sampler)
        self.patience = max(self.patience, patience)


def _check_checkpointing(checkpoint, checkpoint_every, resume):
    """The checkpoint path and the file to resume from (None when starting afresh)."""
    if not isinstance(checkpoint_every, int) or isinstance(checkpoint_every, bool) or checkpoint_every < 1:
        raise ValueError("checkpoint_every must be a positive number of epochs, got %r"
                         % (checkpoint_every,))
    if checkpoint is not None:
        checkpoint = os.fspath(checkpoint)
        folder = os.path.dirname(os.path.abspath(checkpoint))
        if not os.path.isdir(folder):
            raise FileNotFoundError("checkpoint=%s: the folder %s does not exist; create it first"
                                    % (checkpoint, folder))
        if not os.access(folder, os.W_OK):
            raise PermissionError("checkpoint=%s: the folder %s is not writable" % (checkpoint, folder))
    if resume is True:
        if checkpoint is None:
            raise ValueError("resume=True resumes from the checkpoint= file; pass checkpoint=PATH "
                             "(or resume=PATH)")
        return checkpoint, checkpoint if os.path.exists(checkpoint) else None
    if resume in (None, False):
        return checkpoint, None
    resume = os.fspath(resume)
    if not os.path.exists(resume):
        raise FileNotFoundError("resume=%s: no checkpoint there to resume from (resume=True "
                                "starts afresh when the checkpoint= file is missing)" % resume)
    return checkpoint, resume


def _jsonable_options(rule_options):
    return json.loads(json.dumps(rule_options, default=repr))


def optimize(dataset=None, inputs=None, cost=None, params=None, errors=None, n_epochs=1000,
             batch_size=20, patience=10000, patience_increase=2, improvement_threshold=0.995,
             updates=None, test_batches=-1, print_cost=False, optimizer="rmsprop",
             validation_frequency=None, max_grad_norm=None, mode=None, progress=True, verbose=True,
             checkpoint=None, checkpoint_every=1, resume=None, **rule_options):
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
    checkpoint  a file to save the whole training state to (DL.checkpoint):
                every `checkpoint_every` epochs, at the end, on Ctrl-C and on a
                non-finite cost (then holding the state before the bad step)
    resume      a checkpoint file to continue from, or True: from `checkpoint`
                if that file exists, else start afresh

    Returns an OptimizeResult: (train_loss, valid_loss, test_loss), the error
    on each whole set with the best parameters, and the run's `history`.
    """
    optimizer, rule, rule_options = _rule(optimizer, rule_options)
    params, extra_updates = _check_graph(cost, params, errors, updates)
    sizes = _check_dataset(dataset, inputs, batch_size)
    for name, value in (("n_epochs", n_epochs), ("patience", patience)):
        if not value > 0:
            raise ValueError("%s must be positive, got %r" % (name, value))
    if validation_frequency is not None and not (isinstance(validation_frequency, int)
                                                 and validation_frequency > 0):
        raise ValueError("validation_frequency must be a positive number of minibatches (or None: "
                         "once an epoch), got %r" % (validation_frequency,))
    checkpoint, resume = _check_checkpointing(checkpoint, checkpoint_every, resume)

    start = time.time()
    train_model, error_functions, _, updated = compile_training(
        dataset, inputs, cost, params, errors, batch_size, rule, rule_options,
        extra_updates, max_grad_norm, mode, guard=True)
    compile_seconds = time.time() - start

    n_train_batches = -(-sizes[0] // batch_size)
    n_test_batches = -(-sizes[2] // batch_size)
    if validation_frequency is None:
        validation_frequency = max(1, min(n_train_batches, patience // 2))

    def valid_error():
        return set_error(error_functions["valid"], sizes[1], batch_size)

    def test_error():
        if 0 < test_batches < n_test_batches:
            sample = sorted(loop.test_sampler.sample(range(n_test_batches), test_batches))
            return set_error(error_functions["test"], sizes[2], batch_size, sample)
        return set_error(error_functions["test"], sizes[2], batch_size)

    loop = _Loop(patience, n_train_batches)
    best_values = [p.get_value(borrow=False) for p in params]
    state = None
    if checkpoint is not None or resume is not None:
        state = checkpoints.TrainingState(params, updated, {
            "optimizer": optimizer, "batch_size": batch_size, "set_sizes": list(sizes),
            "rule_options": _jsonable_options(rule_options)})
    if resume is not None:
        saved_loop, best_values = state.restore(resume)
        loop.load_json(saved_loop, patience)

    def save_checkpoint():
        if checkpoint is not None:
            state.save(checkpoint, loop.to_json(), best_values)

    done = max(loop.epoch - 1, 0) * n_train_batches + (loop.minibatch if loop.epoch else 0)
    bar = _Progress(progress, int(min(n_epochs, 10 ** 6)) * n_train_batches, optimizer, done)
    bar.write("%s: training on %d examples, %d minibatches of %d an epoch (compiled in %.1f s)%s"
              % (optimizer, sizes[0], n_train_batches, batch_size, compile_seconds,
                 "" if resume is None else "; resumed from %s at epoch %d, minibatch %d"
                 % (resume, loop.epoch, loop.minibatch)), verbose)
    ctrl_c = _CtrlC(lambda: bar.write("%s: stopping after this minibatch (Ctrl-C again to stop at once)"
                                      % optimizer, True))
    train_start = time.time() - loop.train_seconds
    stopped, in_step = None, False
    try:
        with ctrl_c:
            while stopped is None:
                if loop.patience <= loop.iteration:
                    stopped = "patience"
                    break
                if ctrl_c.requested:
                    raise KeyboardInterrupt
                if loop.minibatch == n_train_batches:
                    if loop.epoch >= n_epochs:
                        stopped = "n_epochs"
                        break
                    loop.epoch, loop.minibatch = loop.epoch + 1, 0
                in_step = True
                generators = state.generator_states() if state else None
                minibatch_cost, finite = train_model(loop.minibatch)
                minibatch_cost = float(minibatch_cost)
                if not finite:
                    if state:  # the guard kept every tensor as before this step; the generators too
                        state.set_generator_states(generators)
                    loop.train_seconds = time.time() - train_start
                    save_checkpoint()
                    raise _non_finite(minibatch_cost, loop, n_train_batches, checkpoint)
                loop.costs_since.append(minibatch_cost)
                if print_cost:
                    bar.write("    cost: %0.05f" % minibatch_cost, True)
                loop.iteration += 1
                if loop.iteration % validation_frequency == 0:
                    record, improved = _validate(loop, valid_error, test_error, improvement_threshold,
                                                 patience_increase, time.time() - train_start)
                    if improved:
                        best_values = [p.get_value(borrow=False) for p in params]
                    bar.write("epoch %i, minibatch %i/%i: validation error %.3f %%%s"
                              % (loop.epoch, loop.minibatch + 1, n_train_batches, record["valid_error"] * 100,
                                 "" if record["test_error"] is None
                                 else ", test error of the best model %.3f %%" % (record["test_error"] * 100)),
                              verbose)
                loop.minibatch += 1
                in_step = False
                bar.step(epoch=loop.epoch, cost="%.4f" % minibatch_cost)
                if loop.minibatch == n_train_batches and loop.epoch % checkpoint_every == 0:
                    loop.train_seconds = time.time() - train_start
                    save_checkpoint()
    except KeyboardInterrupt:
        stopped = "interrupted"
        bar.write("%s: interrupted at epoch %d; keeping the best parameters%s"
                  % (optimizer, loop.epoch, _interrupted_note(checkpoint, in_step)), True)
    except NonFiniteCostError:
        for param, value in zip(params, best_values):
            param.set_value(value)
        raise
    finally:
        bar.close()
    loop.train_seconds = time.time() - train_start
    if not in_step:
        save_checkpoint()  # the state to continue from, before the best parameters return

    if loop.history:
        for param, value in zip(params, best_values):
            param.set_value(value)
    final = _final_errors(dataset, inputs, errors, batch_size, sizes, error_functions, mode)
    bar.write("%s: stopped (%s) after %d epochs, %.1f s; best validation error %.3f %% at iteration %d; "
              "errors with the best parameters: train %.3f %%, valid %.3f %%, test %.3f %%"
              % (optimizer, stopped, loop.epoch, loop.train_seconds, loop.best_valid * 100,
                 loop.best_iteration, final[0] * 100, final[1] * 100, final[2] * 100), verbose)
    return OptimizeResult(final, history=loop.history, best_valid_error=float(loop.best_valid),
                          best_iteration=loop.best_iteration, test_error_at_best=loop.test_at_best,
                          epochs=loop.epoch, iterations=loop.iteration, stopped=stopped,
                          compile_seconds=compile_seconds, train_seconds=loop.train_seconds,
                          optimizer=optimizer, checkpoint=checkpoint)


def _validate(loop, valid_error, test_error, improvement_threshold, patience_increase, seconds):
    """Measure the validation error and note an improvement: (history record, improved)."""
    this_valid = valid_error()
    record = {"epoch": loop.epoch, "iteration": loop.iteration, "minibatch": loop.minibatch + 1,
              "train_cost": float(numpy.mean(loop.costs_since)), "valid_error": this_valid,
              "test_error": None, "seconds": seconds}
    loop.costs_since = []
    if this_valid < loop.best_valid:
        if this_valid < loop.best_valid * improvement_threshold:
            loop.patience = max(loop.patience, loop.iteration * patience_increase)
        loop.best_valid, loop.best_iteration = this_valid, loop.iteration
        loop.test_at_best = record["test_error"] = test_error()
    loop.history.append(record)
    return record, record["test_error"] is not None


def _non_finite(cost, loop, n_train_batches, checkpoint):
    what = ("training cost became %r" % cost if not numpy.isfinite(cost)
            else "a gradient became NaN or infinite (cost %r)" % cost)
    return NonFiniteCostError(
        "%s at epoch %d, minibatch %d/%d (iteration %d); that step was not applied and the "
        "best parameters so far were restored%s. Lower the learning rate, clip gradients "
        "(max_grad_norm=...) or check the data for NaN/inf."
        % (what, loop.epoch, loop.minibatch + 1, n_train_batches, loop.iteration + 1,
           "" if checkpoint is None else "; %s holds the state before that step" % checkpoint),
        loop.epoch, loop.minibatch + 1, loop.history)


def _interrupted_note(checkpoint, in_step):
    if checkpoint is None:
        return ""
    if in_step:
        return " (stopped inside a minibatch: %s keeps the last complete checkpoint)" % checkpoint
    return "; the state to continue from is in %s" % checkpoint


def _final_errors(dataset, inputs, errors, batch_size, sizes, error_functions, mode):
    """Errors over the whole train, valid and test sets."""
    index = T.lscalar("index")
    train_errors = _minibatch_function(index, inputs, errors, dataset[0], batch_size, mode)
    return (set_error(train_errors, sizes[0], batch_size),
            set_error(error_functions["valid"], sizes[1], batch_size),
            set_error(error_functions["test"], sizes[2], batch_size))
