"""State that is not a parameter, updated by the training path: batch normalization's
running statistics.

A layer whose training pass moves some state registers the update pairs on a
variable of that pass (`register`); `updates(outputs)` finds them again by
walking the graph of `outputs`, as DL.backend.random_updates finds the random
draws.  So `model.updates` holds every layer's state updates without any layer
writing them to an object, and `optimize` adds those a user forgot to pass.
"""
import weakref

from DL.backend import BACKEND

_STATE_UPDATES = weakref.WeakKeyDictionary()


def register(variable, pairs):
    """Record that computing `variable` on the training path moves state: `pairs` are
    (shared variable, new value) updates; returns `variable`."""
    _STATE_UPDATES[variable] = list(pairs)
    return variable


def _ancestors(outputs):
    if BACKEND == "pytensor":
        from pytensor.graph.traversal import ancestors
    else:
        from theano.gof.graph import ancestors
    return ancestors(list(outputs))


def updates(outputs, existing=()):
    """The state updates registered on the variables `outputs` are computed from, not
    already in `existing` (each shared variable once)."""
    updated = set(id(variable) for variable, _ in existing)
    found = []
    for variable in _ancestors(outputs):
        for shared_variable, new in _STATE_UPDATES.get(variable, ()):
            if id(shared_variable) not in updated:
                updated.add(id(shared_variable))
                found.append((shared_variable, new))
    return found
