"""Callbacks of `train_loop`: what happens around the training steps.

    Progress        a tqdm bar over minibatches and a line per validation
    KeepBest        copies the parameters at each new best; puts them back at the end
    Checkpointing   saves the whole training state (DL.checkpoint) every few epochs,
                    at the end, on Ctrl-C and on a non-finite step
    NonFiniteGuard  stops training with NonFiniteCostError at a non-finite step
    RunLog          (DL.optimizers.records) the history as JSON lines, TensorBoard files

A callback is any object with the methods of `Callback` (each does nothing by
default); `train_loop` calls them in the order of its list.  `state` is the
loop's `LoopState` (epoch, minibatch, iteration, history, stopping, ...).
"""
from DL.optimizers.metrics import as_metric


class NonFiniteCostError(FloatingPointError):
    """The training cost became NaN or infinite; the best parameters were restored."""

    def __init__(self, message, epoch, minibatch, history):
        super().__init__(message)
        self.epoch = epoch
        self.minibatch = minibatch
        self.history = history


class Callback(object):
    """The moments of the loop (see DL.optimizers.loop); override the ones you need."""

    def on_step(self, state, cost):
        """After each applied training step; `cost` is its minibatch cost."""

    def on_validation(self, state, record, improved):
        """After each validation: `record` is the new history entry, `improved` a new best."""

    def on_epoch_end(self, state):
        """After the last minibatch of an epoch (and its validation, if any)."""

    def on_non_finite(self, state, error):
        """A step was refused (`error` is the NonFiniteStep); raise to stop training."""

    def on_ctrl_c(self, state):
        """A first Ctrl-C asked to stop after the minibatch under way (called in the signal handler)."""

    def on_stop(self, state):
        """Once at the end, whatever the reason (`state.stopped`)."""


class Progress(Callback):
    """A tqdm bar over minibatches (when `bar`) and the lines of a run (when `verbose`).

    total, initial  minibatches in the whole run, and already done (a resumed run)
    name            the bar's label (the update rule's name)
    metric          what the errors measure, for the validation lines (a Metric or name)
    print_cost      print each minibatch's cost"""

    def __init__(self, total, name, metric=None, bar=True, verbose=True, print_cost=False, initial=0):
        self.name, self.metric = name, as_metric(metric)
        self.verbose, self.print_cost = verbose, print_cost
        self.bar = None
        if bar:
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=initial, desc=name, unit="batch", leave=False,
                            dynamic_ncols=True)

    def write(self, line, always=False):
        """Print `line` (above the bar) when verbose, or `always`."""
        if not (self.verbose or always):
            return
        if self.bar is not None:
            self.bar.write(line)
        else:
            print(line)

    def on_step(self, state, cost):
        if self.print_cost:
            self.write("    cost: %0.05f" % cost, True)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(epoch=state.epoch, cost="%.4f" % cost, refresh=False)

    def on_validation(self, state, record, improved):
        name, metric = self.metric.name, self.metric
        line = "epoch %i, minibatch %i/%i: validation %s %s" % (
            record["epoch"], record["minibatch"], state.n_train_batches, name, metric.format(record["valid_error"]))
        if record["test_error"] is not None:
            line += ", test %s of the best model %s" % (name, metric.format(record["test_error"]))
        self.write(line)

    def on_ctrl_c(self, state):
        self.write("%s: stopping after this minibatch (Ctrl-C again to stop at once)" % self.name, True)

    def on_stop(self, state):
        if self.bar is not None:
            self.bar.close()


class KeepBest(Callback):
    """The parameters of the best validation: copied at each new best (`values`), and
    put back when training ends after at least one validation, or at a non-finite step."""

    def __init__(self, params, values=None):
        self.params = list(params)
        self.values = values if values is not None else self._copy()

    def _copy(self):
        return [param.get_value(borrow=False) for param in self.params]

    def on_validation(self, state, record, improved):
        if improved:
            self.values = self._copy()

    def restore(self):
        for param, value in zip(self.params, self.values):
            param.set_value(value)

    def on_stop(self, state):
        if state.stopped == "non-finite" or (state.stopped != "error" and state.history):
            self.restore()


class Checkpointing(Callback):
    """Saves `training_state` (a DL.checkpoint.TrainingState) to `path` atomically:
    every `every` epochs, at the end, on Ctrl-C (unless stopped inside a step: the
    last complete checkpoint stays), and at a non-finite step (the state before it,
    random generators put back).  `keep_best` (a KeepBest) gives the best parameters."""

    def __init__(self, training_state, path, every, keep_best):
        self.training_state, self.path, self.every, self.keep_best = training_state, path, every, keep_best
        # the generators as they are before the next step: the guard keeps tensors, not generators
        self.generators = training_state.generator_states()

    def save(self, state):
        self.training_state.save(self.path, state.to_json(), self.keep_best.values)

    def on_step(self, state, cost):
        self.generators = self.training_state.generator_states()

    def on_epoch_end(self, state):
        if state.epoch % self.every == 0:
            self.save(state)

    def on_non_finite(self, state, error):
        self.training_state.set_generator_states(self.generators)
        self.save(state)

    def on_stop(self, state):
        if state.stopped in ("n_epochs", "patience", "interrupted") and not state.stopped_in_step:
            self.save(state)


class NonFiniteGuard(Callback):
    """Stops training at a step whose cost or gradient is NaN or infinite, raising
    NonFiniteCostError with the epoch and minibatch; its message names `checkpoint`,
    the file holding the state before that step, when there is one."""

    def __init__(self, checkpoint=None):
        self.checkpoint = checkpoint

    def on_non_finite(self, state, error):
        raise NonFiniteCostError(
            "%s at epoch %d, minibatch %d/%d (iteration %d); that step was not applied and the "
            "best parameters so far were restored%s. Lower the learning rate, clip gradients "
            "(max_grad_norm=...) or check the data for NaN/inf."
            % (error.what, state.epoch, state.minibatch + 1, state.n_train_batches, state.iteration + 1,
               "" if self.checkpoint is None else "; %s holds the state before that step" % self.checkpoint),
            state.epoch, state.minibatch + 1, state.history)
