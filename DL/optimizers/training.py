"""Minibatch training with early stopping, as in the deeplearning.net tutorials.

`optimize()` wires together parts you can also use on their own (see DL.md,
"Writing your own loop"):

    compile_functions   DL.optimizers.compiling: train(i), validate(), test() over
                        a minibatch index; the data stays in shared variables
    EarlyStopping       DL.optimizers.early_stopping: patience, its increase and
                        threshold, the validation frequency
    train_loop          DL.optimizers.loop: epochs of steps, validation, callbacks
    callbacks           DL.optimizers.callbacks and .records: progress bar, the best
                        parameters, checkpoints, the non-finite guard, the run's log

It trains until `n_epochs` or until patience runs out.  Every
`validation_frequency` minibatches (by default once an epoch) it measures the
validation error over the whole validation set; an improvement by more than
`improvement_threshold` extends patience to `iteration * patience_increase`,
and the parameters of the best validation error are kept and restored at the
end.  Errors are exact over every example of a set: the last, partial
minibatch counts, and minibatch means are weighted by their sizes.  A set
smaller than `batch_size` is one partial minibatch.

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
- `log=PATH` appends the history as JSON lines as training goes (records.py).
"""
import json
import os
import time

from DL import backend, checkpoint as checkpoints, state as model_state
from DL.backend import function
# NonFiniteCostError and compile_functions are also importable from here, as before
from DL.optimizers.callbacks import Checkpointing, KeepBest, NonFiniteCostError, NonFiniteGuard, Progress  # noqa: F401
from DL.optimizers.compiling import (TrainingFunctions, check_dataset, check_graph, compile_functions,  # noqa: F401
                                     compile_training, set_error, update_rule)
from DL.optimizers.early_stopping import EarlyStopping, tutorial_frequency
from DL.optimizers.loop import LoopState, train_loop
from DL.optimizers.metrics import as_metric
from DL.optimizers.notice import FirstCalls
from DL.optimizers.records import RunLog


class OptimizeResult(tuple):
    """`(train_loss, valid_loss, test_loss)`: errors over each whole set with the
    restored parameters.  Attributes tell the story of the run:

    history               one dict per validation: epoch, iteration, minibatch,
                          train_cost (mean since the last validation), valid_error,
                          test_error (None when not measured), metric, seconds
    metric                what the errors measure (a DL.optimizers.metrics.Metric)
    best_valid_error      the best validation error seen, and `best_iteration`
    test_error_at_best    test error measured when that validation was best
    epochs, iterations    how far training went
    stopped               'n_epochs', 'patience' or 'interrupted'
    compile_seconds, train_seconds
    checkpoint            the checkpoint file written (None without checkpoint=)
    log                   the JSON-lines file written (None without log=)
    """

    def __new__(cls, losses, **story):
        result = super().__new__(cls, losses)
        result.__dict__.update(story)
        return result

    train_loss = property(lambda self: self[0])
    valid_loss = property(lambda self: self[1])
    test_loss = property(lambda self: self[2])


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


def _interrupted_note(checkpoint, in_step):
    if checkpoint is None:
        return ""
    if in_step:
        return " (stopped inside a minibatch: %s keeps the last complete checkpoint)" % checkpoint
    return "; the state to continue from is in %s" % checkpoint


def optimize(dataset=None, inputs=None, cost=None, params=None, errors=None, n_epochs=1000,
             batch_size=20, patience=10000, patience_increase=2, improvement_threshold=0.995,
             updates=None, test_batches=-1, print_cost=False, optimizer="rmsprop",
             validation_frequency=None, max_grad_norm=None, mode=None, progress=True, verbose=True,
             checkpoint=None, checkpoint_every=1, resume=None, metric=None, log=None, flush_denormals=True,
             **rule_options):
    """Train `params` to lower `cost` on `dataset`; see the module docstring.

    dataset     [train, valid, test], each a list of shared variables in the
                order of `inputs` (DL.utils.load_data makes them); a set smaller
                than `batch_size` is one partial minibatch
    inputs      the symbolic inputs the data replaces, e.g. [x, t]
    cost        symbolic scalar to minimize;  errors: symbolic scalar to report
    params      the shared variables to train (nested lists are flattened)
    updates     extra (shared, new value) pairs for training, e.g. model.updates
    optimizer   an update rule of DL.updates: sgd, momentum, nesterov_momentum,
                rmsprop, rmsprop_graves, adadelta, adam; **rule_options are its
                keywords (learning_rate=..., ...)
    test_batches  > 0: measure test error on that many random test minibatches
    validation_frequency  validate every this many minibatches (default: the
                tutorials' min(minibatches an epoch, patience // 2))
    max_grad_norm clip the joint norm of all gradients to this
    mode        passed to every compiled function ('FAST_RUN', 'NUMBA', 'JAX')
    progress    show a tqdm bar;  verbose: print a line per validation
    checkpoint  a file to save the whole training state to (DL.checkpoint):
                every `checkpoint_every` epochs, at the end, on Ctrl-C and on a
                non-finite cost (then holding the state before the bad step)
    resume      a checkpoint file to continue from, or True: from `checkpoint`
                if that file exists, else start afresh
    metric      what `errors` measures, for the printed lines, the history and
                the log: 'error rate' (shown in percent), 'mse', 'bits per
                character', any name, or a DL.optimizers.metrics.Metric; default:
                read from the errors graph (model.errors gives an error rate or
                an mse; `model.metric` names it), else a plain number
    log         a file to append the history to as JSON lines, one per validation;
                a folder (ends with / or exists) gets FOLDER/log.jsonl and, with
                tensorboardX installed, TensorBoard event files
    flush_denormals  train and measure with the CPU treating denormal floats
                (below 1.2e-38 in float32) as zero: a gradient that underflows
                through a long sequence otherwise slows every step several times
                (DL.engine.denormals); False: leave the CPU as the caller has it

    Ctrl-C: a first one stops after the minibatch under way, a second one at once;
    either way optimize returns.  Its handler is installed only in the main thread
    and only when SIGINT has Python's default handler: a SIGINT the caller ignores
    (nohup, a background job) stays ignored, and a handler of the caller's stays.

    Returns an OptimizeResult: (train_loss, valid_loss, test_loss), the error
    on each whole set with the best parameters, and the run's `history`.
    """
    optimizer, rule, rule_options = update_rule(optimizer, rule_options)
    params, extra_updates = check_graph(cost, params, errors, updates)
    sizes = check_dataset(dataset, inputs, batch_size)
    if not n_epochs > 0:
        raise ValueError("n_epochs must be positive, got %r" % (n_epochs,))
    n_train_batches = -(-sizes[0] // batch_size)
    if validation_frequency is None and patience > 0:
        validation_frequency = tutorial_frequency(n_train_batches, patience)
    stopping = EarlyStopping(validation_frequency, patience, patience_increase, improvement_threshold)
    metric = as_metric(metric, errors)
    checkpoint, resume = _check_checkpointing(checkpoint, checkpoint_every, resume)
    run_log = RunLog(log) if log is not None else None

    start = time.time()  # every compile goes through this module's `function`: wrap it to record them
    compiled = compile_training(dataset, inputs, cost, params, errors, batch_size, rule, rule_options,
                                extra_updates, max_grad_norm, mode, guard=True, compiler=function)
    compile_seconds = time.time() - start
    functions = TrainingFunctions(compiled[:3], sizes, batch_size, True, metric, set_error)

    # The best validation's parameters are put back at the end, with the model state the
    # training path moves beside them (batch normalization's running statistics, DL.state).
    kept = list(params) + [variable for variable, _ in model_state.updates([cost])
                           if all(variable is not param for param in params)]
    state, keep_best = LoopState(n_train_batches, stopping), KeepBest(kept)
    training_state = None
    if checkpoint is not None or resume is not None:
        training_state = checkpoints.TrainingState(params, compiled[3], best=kept, config={
            "optimizer": optimizer, "batch_size": batch_size, "set_sizes": list(sizes),
            "rule_options": json.loads(json.dumps(rule_options, default=repr))})
    if resume is not None:
        saved_loop, keep_best.values = training_state.restore(resume)
        state.load_json(saved_loop)

    bar = Progress(int(min(n_epochs, 10 ** 6)) * n_train_batches, optimizer, metric, progress, verbose,
                   print_cost, state.done())
    bar.write("%s: training on %d examples, %d minibatches of %d an epoch (compiled in %.1f s)%s"
              % (optimizer, sizes[0], n_train_batches, batch_size, compile_seconds,
                 "" if resume is None else "; resumed from %s at epoch %d, minibatch %d"
                 % (resume, state.epoch, state.minibatch)))
    if progress or verbose:  # a first call that compiles for long says so (DL.optimizers.notice)
        functions.first_calls = FirstCalls(lambda line: bar.write(line, True))
    callbacks = [bar]
    if checkpoint is not None:  # saves before the best parameters are put back, and before the guard stops
        callbacks.append(Checkpointing(training_state, checkpoint, checkpoint_every, keep_best))
    callbacks += [keep_best] + ([run_log] if run_log else []) + [NonFiniteGuard(checkpoint)]
    train_loop(functions, stopping, n_epochs, callbacks, state, test_batches, flush_denormals)
    if state.stopped == "interrupted":
        bar.write("%s: interrupted at epoch %d; keeping the best parameters%s"
                  % (optimizer, state.epoch, _interrupted_note(checkpoint, state.stopped_in_step)), True)

    with backend.while_training(flush_denormals):
        final = tuple(functions.error(name) for name in ("train", "valid", "test"))
    bar.write("%s: stopped (%s) after %d epochs, %.1f s; best validation %s %s at iteration %d; "
              "errors with the best parameters: train %s, valid %s, test %s"
              % (optimizer, state.stopped, state.epoch, state.train_seconds, metric.name,
                 metric.format(stopping.best_valid), stopping.best_iteration,
                 *(metric.format(error) for error in final)))
    return OptimizeResult(final, history=state.history, best_valid_error=float(stopping.best_valid),
                          best_iteration=stopping.best_iteration, test_error_at_best=state.test_at_best,
                          epochs=state.epoch, iterations=state.iteration, stopped=state.stopped,
                          compile_seconds=compile_seconds, train_seconds=state.train_seconds,
                          optimizer=optimizer, checkpoint=checkpoint, metric=metric,
                          log=run_log.path if run_log else None)
