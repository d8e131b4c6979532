"""The training loop: epochs of minibatch steps, validation, early stopping, callbacks.

    state = train_loop(functions, stopping, n_epochs=100, callbacks=[...])

`functions` is what `compile_functions` returns (train(i), validate(), test()),
`stopping` an `EarlyStopping`.  The loop trains epoch by epoch until `n_epochs`
or until patience runs out, validates every `stopping.validation_frequency`
minibatches and, at each new best, measures the test error.  Everything else
is a callback (DL.optimizers.callbacks): the progress bar, keeping the best
parameters, checkpoints, records, and the guard that stops on a non-finite
step.  Callbacks are called in the order given, at these moments:

    on_step(state, cost)                after each applied training step
    on_validation(state, record, improved)   after each validation; `record` is
                                        the history entry, `improved` a new best
    on_epoch_end(state)                 after the last minibatch of an epoch
    on_non_finite(state, error)         a step was refused (NonFiniteStep); a
                                        callback may raise to stop, else the loop
                                        goes on with the next minibatch
    on_ctrl_c(state)                    a first Ctrl-C asked to stop
    on_stop(state)                      once, at the end, for any reason: see
                                        `state.stopped`

Ctrl-C: within the loop a first Ctrl-C only asks to stop; the loop stops after
the minibatch under way (so no step is left half applied and a checkpoint can
be written) and returns.  A second Ctrl-C stops at once, inside the step.  The
handler is installed only in the main thread and only when SIGINT has Python's
default handler: when SIGINT is ignored (`nohup`, a background job) it stays
ignored, and a handler of the caller's own stays in place.
"""
import random
import signal
import threading
import time

import numpy

from DL import backend, checkpoint as checkpoints
from DL.optimizers.callbacks import NonFiniteCostError
from DL.optimizers.compiling import NonFiniteStep


class LoopState(object):
    """Where training is: everything a checkpoint carries besides the variables.

    epoch         the epoch under way (0: none yet)
    minibatch     minibatches done in it
    iteration     minibatches done in all
    history       one dict per validation: epoch, iteration, minibatch, train_cost
                  (mean since the last validation), valid_error, test_error (None
                  when not measured), metric, seconds
    test_at_best  the test error measured at the best validation
    stopping      the EarlyStopping (patience, best validation error and iteration)
    stopped       at the end: 'n_epochs', 'patience', 'interrupted', 'non-finite' or 'error'
    stopped_in_step  True when a second Ctrl-C (or an error) stopped inside a step"""

    def __init__(self, n_train_batches, stopping):
        self.n_train_batches = n_train_batches
        self.stopping = stopping
        self.epoch = 0
        self.minibatch = n_train_batches
        self.iteration = 0
        self.history = []
        self.costs_since = []
        self.test_at_best = None
        self.train_seconds = 0.0
        self.test_sampler = random.Random(0)
        self.stopped, self.stopped_in_step = None, False

    _SAVED = ("epoch", "minibatch", "iteration", "history", "costs_since", "test_at_best", "train_seconds")

    def to_json(self):
        state = {name: getattr(self, name) for name in self._SAVED}
        state.update(self.stopping.to_json())
        state["test_sampler"] = checkpoints.sampler_state(self.test_sampler)
        return state

    def load_json(self, state):
        """The saved loop (a larger patience given now extends the saved one)."""
        for name in self._SAVED:
            setattr(self, name, state[name])
        self.stopping.load_json(state)
        checkpoints.set_sampler_state(self.test_sampler, state["test_sampler"])

    def done(self):
        """Minibatches trained so far (for a progress bar)."""
        return max(self.epoch - 1, 0) * self.n_train_batches + (self.minibatch if self.epoch else 0)


class CtrlC(object):
    """Within the block, a first Ctrl-C calls `notify()` and sets `requested`; a second
    raises KeyboardInterrupt.  Only in the main thread, and only when Python's own
    handler is in place (an ignored SIGINT stays ignored)."""

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


def _call(callbacks, event, *args):
    for callback in callbacks:
        getattr(callback, event)(*args)


def validate(functions, state, test_batches=-1):
    """Measure the validation error, note it in `state.stopping`, and at a new best the
    test error (over `test_batches` random test minibatches when 0 < test_batches <
    their number): (history record, improved).  The record is appended to the history."""
    valid_error = functions.validate()
    record = {"epoch": state.epoch, "iteration": state.iteration, "minibatch": state.minibatch,
              "train_cost": float(numpy.mean(state.costs_since)) if state.costs_since else float("nan"),
              "valid_error": valid_error, "test_error": None, "metric": functions.metric.name,
              "seconds": state.train_seconds}
    state.costs_since = []
    improved = state.stopping.update(valid_error, state.iteration)
    if improved:
        n_test = functions.n_batches("test")
        sample = (sorted(state.test_sampler.sample(range(n_test), test_batches))
                  if 0 < test_batches < n_test else None)
        state.test_at_best = record["test_error"] = functions.test(sample)
    state.history.append(record)
    return record, improved


def train_loop(functions, stopping, n_epochs, callbacks=(), state=None, test_batches=-1, flush_denormals=True):
    """Train until `n_epochs` or patience; returns the LoopState (see `state.stopped`).

    functions     a TrainingFunctions (compile_functions)
    stopping      an EarlyStopping
    n_epochs      the most epochs to train (counting those of a resumed `state`)
    callbacks     objects with the methods of DL.optimizers.callbacks.Callback,
                  called in this order (put a NonFiniteGuard after a Checkpointing)
    state         a LoopState(n_train_batches, stopping) to continue (e.g. loaded from a
                  checkpoint with its load_json); default: a new one
    test_batches  > 0: measure test errors on that many random test minibatches
    flush_denormals  the loop (callbacks included) runs with the CPU treating denormal
                  floats as zero, as they underflow in long backward passes and slow
                  every step several times (DL.engine.denormals); False: as the caller has it.
                  The loop also keeps its steps' freed arrays for reuse (DL.engine.allocator):
                  both within `backend.while_training`, as before once it returns

    Returns after a first Ctrl-C too (state.stopped == 'interrupted'); a callback's
    exception (such as NonFiniteCostError) propagates after on_stop."""
    n_batches = functions.n_batches("train")
    state = LoopState(n_batches, stopping) if state is None else state
    if state.stopping is not stopping:
        raise ValueError("train_loop: state.stopping must be the EarlyStopping passed as stopping")
    ctrl_c = CtrlC(lambda: _call(callbacks, "on_ctrl_c", state))
    start = time.time() - state.train_seconds
    in_step = False
    try:
        with ctrl_c, backend.while_training(flush_denormals) as heap:
            while True:
                if stopping.should_stop(state.iteration):
                    state.stopped = "patience"
                    break
                if ctrl_c.requested:
                    raise KeyboardInterrupt
                if state.minibatch == n_batches:
                    if state.epoch >= n_epochs:
                        state.stopped = "n_epochs"
                        break
                    state.epoch, state.minibatch = state.epoch + 1, 0
                in_step = True
                try:
                    cost = heap.run(functions.train, state.minibatch)
                except NonFiniteStep as error:
                    state.train_seconds = time.time() - start
                    _call(callbacks, "on_non_finite", state, error)
                    cost = None  # no callback stopped: go on with the next minibatch
                state.iteration += 1
                state.minibatch += 1
                if cost is not None:
                    state.costs_since.append(cost)
                    _call(callbacks, "on_step", state, cost)
                if stopping.validation_due(state.iteration):
                    state.train_seconds = time.time() - start
                    _call(callbacks, "on_validation", state, *validate(functions, state, test_batches))
                in_step = False
                if state.minibatch == n_batches:
                    state.train_seconds = time.time() - start
                    _call(callbacks, "on_epoch_end", state)
    except KeyboardInterrupt:
        state.stopped, state.stopped_in_step = "interrupted", in_step
    except BaseException as error:
        state.stopped = "non-finite" if isinstance(error, NonFiniteCostError) else "error"
        state.stopped_in_step = True
        state.train_seconds = time.time() - start
        _call(callbacks, "on_stop", state)
        raise
    state.train_seconds = time.time() - start
    _call(callbacks, "on_stop", state)
    return state
