"""Training checkpoints: everything `optimize()` needs to continue a run exactly.

A checkpoint is a `DL.io` file (an atomic `.npz`, no pickles) holding

    params        the trained parameters as they are now (not the best ones)
    best params   the parameters of the best validation so far
    state         every other shared variable the training function updates: the
                  update rule's velocities, running averages and step counter, and
                  any state the model updates itself

and, as JSON meta,

    generators    the state of every random generator the training function draws
                  from (dropout masks): PyTensor's NumPy Generators, legacy Theano's
                  RandomStates, in the order of the function's updates
    numpy_random  NumPy's global random state
    loop          epoch, minibatches done in it, iteration, patience, best validation
                  error and iteration, test error at the best, history, costs since
                  the last validation, the test-minibatch sampler's state
    config        optimizer and options, batch size, set sizes, shapes and dtypes

`TrainingState.restore` checks that a checkpoint fits the run (same optimizer,
batch size and set sizes; same number, shapes and dtypes of parameters, state
and generators) and raises `CheckpointError` saying what differs; then it sets
every value, so training continues where it stopped, bit for bit.
"""
import os

import numpy

from DL import io

FORMAT = "DL.checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot continue this run."""


# --- random generators, as JSON ------------------------------------------------

def is_random_generator(variable):
    """True for a shared variable holding a NumPy Generator or RandomState."""
    value = variable.get_value(borrow=True)
    return isinstance(value, (numpy.random.Generator, numpy.random.RandomState))


def _jsonable(value):
    """NumPy arrays and scalars inside a random state, as JSON."""
    if isinstance(value, numpy.ndarray):
        return {"ndarray": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, numpy.generic):
        return value.item()
    return value


def _from_json(value):
    if isinstance(value, dict) and set(value) == {"ndarray", "dtype"}:
        return numpy.array(value["ndarray"], dtype=value["dtype"])
    if isinstance(value, dict):
        return {key: _from_json(item) for key, item in value.items()}
    return value


def generator_state(variable):
    """The JSON-able state of a shared random generator."""
    value = variable.get_value(borrow=True)
    if isinstance(value, numpy.random.Generator):
        return _jsonable(value.bit_generator.state)
    return _jsonable(value.get_state(legacy=False))


def _generator_kind(variable):
    value = variable.get_value(borrow=True)
    return value.bit_generator.state["bit_generator"] if isinstance(value, numpy.random.Generator) \
        else "MT19937"


def set_generator_state(variable, state):
    value = variable.get_value(borrow=False)
    state = _from_json(state)
    if state.get("bit_generator") != _generator_kind(variable):
        raise CheckpointError("random generator %s is %s here but %s in the checkpoint"
                              % (variable, _generator_kind(variable), state.get("bit_generator")))
    if isinstance(value, numpy.random.Generator):
        value.bit_generator.state = state
    else:
        value.set_state(state)
    variable.set_value(value, borrow=True)


def sampler_state(sampler):
    """The state of a `random.Random`, as JSON."""
    version, internal, gauss = sampler.getstate()
    return [version, list(internal), gauss]


def set_sampler_state(sampler, state):
    version, internal, gauss = state
    sampler.setstate((version, tuple(internal), gauss))


# --- the training state ------------------------------------------------------------

def _describe(variables):
    return [{"name": str(v.name), "shape": list(v.get_value(borrow=True).shape),
             "dtype": str(v.get_value(borrow=True).dtype)} for v in variables]


class TrainingState(object):
    """The shared variables a training function changes, sorted by kind.

    params      the trained parameters (in the order given)
    best        what the best validation's copy holds: the parameters, then the model
                state the training path moves (batch normalization's statistics)
    state       the other updated tensors (update-rule and model state)
    generators  the updated random generators

    `updated` lists every shared variable the training function updates, in the
    order of its updates; `config` (JSON) says what the run is, and must match
    on resume."""

    def __init__(self, params, updated, config, best=None):
        self.params = list(params)
        self.best = self.params if best is None else list(best)  # what KeepBest keeps: params, model state
        param_ids = set(id(p) for p in self.params)
        others = [v for v in _unique(updated) if id(v) not in param_ids]
        self.generators = [v for v in others if is_random_generator(v)]
        self.state = [v for v in others if not is_random_generator(v)]
        self.config = dict(config)

    def generator_states(self):
        return [generator_state(g) for g in self.generators]

    def set_generator_states(self, states):
        for generator, state in zip(self.generators, states):
            set_generator_state(generator, state)

    def save(self, path, loop, best_values):
        """Write the checkpoint atomically; `loop` is the JSON loop state."""
        io.save(path, [[p.get_value(borrow=True) for p in self.params], list(best_values),
                       [s.get_value(borrow=True) for s in self.state]],
                checkpoint=FORMAT, config=self.config, loop=loop,
                variables={"params": _describe(self.params), "state": _describe(self.state)},
                generators=self.generator_states(),
                numpy_random=_jsonable(numpy.random.get_state(legacy=False)))
        return path

    def restore(self, path):
        """Set every variable from the checkpoint at `path`; return `(loop, best_values)`."""
        path = os.fspath(path)
        try:
            arrays, meta = io.load(path)
        except io.LoadError as error:
            raise CheckpointError("cannot resume: %s" % error) from None
        if meta.get("checkpoint") != FORMAT:
            raise CheckpointError(
                "%s is not a training checkpoint (written by optimize(checkpoint=...)); a model "
                "file saved by DL.io.save is loaded with params= in the model instead" % path)
        missing = [key for key in ("config", "loop", "generators", "numpy_random") if key not in meta]
        if missing:
            raise CheckpointError("%s is an incomplete checkpoint: it lacks %s" % (path, ", ".join(missing)))
        self._check(path, meta, arrays)
        values, best_values, state_values = arrays
        for variable, value in zip(self.params + self.state, list(values) + list(state_values)):
            variable.set_value(value)
        self.set_generator_states(meta["generators"])
        numpy.random.set_state(_from_json(meta["numpy_random"]))
        return meta["loop"], list(best_values)

    def _check(self, path, meta, arrays):
        theirs = meta["config"]
        for key in sorted(self.config):
            if key != "rule_options" and theirs.get(key) != self.config[key]:
                raise CheckpointError(
                    "cannot resume from %s: it was written with %s=%r, this run has %s=%r; resume "
                    "with the same setting or start a new run" % (path, key, theirs.get(key), key,
                                                                    self.config[key]))
        if not (isinstance(arrays, list) and len(arrays) == 3):
            raise CheckpointError("%s is not a training checkpoint (its arrays are not "
                                  "[params, best params, state])" % path)
        for kind, variables, values in (("parameter", self.params, arrays[0]),
                                        ("best parameter", self.best, arrays[1]),
                                        ("optimizer state variable", self.state, arrays[2])):
            _check_fit(path, kind, variables, values)
        kinds = [state.get("bit_generator") for state in meta["generators"]]
        if kinds != [_generator_kind(g) for g in self.generators]:
            raise CheckpointError(
                "cannot resume from %s: its random generators are %s, this run draws from %s (the "
                "model's dropout or the engine differs)" % (path, kinds, [_generator_kind(g) for g in
                                                                         self.generators]))


def _check_fit(path, kind, variables, values):
    if len(values) != len(variables):
        raise CheckpointError("cannot resume from %s: it holds %d %ss, this run has %d (is it "
                              "the same model and optimizer?)" % (path, len(values), kind, len(variables)))
    for i, (variable, value) in enumerate(zip(variables, values)):
        here = variable.get_value(borrow=True)
        if value.shape != here.shape or value.dtype != here.dtype:
            raise CheckpointError(
                "cannot resume from %s: %s %d (%s) has shape %s and dtype %s there, shape %s and "
                "dtype %s here" % (path, kind, i, variable.name, value.shape, value.dtype, here.shape,
                                   here.dtype))


def _unique(variables):
    seen, unique = set(), []
    for variable in variables:
        if id(variable) not in seen:
            seen.add(id(variable))
            unique.append(variable)
    return unique
