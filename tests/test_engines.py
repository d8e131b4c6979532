"""`mode=` passes through optimize() to every function it compiles, and an MLP
trains the same on each of PyTensor's engines.

- NUMBA: every compiled function runs on the Numba linker, and the trained
  weights equal those of the C engine (CVM) from the same start, to float32
  rounding; the MLP learns the task (train and test error near zero).
- JAX (an optional engine: `pip install jax jaxlib`, or `pip install DL[jax]`):
  the same checks on the JAX linker.  Skipped, saying so, where jax is not
  installed.
Legacy Theano has neither linker, so the module is skipped there.
"""
import importlib.util
import warnings

import numpy
import pytest
from numpy.testing import assert_allclose

from DL.backend import BACKEND, T
from DL.models.MLP import MLP
from DL.optimizers import optimize
from DL.optimizers import training
from DL.utils import flatten, load_data
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

pytestmark = pytest.mark.skipif(BACKEND != "pytensor",
                                reason="NUMBA and JAX are linkers of PyTensor; legacy Theano has neither")

HAS_JAX = importlib.util.find_spec("jax") is not None
EPOCHS = 15


def two_blobs(seed=0):
    """Two well separated Gaussian classes in 4-D: 160 / 40 / 40 examples."""
    rng = numpy.random.RandomState(seed)
    sets = []
    for n in (160, 40, 40):
        t = rng.randint(0, 2, size=n)
        x = rng.normal(size=(n, 4)) + 2.0 * numpy.where(t[:, None] == 1, 1.0, -1.0)
        sets.append([x.astype("float32"), t.astype("int32")])
    return sets


def train_mlp(mode, monkeypatch):
    """Train a 4-8-2 MLP with optimize(mode=mode); (result, weights, compiled functions)."""
    compiled = []
    real_function = training.function

    def recording_function(*args, **kwargs):
        compiled.append(real_function(*args, **kwargs))
        return compiled[-1]

    monkeypatch.setattr(training, "function", recording_function)
    x, t = T.matrix("x"), T.ivector("t")
    mlp = MLP(rng=numpy.random.RandomState(1), input=x, n_in=4, n_hidden=8, n_out=2)
    params = flatten(mlp.params)
    result = optimize(dataset=load_data(two_blobs()), inputs=[x, t], cost=mlp.loss(t), params=params,
                      errors=mlp.errors(t), n_epochs=EPOCHS, batch_size=10, optimizer="sgd",
                      learning_rate=0.1, momentum=0, mode=mode, progress=False, verbose=False)
    return result, [p.get_value() for p in params], compiled


def linker_of(function):
    return type(function.maker.linker).__name__


@pytest.fixture(scope="module")
def reference(request):
    """The same training on PyTensor's C engine (the CVM linker)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return train_mlp("CVM", monkeypatch)


def check_engine(mode, linker, reference, monkeypatch):
    result, weights, compiled = train_mlp(mode, monkeypatch)
    # train, validate, test and the final train-error function: all on the engine asked for
    # (on JAX the three sets' error functions share one per minibatch shape: here one shape)
    assert len(compiled) == 2 if mode == "JAX" else len(compiled) >= 4
    assert {linker_of(f) for f in compiled} == {linker}
    assert result.iterations == EPOCHS * 16
    assert result.train_loss <= 0.02 and result.test_loss <= 0.05
    _, reference_weights, reference_compiled = reference
    assert {linker_of(f) for f in reference_compiled} == {"VMLinker"}
    for mine, theirs in zip(weights, reference_weights):
        assert mine.dtype == theirs.dtype == numpy.float32
        assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


def test_numba_mode_passes_through_optimize_and_matches_the_c_engine(reference, monkeypatch):
    check_engine("NUMBA", "DLNumbaLinker", reference, monkeypatch)  # (PyTensor's, subclassed: DL.engine.numba_linker)


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
def test_jax_mode_passes_through_optimize_and_matches_the_c_engine(reference, monkeypatch):
    check_engine("JAX", "DLJAXLinker", reference, monkeypatch)  # (PyTensor's, subclassed: DL.engine.jax_linker)


def test_an_unknown_mode_fails_before_training():
    x, t = T.matrix("x"), T.ivector("t")
    mlp = MLP(rng=numpy.random.RandomState(1), input=x, n_in=4, n_hidden=8, n_out=2)
    with pytest.raises(Exception, match="NO_SUCH_MODE"):
        optimize(dataset=load_data(two_blobs()), inputs=[x, t], cost=mlp.loss(t),
                 params=flatten(mlp.params), errors=mlp.errors(t), n_epochs=1, batch_size=10,
                 optimizer="sgd", learning_rate=0.1, mode="NO_SUCH_MODE", progress=False, verbose=False)


def tiny_sequences(seed=0):
    """Sequences of 6 ids (padded at the end), labelled by whether id 1 occurs:
    23 / 9 / 9 examples, so the last minibatch of each set is shorter."""
    rng = numpy.random.RandomState(seed)
    sets = []
    for n in (23, 9, 9):
        ids = rng.randint(1, 5, size=(n, 6)).astype("int64")
        mask = numpy.ones((n, 6), "float32")
        for example, length in enumerate(rng.randint(2, 7, size=n)):
            ids[example, length:], mask[example, length:] = 0, 0
        sets.append([ids, (ids == 1).any(axis=1).astype("int64"), mask])
    return sets


def train_lstm(mode):
    from DL.models import EmbeddingLayer, HiddenLayer, LSTM
    from DL.pooling import mean_pool
    x, t, mask = T.lmatrix("x"), T.lvector("t"), T.matrix("mask")
    rng = numpy.random.RandomState(3)
    embedding = EmbeddingLayer(rng=rng, input=x, n_in=5, n_out=4)
    lstm = LSTM(rng=rng, input=embedding.output, mask=mask, n_units=4)
    classifier = HiddenLayer(rng=rng, input=mean_pool(lstm.output, mask), n_in=4, n_out=2, activation="softmax")
    params = flatten([embedding.params, lstm.params, classifier.params])
    result = optimize(dataset=load_data(tiny_sequences()), inputs=[x, t, mask], cost=classifier.loss(t),
                      params=params, errors=classifier.errors(t), n_epochs=3, batch_size=5,
                      optimizer="adadelta", mode=mode, progress=False, verbose=False)
    return result, [p.get_value() for p in params]


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
@pytest.mark.slow
def test_jax_mode_trains_an_lstm_like_the_c_engine():
    # every minibatch shape gets its own traced function (the last minibatches are shorter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # JAX drops the run-time shape checks, and says so
        result, weights = train_lstm("JAX")
    reference, reference_weights = train_lstm("CVM")
    assert_allclose(list(result), list(reference), rtol=1e-4, atol=1e-6)
    for mine, theirs in zip(weights, reference_weights):
        assert_allclose(mine, theirs, rtol=1e-4, atol=1e-5)


# --- every model of DL.models, a few steps on Numba and on JAX ----------------------

def model_cases():
    """Every public Model class, found as tests/test_contract.py finds them."""
    from test_contract import CLASSES
    return sorted(CLASSES)


def fixed_data(model, inputs, y, rng):
    """(symbolic inputs, values): 4 examples of 5 steps, images 2 x 3 x 8 x 8, LeNet's
    784-long rows; targets of the model's output's shape."""
    from pytensor.compile.mode import Mode
    from DL.backend import function
    symbols = list(inputs.values())
    values = []
    for name, symbol in inputs.items():
        shape = {1: (4,), 2: (4, 3), 3: (4, 5, 3), 4: (2, 3, 8, 8)}[symbol.ndim]
        if type(model).__name__ == "LeNet":
            shape = (4, 784)
        if name == "mask":  # (n_examples, n_timesteps) of the sequences, all real
            values.append(numpy.ones((4, 5), symbol.dtype))
        elif symbol.dtype.startswith("int"):
            values.append(rng.randint(0, 3, size=shape).astype(symbol.dtype))
        else:
            values.append(rng.rand(*shape).astype(symbol.dtype))
    if y is not None:
        output = function(symbols, model.output_deterministic, mode=Mode(linker="py", optimizer="fast_compile"),
                          on_unused_input="ignore")(*values)
        shape = output.shape[:-1] if y.ndim == output.ndim - 1 else output.shape
        values.append(rng.randint(0, output.shape[-1], size=shape).astype(y.dtype) if y.dtype.startswith("int")
                      else rng.rand(*shape).astype(y.dtype))
        symbols.append(y)
    return symbols, values


def sgd_steps(model, inputs, y, loss, mode, steps=3):
    """(losses, parameters) after `steps` SGD steps (learning rate 0.1) on fixed data, from
    the model's initial parameters and state (which are put back afterwards: a JAX function
    leaves JAX arrays in the shared variables it updates, which Numba cannot read).  On JAX
    the function compiles for the data's shapes (DL.backend.PerShape)."""
    from DL.backend import function
    params = flatten(model.params)
    initial = [(v, numpy.array(v.get_value())) for v in flatten(model.variables)]
    symbols, values = fixed_data(model, inputs, y, numpy.random.RandomState(5))
    step = function(symbols, loss, updates=[(p, p - 0.1 * g) for p, g in zip(params, T.grad(loss, params))]
                    + list(model.updates), mode=mode, on_unused_input="ignore")
    losses = [float(step(*values)) for _ in range(steps)]
    trained = [numpy.array(p.get_value()) for p in params]
    for variable, value in initial:
        variable.set_value(value)
    return losses, trained


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
@pytest.mark.slow
@pytest.mark.parametrize("name", model_cases())
def test_each_model_trains_the_same_on_numba_and_on_jax(name):
    from test_contract import CLASSES, build, loss_and_errors
    model, inputs, _ = build(CLASSES[name], dropout_rate=0)
    loss, _, y = loss_and_errors(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # JAX drops the run-time shape checks, and says so
        jax_losses, jax_params = sgd_steps(model, inputs, y, loss, "JAX")
    numba_losses, numba_params = sgd_steps(model, inputs, y, loss, "NUMBA")
    assert numpy.all(numpy.isfinite(numba_losses))
    if numba_params:  # it learns (PoolLayer has nothing to learn)
        assert numba_losses[-1] < numba_losses[0]
    assert_allclose(jax_losses, numba_losses, rtol=2e-4, atol=1e-6)
    for mine, theirs in zip(jax_params, numba_params):
        assert_allclose(mine, theirs, rtol=2e-4, atol=2e-6)


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
def test_dropout_draws_on_jax_keep_the_rate_and_the_scale():
    from DL.backend import RandomStreams, function
    from DL.dropout import dropout
    x = T.TensorType("float32", shape=(200, 50))("x")
    dropped = dropout(RandomStreams(7), 0.3, x)
    draw = function([x], dropped, mode="JAX")
    ones = numpy.ones((200, 50), "float32")
    first, second = numpy.asarray(draw(ones)), numpy.asarray(draw(ones))
    for masked in (first, second):
        assert set(numpy.unique(masked)) <= {0.0, numpy.float32(1 / 0.7)}
        assert abs((masked == 0).mean() - 0.3) < 0.02  # 10,000 draws: 4.6 standard deviations
    assert (first != second).any()  # a new mask at every call


# --- JAX's global settings: import order, 64-bit types, the persistent cache ----------------

X64_PROGRAM = r"""
import json, sys
if sys.argv[1] == "pytensor-jax-first":
    import pytensor.link.jax.dispatch  # sets JAX's global x64 from floatX: float64 before DL's import
import jax
before = bool(jax.config.jax_enable_x64)
import numpy
from DL.backend import T, function
x, y = T.TensorType("float32", shape=(3,))("x"), T.TensorType("float64", shape=(3,))("y")
f32 = function([x], [x * 2, T.sum(x, dtype="float64")], mode="JAX")  # float32 with float64 bookkeeping
f64 = function([y], y * 2 + 2.0 ** 40, mode="JAX")  # a float64 graph: 2**40 + 2 is exact only in float64
outputs = f32(numpy.ones(3, "float32")) + [f64(numpy.ones(3))]
print(json.dumps({"before": before, "after": bool(jax.config.jax_enable_x64),
                  "dtypes": [str(numpy.asarray(v).dtype) for v in outputs],
                  "float64 sum": float(numpy.asarray(outputs[2])[0] - 2.0 ** 40),
                  "cache": jax.config.jax_compilation_cache_dir}))
"""


def run_jax_program(tmp_path, *arguments, **environment):
    import json
    import os
    import subprocess
    import sys
    env = dict(os.environ, DL_JAX_CACHE_DIR=str(tmp_path / "dl-jax"), **environment)
    env.pop("JAX_COMPILATION_CACHE_DIR", None) if "JAX_COMPILATION_CACHE_DIR" not in environment else None
    done = subprocess.run([sys.executable, "-c", X64_PROGRAM] + list(arguments), env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
@pytest.mark.parametrize("order", ["dl-first", "pytensor-jax-first"])
def test_jax_functions_have_the_graphs_types_whatever_the_import_order(order, tmp_path):
    seen = run_jax_program(tmp_path, order)
    assert seen["after"] == seen["before"]  # the global setting, other JAX code's, is left alone
    assert seen["dtypes"] == ["float32", "float64", "float64"]  # the graphs' types
    assert seen["float64 sum"] == 2.0  # computed in float64 (float32 would give 0)
    assert seen["cache"] == str(tmp_path / "dl-jax")
    assert any((tmp_path / "dl-jax").iterdir())  # the compiled programs are on disk


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
def test_the_persistent_jax_cache_can_be_turned_off_or_chosen_by_the_user(tmp_path):
    assert run_jax_program(tmp_path, "dl-first", DL_JAX_CACHE="0")["cache"] is None
    assert not (tmp_path / "dl-jax").exists()
    chosen = str(tmp_path / "users-own")
    assert run_jax_program(tmp_path, "dl-first", JAX_COMPILATION_CACHE_DIR=chosen)["cache"] == chosen
    # JAX's compiled programs go to the user's folder; DL's folder holds DL's exported ones only
    assert [p.name for p in (tmp_path / "dl-jax").iterdir()] == ["programs"]


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
@pytest.mark.parametrize("rule", sorted(__import__("DL.updates", fromlist=["rules"]).rules))
def test_each_update_rule_steps_the_same_on_numba_and_on_jax(rule):
    from DL import updates
    from DL.backend import function, shared
    x = T.TensorType("float32", shape=(4, 3))("x")
    data = numpy.random.RandomState(0).rand(4, 3).astype("float32")
    end = {}
    for mode in ("NUMBA", "JAX"):
        w = shared(numpy.array([0.5, -1.0, 2.0], "float32"), name="w")
        cost = T.sum((T.dot(x, w) - 1.0) ** 2)
        step = function([x], cost, updates=updates.get(rule)([w], T.grad(cost, [w])), mode=mode)
        costs = [float(step(data)) for _ in range(5)]
        end[mode] = costs, numpy.asarray(w.get_value())
    assert end["NUMBA"][0][-1] < end["NUMBA"][0][0]  # it descends
    assert_allclose(end["JAX"][0], end["NUMBA"][0], rtol=1e-5)
    assert_allclose(end["JAX"][1], end["NUMBA"][1], rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed "
                                        "(pip install jax jaxlib, or pip install DL[jax])")
def test_a_jax_function_on_inputs_of_unknown_shape_compiles_once_per_shape():
    from DL.backend import function
    x = T.matrix("x")  # no sizes: JAX needs them, so each new shape of x gets its function
    total = function([x], T.tanh(x).sum(axis=0) + x.shape[0], mode="JAX")
    for rows in (3, 5, 3):
        data = numpy.arange(rows * 2, dtype="float32").reshape(rows, 2) / 10
        assert_allclose(total(data), numpy.tanh(data).sum(axis=0) + rows, rtol=1e-6)
    assert len(total.functions) == 2  # (3, 2) and (5, 2), the first reused
    with pytest.raises(TypeError, match="takes 1 inputs"):
        total(data, data)


def one_sequence_rnn(x):
    from DL.models.RNN import RNN
    return [x], RNN(numpy.random.RandomState(3), x, n_in=3, n_hidden=5, n_out=2, dropout_rate=0.2)


def one_sequence_use(x):
    """A USE: its loop concatenates and reshapes (observations x, actions (n, 7, 2))."""
    from DL.models.USE import USE
    a = T.tensor3("a")
    return [x, a], USE(rng=numpy.random.RandomState(3), obs=x, act=a, n_obs=3, n_act=2, n_hidden=4,
                       ff_obs=[5], ff_filt=[5], ff_trans=[5], ff_act=[5], ff_pred=[5])


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed")
@pytest.mark.parametrize("build", [one_sequence_rnn, one_sequence_use], ids=["RNN", "USE"])
def test_a_jax_function_runs_one_sequence_through_a_recurrent_net(build):
    """A first axis of size 1 (one sequence: the examples' own predictions) makes the input's
    axis broadcastable once JAX's PerShape fixes the sizes; DL's loops pass their sequences
    and states through UnfixOnes (DL.engine.shape_op), so the scan still takes them and the
    program is traced with every size fixed (JAX's reshapes need constants)."""
    from DL.backend import function
    inputs, model = build(T.tensor3("x"))
    rng = numpy.random.RandomState(4)
    data = [rng.rand(1, 7, 3 if i == 0 else 2).astype("float32") for i in range(len(inputs))]
    on_jax = function(inputs, model.output_deterministic, mode="JAX")
    on_numba = function(inputs, model.output_deterministic, mode="NUMBA")
    result = on_jax(*data)
    assert result.shape[:2] == (1, 7)
    assert_allclose(result, on_numba(*data), rtol=2e-5, atol=1e-6)
    compiled, = on_jax.functions.values()
    assert [v.type.shape for v in compiled.maker.fgraph.inputs[:len(data)]] == [d.shape for d in data]
    # training's output, with dropout masks drawn for one sequence of that fixed size
    drawn = function(inputs, model.output, updates=model.updates, mode="JAX")(*data)
    assert drawn.shape == result.shape and numpy.isfinite(drawn).all()


# --- what a JAX function holds, and what a JAX run imports ------------------------------------

def generated_jax_code(compiled):
    """The Python function PyTensor wrote for a compiled JAX function's graph."""
    pending, seen = [compiled.vm.jit_fn], set()
    while pending:
        fn = pending.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        wrapped = getattr(fn, "__wrapped__", None)
        if wrapped is not None and wrapped.__name__ == "jax_funcified_fgraph":
            return wrapped
        pending += [cell.cell_contents for cell in (getattr(fn, "__closure__", None) or ())
                    if callable(cell.cell_contents)] + ([wrapped] if wrapped is not None else [])
    raise AssertionError("no generated function found behind %r" % compiled)


@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed")
def test_a_jax_function_keeps_no_copy_of_shared_values_and_puts_constants_on_the_device():
    import jax
    from DL.backend import function, shared
    w = shared(numpy.arange(60, dtype="float32").reshape(6, 10), name="w")
    x = T.TensorType("float32", shape=(4, 6))("x")
    offsets = T.constant(numpy.linspace(-1, 1, 10).astype("float32"))  # an array constant of the graph
    f = function([x], T.tanh(T.dot(x, w) * 0.01 + offsets), mode="JAX")
    data = numpy.random.RandomState(0).rand(4, 6).astype("float32")
    assert_allclose(f(data), numpy.tanh(data.dot(w.get_value()) * 0.01 + offsets.data), rtol=1e-6)
    held = {name: value for name, value in generated_jax_code(f).__globals__.items()
            if isinstance(value, (numpy.ndarray, jax.Array)) and value.ndim > 0}
    # PyTensor's conversion would keep a JAX copy of w's value there (unused: w is an argument)
    assert not any(numpy.shape(value) == (6, 10) for value in held.values()), held.keys()
    constants = [value for value in held.values() if numpy.size(value) == 10]  # (as a row: (1, 10))
    assert len(constants) == 1 and isinstance(constants[0], jax.Array)
    assert numpy.array_equal(numpy.asarray(constants[0]).ravel(), offsets.data)
    # the function reads w's current value at each call
    w.set_value(2 * w.get_value())
    assert_allclose(f(data), numpy.tanh(data.dot(w.get_value()) * 0.01 + offsets.data), rtol=1e-6)


JAX_USER_PROGRAM = r"""
import json, sys
import numpy
from DL.backend import T, function
from DL.models.LSTM import LSTM
x = T.TensorType("float32", shape=(2, 5, 4))("x")
lstm = LSTM(numpy.random.RandomState(1), x, None, n_units=4)
data = numpy.random.RandomState(2).rand(2, 5, 4).astype("float32")
on_jax = numpy.asarray(function([x], lstm.output)(data))  # DL_MODE=JAX
numba_imported = "pytensor.link.numba.dispatch" in sys.modules
on_numba = numpy.asarray(function([x], lstm.output, mode="NUMBA")(data))  # the same graph, on Numba
from pytensor.graph.traversal import ancestors
fused = any(v.owner is not None and type(v.owner.op).__name__ == "LSTMRecurrence" for v in ancestors([lstm.output]))
print(json.dumps({"numba imported": numba_imported, "fused": fused,
                  "difference": float(numpy.abs(on_jax - on_numba).max())}))
"""


@pytest.mark.slow  # a fresh process
@pytest.mark.skipif(not HAS_JAX, reason="JAX is an optional engine and jax is not installed")
def test_a_jax_run_does_not_import_numba_and_its_graph_still_compiles_on_numba():
    import json
    import os
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", JAX_USER_PROGRAM], capture_output=True, text=True,
                          env=dict(os.environ, DL_MODE="JAX"), timeout=HANG)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["fused"]  # DL's own Op, whose Numba code is registered only when needed
    assert seen["numba imported"] is False  # PyTensor's Numba code: 0.3-0.4 s of a JAX start
    assert seen["difference"] < 1e-5  # registered for Numba when compiled for it
