"""Early stopping by patience, as in the deeplearning.net tutorials.

Train at least `patience` minibatches.  Every `validation_frequency`
minibatches, measure the validation error; a new best that beats the old one
by more than the factor `improvement_threshold` extends patience to
`iteration * patience_increase`.  Stop when the iteration reaches patience.

    stopping = EarlyStopping(validation_frequency=n_train_batches, patience=10000)
    ...
    iteration += 1
    if stopping.validation_due(iteration):
        if stopping.update(functions.validate(), iteration):
            best = [p.get_value() for p in params]      # a new best: keep it
    if stopping.should_stop(iteration):
        ...

The tutorials validate every min(n_train_batches, patience // 2) minibatches:
at least once an epoch, and at least twice before patience runs out
(`tutorial_frequency`).
"""
import numbers

import numpy


def tutorial_frequency(n_train_batches, patience):
    """The tutorials' validation frequency: min(n_train_batches, patience // 2), at least 1."""
    return max(1, min(n_train_batches, int(patience) // 2))


class EarlyStopping(object):
    """Patience, its increase and threshold, and the best validation error so far.

    validation_frequency  validate every this many minibatches (iterations)
    patience              train at least this many minibatches
    patience_increase     a clear improvement at iteration i extends patience to
                          i * patience_increase
    improvement_threshold a new best is clear when below best * improvement_threshold

    best_valid, best_iteration   the best validation error and when it was seen
                                 (inf and 0 before any validation)"""

    def __init__(self, validation_frequency, patience=10000, patience_increase=2, improvement_threshold=0.995):
        if not isinstance(patience, numbers.Real) or isinstance(patience, bool) or not patience > 0:
            raise ValueError("patience must be positive, got %r" % (patience,))
        if not (isinstance(validation_frequency, numbers.Integral) and not isinstance(validation_frequency, bool)
                and validation_frequency > 0):
            raise ValueError("validation_frequency must be a positive number of minibatches (or None: "
                             "once an epoch), got %r" % (validation_frequency,))
        self.validation_frequency = int(validation_frequency)
        self.patience = patience
        self.patience_increase = patience_increase
        self.improvement_threshold = improvement_threshold
        self.best_valid = numpy.inf
        self.best_iteration = 0

    def validation_due(self, iteration):
        """True when the minibatch just done, the `iteration`-th, is followed by a validation."""
        return iteration % self.validation_frequency == 0

    def update(self, valid_error, iteration):
        """Note the validation error measured after `iteration` minibatches; True when it
        is a new best (whose parameters and test error are then worth keeping)."""
        if not valid_error < self.best_valid:
            return False
        if valid_error < self.best_valid * self.improvement_threshold:
            self.patience = max(self.patience, iteration * self.patience_increase)
        self.best_valid, self.best_iteration = valid_error, iteration
        return True

    def should_stop(self, iteration):
        """True once `iteration` minibatches reach patience."""
        return self.patience <= iteration

    def to_json(self):
        return {"patience": self.patience, "best_valid": float(self.best_valid),
                "best_iteration": self.best_iteration}

    def load_json(self, state):
        """The saved progress; a larger `patience` given now extends the saved one."""
        self.patience = max(self.patience, state["patience"])
        self.best_valid, self.best_iteration = state["best_valid"], state["best_iteration"]
