"""A study's space: the configs to train, each with a stable identity.

A space is a dict from config keys to the values to try:

    {"optimizer": ["sgd", "adam"], "learning_rate": [0.01, 0.1], "seed": [0, 1, 2]}

Lists are crossed as a grid (2 x 2 x 3 = 12 configs, the first key varying
slowest).  Random draws `uniform(low, high)`, `loguniform(low, high)` and
`choice(values)` take `n_trials` draws from a generator seeded by `seed`, and
each draw is crossed with the grid of the listed keys: `{"learning_rate":
loguniform(1e-4, 1e-1), "seed": [0, 1, 2]}` with `n_trials=8` is 8 learning
rates x 3 seeds = 24 configs.  The same space, `n_trials` and `seed` give the
same configs in every run, so a study resumes.

A config's identity is `trial_id(config)`: a hash of its canonical JSON, the
same in every process and on every machine.
"""
import hashlib
import itertools
import json
import math
import numbers

import numpy


class SpaceError(ValueError):
    """A space that cannot be turned into configs."""


class Distribution:
    """A random draw for one key of a space (see uniform, loguniform, choice)."""

    def draw(self, rng):
        raise NotImplementedError

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(repr(a) for a in self._args))


def _finite_number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise SpaceError("%s must be a finite number, got %r" % (name, value))
    return float(value)


class uniform(Distribution):
    """A float drawn evenly from [low, high)."""

    def __init__(self, low, high):
        self.low, self.high = _finite_number("uniform low", low), _finite_number("uniform high", high)
        if not self.low < self.high:
            raise SpaceError("uniform(low, high) needs low < high, got %r, %r" % (low, high))
        self._args = (low, high)

    def draw(self, rng):
        return float(rng.uniform(self.low, self.high))


class loguniform(Distribution):
    """A float whose logarithm is drawn evenly: as many draws in [1e-4, 1e-3) as in
    [1e-2, 1e-1).  The usual prior for learning rates."""

    def __init__(self, low, high):
        self.low, self.high = _finite_number("loguniform low", low), _finite_number("loguniform high", high)
        if not 0 < self.low < self.high:
            raise SpaceError("loguniform(low, high) needs 0 < low < high, got %r, %r" % (low, high))
        self._args = (low, high)

    def draw(self, rng):
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


class choice(Distribution):
    """One of `values`, each as likely."""

    def __init__(self, values):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise SpaceError("choice(values) needs a non-empty list of values, got %r" % (values,))
        self.values = [_json_value("choice value", value) for value in values]
        self._args = (self.values,)

    def draw(self, rng):
        return self.values[int(rng.randint(len(self.values)))]


def _json_value(name, value):
    """`value` as a plain JSON value (NumPy scalars become Python ones), or a clear error."""
    if isinstance(value, numpy.generic):
        value = value.item()
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise SpaceError("%s %r is not a plain JSON value (number, string, bool, None, or a list/dict "
                         "of them): %s; the store keeps configs as JSON" % (name, value, error)) from None
    return json.loads(text)


def _check_key(key):
    if not isinstance(key, str):
        raise SpaceError("space keys must be strings (the config's names), got %r of type %s"
                         % (key, type(key).__name__))
    if not key.strip() or key != key.strip():
        raise SpaceError("space key %r is empty or has spaces around it; name each key, e.g. 'learning_rate'"
                         % key)


def check_space(space):
    """(grid keys and their value lists, random keys and their distributions), or a clear error."""
    if not isinstance(space, dict):
        raise SpaceError("space must be a dict from config keys to lists of values, got %s"
                         % type(space).__name__)
    if not space:
        raise SpaceError("space is empty: give at least one key, e.g. {'seed': [0, 1, 2]}")
    grid, random = {}, {}
    for key, values in space.items():
        _check_key(key)
        if isinstance(values, Distribution):
            random[key] = values
        elif isinstance(values, (list, tuple, range, numpy.ndarray)):
            if len(values) == 0:
                raise SpaceError("space[%r] is empty: give at least one value to try" % key)
            grid[key] = [_json_value("space[%r] value" % key, value) for value in values]
            if len(set(json.dumps(v, sort_keys=True) for v in grid[key])) != len(grid[key]):
                raise SpaceError("space[%r] lists a value twice: %r" % (key, list(values)))
        else:
            raise SpaceError("space[%r] must be a list of values or a random draw (DL.sweep.uniform, "
                             "loguniform, choice), got %r; wrap a fixed value in a list: [%r]"
                             % (key, values, values))
    return grid, random


def configs(space, n_trials=None, seed=0):
    """The list of configs (dicts, keys in the space's order) of a space."""
    grid, random = check_space(space)
    if random and n_trials is None:
        raise SpaceError("space has random draws (%s): say how many with n_trials=N"
                         % ", ".join(sorted(random)))
    if not random and n_trials is not None:
        raise SpaceError("n_trials=%r, but the space has no random draws (uniform, loguniform, choice); "
                         "its lists are crossed as a grid" % (n_trials,))
    if random and (isinstance(n_trials, bool) or not isinstance(n_trials, numbers.Integral) or n_trials < 1):
        raise SpaceError("n_trials must be a positive whole number, got %r" % (n_trials,))
    rng = numpy.random.RandomState(seed)
    draws = [{key: random[key].draw(rng) for key in sorted(random)} for _ in range(n_trials or 1)]
    result = []
    for drawn in draws:
        for values in itertools.product(*grid.values()):
            config = dict(zip(grid, values))
            config.update(drawn)
            result.append({key: config[key] for key in space})
    ids = [trial_id(config) for config in result]
    if len(set(ids)) != len(ids):
        raise SpaceError("the space gives the same config twice (a choice() drawn twice?); "
                         "use a grid list, or fewer n_trials")
    return result


def canonical(config):
    """The config as canonical JSON text: sorted keys, no spaces."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)


def trial_id(config):
    """A trial's identity: the first 16 hex digits of the SHA-256 of its canonical JSON."""
    return hashlib.sha256(canonical(config).encode("utf-8")).hexdigest()[:16]
