"""The layer contract, checked for every public class of DL.models, found by itself.

No list of classes lives here: the test walks `DL.models`, builds each class from
its constructor's signature (the required arguments by name, `dropout_rate=0.5`
where the class takes one, so that the training path draws), and checks:

- `apply` is the class's own, or the class composes `layers` (the base's apply);
- `apply(x, mask=None, train=False)` writes nothing to the object;
- two applications use one set of parameters: the model's, all of them, the same
  shared variables each time;
- the deterministic path (output_deterministic, pred, errors) draws nothing and moves
  no state; a training path that differs says what it updates in `updates`;
- the hooks exist and compile together.

A class added later is checked as it lands.  A constructor argument the table
below cannot fill fails with a message that says to teach it the argument.
"""
import inspect

import numpy
import pytest

import DL.models
from DL import state
from DL.backend import BACKEND, T, function, graph_inputs, random_updates, theano
from DL.models.base import Model
from DL.utils import flatten

SIZE = 3  # every size argument: n_in, n_out, n_hidden, n_units, n_fact, ...


def public_classes():
    """Every class DL.models exports that is a Model, by name."""
    found = {}
    for name in dir(DL.models):
        value = getattr(DL.models, name)
        if inspect.isclass(value) and issubclass(value, Model) and not name.startswith("_"):
            found[name] = value
    return found


CLASSES = public_classes()


def py_mode():
    """Compiles without C or Numba: the graph is checked, nothing is compiled to code."""
    return theano.compile.mode.Mode(linker="py", optimizer="fast_compile")


def candidate_inputs():
    """Inputs to try, in order, until the constructor takes one (each class checks its rank)."""
    return [T.matrix("x"), T.tensor3("x"), T.lmatrix("ids"), T.tensor4("images")]


def argument_value(name, rng, inputs):
    """The value of a required constructor argument `name` (or a KeyError)."""
    if name == "rng":
        return rng
    if name in ("mult", "obs", "act"):
        inputs[name] = T.tensor3(name) if name != "mult" else T.matrix(name)
        return inputs[name]
    if name == "mask":
        inputs[name] = T.matrix("mask")
        return inputs[name]
    if name == "layer":  # Bidirectional: a builder of one direction
        return lambda x, m, layer_name: DL.models.LSTM(rng, x, m, SIZE, name=layer_name)
    if name == "layer_sizes":
        return [SIZE, SIZE]
    if name == "ff_sizes":
        return [[SIZE]]
    if name == "n_parallel":
        return 2
    if name.startswith(("n_", "e_")):
        return SIZE
    raise KeyError(name)


def build(cls, dropout_rate=0.5):
    """(model, the symbolic inputs it was built on by name, the x its apply takes);
    `dropout_rate` for a class that takes one (0.5: the training path draws)."""
    signature = inspect.signature(cls.__init__)
    named = [p for p in list(signature.parameters.values())[1:] if p.kind == p.POSITIONAL_OR_KEYWORD]
    required = [p.name for p in named if p.default is inspect.Parameter.empty]
    optional = [p.name for p in named if p.default is None and p.name not in ("params", "srng", "name")]
    errors = []
    for candidate in candidate_inputs():
        rng, inputs = numpy.random.RandomState(0), {}
        try:
            arguments = {name: argument_value(name, rng, inputs) for name in required if name != "input"}
        except KeyError as missing:
            pytest.fail("%s: the contract test cannot fill the argument %s; teach argument_value "
                        "a small value for it" % (cls.__name__, missing))
        for name in optional:  # a None default the table knows (layer_sizes, mask, n_fact, ...)
            try:
                arguments[name] = argument_value(name, rng, inputs)
            except KeyError:
                pass
        if "input" in signature.parameters:
            inputs["input"] = arguments["input"] = candidate
        if "dropout_rate" in signature.parameters:
            arguments["dropout_rate"] = dropout_rate
        try:
            model = cls(**arguments)
        except (TypeError, ValueError) as error:
            errors.append(str(error))
            continue
        return model, inputs, apply_input(model, inputs)
    pytest.fail("%s: no candidate input built it: %s" % (cls.__name__, errors))


def apply_input(model, inputs):
    """What `apply` takes: the input, or (input, mult) as one tuple (a state estimator's
    input is already the tuple (obs, act))."""
    return (model.input, model.mult) if "mult" in inputs else model.input


def fresh_like(x):
    """New symbolic inputs of the types of `x` (a tensor or a tuple of them)."""
    if isinstance(x, tuple):
        return tuple(fresh_like(part) for part in x)
    return x.type()


def used_params(model, outputs):
    """The model's shared parameters that `outputs` read."""
    params = set(flatten(model.params))
    return set(v for v in graph_inputs(outputs) if v in params)


def targets_for(model):
    """Targets y for loss and errors, or None for a model that takes none."""
    output = model.output_deterministic
    if model.outputActivation == "softmax":
        return {1: T.lvector, 2: T.lmatrix}[output.ndim - 1]("y")
    return output.type("y")


def loss_and_errors(model):
    """(loss, errors, y or None)."""
    try:
        return model.loss(), model.errors(), None
    except TypeError:
        y = targets_for(model)
        return model.loss(y), model.errors(y), y


def state_of(model):
    """What `apply` must leave alone: the object's attributes and their identities."""
    return {name: id(value) for name, value in vars(model).items()}


@pytest.fixture(scope="module", params=sorted(CLASSES))
def built(request):
    return (CLASSES[request.param],) + build(CLASSES[request.param])


def test_the_walk_finds_the_family():
    expected = {"HiddenLayer", "LogisticRegression", "ForwardFeed", "MLP", "DBN", "EmbeddingLayer",
                "MultiplicativeLayer", "RNN", "MRNN", "LSTM", "GRU", "Bidirectional", "USE", "MUSE", "SSE",
                "EUSE", "ForwardFeedColumn", "DBNC"}
    assert expected <= set(CLASSES), expected - set(CLASSES)


def test_apply_is_its_own_or_composed(built):
    cls, model, _, _ = built
    own = "apply" in vars(cls) or any("apply" in vars(base) or "trace" in vars(base)
                                      for base in cls.__mro__ if base is not Model and base is not object)
    assert own or list(model.layers), "%s neither defines apply nor composes layers" % cls.__name__


def test_apply_writes_nothing_to_the_object(built):
    _, model, _, x = built
    before = state_of(model)
    model.apply(fresh_like(x), mask=None, train=True)
    model.apply(fresh_like(x), mask=None, train=False)
    assert state_of(model) == before


def test_two_applications_share_one_set_of_parameters(built):
    cls, model, _, x = built
    params = set(flatten(model.params))  # (empty for a layer without parameters: pooling)
    first = used_params(model, [model.apply(fresh_like(x), train=True)])
    second = used_params(model, [model.apply(fresh_like(x), train=False)])
    assert first == second == used_params(model, [model.output]) == params


def test_the_deterministic_path_draws_nothing(built):
    _, model, _, _ = built
    loss, errors, _ = loss_and_errors(model)
    deterministic = [model.output_deterministic, model.pred, errors]
    assert random_updates(deterministic) == [] and state.updates(deterministic) == []
    if model.drops:  # the training path differs (it draws, or moves state), and says so in updates
        assert model.updates


def test_the_hooks_exist_and_compile(built):
    _, model, inputs, _ = built
    loss, errors, y = loss_and_errors(model)
    for hook in ("L1", "L2_sqr", "updates", "params"):
        getattr(model, hook)
    symbolic = [v for v in graph_inputs([model.output, loss, errors, model.pred])
                if v in set(inputs.values()) | ({y} if y is not None else set())]
    f = function(symbolic, [model.output, model.output_deterministic, model.pred, loss, errors,
                            T.as_tensor_variable(model.L2_sqr)], mode=py_mode())
    assert f is not None


def test_a_class_without_apply_or_layers_says_so():
    class Nothing(Model):
        def __init__(self):
            self.name = "Nothing"

    with pytest.raises(NotImplementedError, match="Nothing defines no apply"):
        Nothing().apply(T.matrix())


def test_train_passed_by_position_is_refused():
    layer = DL.models.HiddenLayer(numpy.random.RandomState(0), None, SIZE, SIZE)
    with pytest.raises(TypeError, match="pass train by name"):
        layer.apply(T.matrix(), True)


@pytest.mark.skipif(BACKEND != "pytensor", reason="the fused recurrences are PyTensor Ops")
def test_the_fused_ops_take_their_layout_from_the_cells():
    from DL.engine.gru_op import GRURecurrence
    from DL.engine.lstm_op import LSTMRecurrence
    for op, cell in ((LSTMRecurrence, DL.models.LSTM.cell), (GRURecurrence, DL.models.GRU.cell)):
        assert op.cell is cell and (op.n_gates, op.n_states) == (cell.n_gates, cell.n_states)
        assert cell.fused_op() is op
