"""Importing DL, building models and compiling and running DL's functions change
nothing for other code in the process: pure-PyTensor graphs give the same bits in
every mode DL supports, before DL is imported and after it has trained a model,
and PyTensor's classes, dispatch tables and predefined modes are untouched.

Each check runs in a fresh process, so that the "before" really is before DL."""
import json
import os
import subprocess
import sys

import pytest

from DL.backend import BACKEND
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

pytestmark = pytest.mark.skipif(BACKEND != "pytensor",
                                reason="legacy Theano has no dispatch or linker that DL could touch")
slow = pytest.mark.slow  # left out of `make test-quick`: trains in fresh processes

# Pure PyTensor: tanh, sigmoid, a transpose, broadcast adds, a product, exp; float32
# and float64; each compiled in a mode DL supports.  Their results are digested.
PROGRAM = r"""
import hashlib, json, sys
import numpy
import pytensor, pytensor.tensor as pt
from pytensor.compile.mode import get_mode, predefined_modes
from pytensor.link.numba.linker import NumbaLinker
from pytensor.link.jax.linker import JAXLinker

MODES = %(modes)r
DL_MODES = %(dl_modes)r

def digests():
    out = {}
    for dtype in ("float32", "float64"):
        x = pt.vector("x", dtype=dtype)
        m = pt.matrix("m", dtype=dtype)
        b = pt.vector("b", dtype=dtype)
        graphs = {
            "tanh": pt.tanh(x) + pt.tanh(0.5 * x),
            "sigmoid": pt.sigmoid(x) * pt.exp(-0.01 * x * x),
            "transpose_dot": pt.dot(m.T, m) + b.dimshuffle("x", 0),
            "broadcast": pt.tanh(m + b) * m.T.sum(axis=1).dimshuffle(0, "x"),
            "scan": pytensor.scan(lambda h, W: pt.tanh(pt.dot(h, W.T)), outputs_info=[0.1 * b],
                                  non_sequences=[m], n_steps=5, return_updates=False),
        }
        rng = numpy.random.default_rng(0)
        xv = numpy.linspace(-10, 10, 200001).astype(dtype)
        mv = rng.normal(0, 2, (57, 57)).astype(dtype)
        bv = rng.normal(0, 1, 57).astype(dtype)
        for mode in MODES:
            for name, graph in graphs.items():
                inputs = [v for v in (x, m, b) if v in pytensor.graph.traversal.graph_inputs([graph])]
                f = pytensor.function(inputs, graph, mode=mode)
                values = {x: xv, m: mv, b: bv}
                result = numpy.asarray(f(*[values[v] for v in inputs]))
                out["%%s/%%s/%%s" %% (mode, dtype, name)] = hashlib.sha256(result.tobytes()).hexdigest()
    return out


def engine_state():
    from pytensor.link.numba.dispatch import basic as numba_basic
    import pytensor.link.numba.dispatch  # noqa: F401
    from pytensor.scalar.basic import Tanh
    from pytensor.tensor.elemwise import DimShuffle, Elemwise
    from pytensor.link.jax.dispatch import jax_funcify
    return {
        "fgraph_convert": repr(NumbaLinker.fgraph_convert),
        "jax_fgraph_convert": repr(JAXLinker.fgraph_convert),
        "numba_dispatch": [repr(dispatcher.dispatch(op_class))
                           for dispatcher in (numba_basic.numba_funcify_and_cache_key,
                                              numba_basic.numba_funcify_default_op_cache_key,
                                              numba_basic.numba_funcify)
                           for op_class in (Tanh, DimShuffle, Elemwise)],
        "jax_dispatch": [repr(jax_funcify.dispatch(op_class)) for op_class in (Tanh, DimShuffle, Elemwise)],
        "numba_registry": len(numba_basic.numba_funcify_and_cache_key.registry),
        "modes": sorted((k, id(v), str(v.provided_linker), str(v.provided_optimizer))
                        for k, v in predefined_modes.items()),
        "optdb": sorted(pytensor.compile.mode.optdb.__position__.items()),
        "floatX": pytensor.config.floatX,
        # (DL compiles its own Numba code without fast-math, inside change_flags)
        "numba__fastmath": pytensor.config.numba__fastmath,
        # (DL's functions in the C mode link SciPy's OpenBLAS inside change_flags: DL.engine.c_blas)
        "blas__ldflags": pytensor.config.blas__ldflags,
        # (DL's JAX functions choose their 64-bit setting in a context of their own; the
        # persistent compilation cache folder DL sets is documented in DL.engine.jax_linker)
        "jax_enable_x64": bool(__import__("jax").config.jax_enable_x64),
    }


before = digests()
state_before = engine_state()
%(dl_work)s
after = digests()
state_after = engine_state()
print(json.dumps({"before": before, "after": after,
                  "state_before": state_before, "state_after": state_after}))
"""

# DL compiles and trains an MLP and an LSTM classifier in each mode, and predicts.
DL_WORK = r"""
import DL
from DL.backend import T, function
from DL.models.MLP import MLP
from DL.models.LSTM import LSTM
from DL.models.RNN import RNN
from DL.optimizers import optimize
from DL.pooling import mean_pool
from DL.utils import flatten, load_data
from DL.engine.conv import conv2d, pool_2d
rng = numpy.random.RandomState(0)
data = [[rng.rand(40, 6).astype("float32"), (rng.rand(40) > 0.5).astype("int32")] for _ in range(3)]
for mode in DL_MODES:
    x, t = T.matrix("x"), T.ivector("t")
    mlp = MLP(rng, x, 6, 7, 2, dropout_rate=0.2)
    optimize(dataset=load_data(data), inputs=[x, t], cost=mlp.loss(t), params=flatten(mlp.params),
             errors=mlp.errors(t), n_epochs=2, batch_size=10, optimizer="adam", mode=mode)
    function([x], mlp.pred, mode=mode)(data[0][0])
    s = T.TensorType("float32", shape=(3, 4, 6))("s")  # (fixed shapes: JAX traces with them)
    lstm = LSTM(rng, s, None, 6)
    function([s], T.grad(mean_pool(lstm.output, None).sum(), lstm.W), mode=mode)(
        rng.rand(3, 4, 6).astype("float32"))
    rnn = RNN(rng, s, 6, 5, 2)
    function([s], T.grad(rnn.output.sum(), rnn.hiddenLayer.W), mode=mode)(rng.rand(3, 4, 6).astype("float32"))
    images = T.TensorType("float32", shape=(2, 3, 9, 7))("images")
    filters = T.TensorType("float32", shape=(4, 3, 3, 3))("filters")
    feature_maps = pool_2d(conv2d(images, filters, border_mode="half", filter_flip=False), (2, 2))
    function([images, filters], T.grad(feature_maps.sum(), [images, filters]), mode=mode)(
        rng.rand(2, 3, 9, 7).astype("float32"), rng.rand(4, 3, 3, 3).astype("float32"))
"""

MODES = ["NUMBA", "CVM", "JAX"]  # the pure-PyTensor graphs run in each
DL_MODES = ["NUMBA", "CVM", "JAX"]  # DL trains in these first (every model on JAX: tests/test_engines.py)


def run(modes, dl_modes, dl_work):
    code = PROGRAM % {"modes": modes, "dl_modes": dl_modes, "dl_work": dl_work}
    # floatX fixed by the user's flags: DL's documented float32 default (set at import when
    # the user chose none) would otherwise change the constants of the pure graphs
    environment = dict(os.environ, PYTENSOR_FLAGS="floatX=float32", DL_MALLOC_TUNING="")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG,
                            env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def report():
    return run(MODES, DL_MODES, DL_WORK)


@slow
def test_pure_pytensor_graphs_give_the_same_bits_after_DL_trained(report):
    differ = [key for key in report["before"] if report["before"][key] != report["after"][key]]
    assert not differ, "changed by DL: %s" % differ
    assert len(report["before"]) == len(MODES) * 2 * 5


@slow
def test_pytensor_classes_dispatch_and_modes_are_untouched(report):
    before, after = report["state_before"], report["state_after"]
    for key in before:
        if key != "numba_registry":
            assert before[key] == after[key], key
    # DL registered Numba code for its own Op classes only (more entries, none replaced:
    # the dispatch of PyTensor's Tanh and DimShuffle is compared above)
    assert after["numba_registry"] >= before["numba_registry"]


def test_DL_does_use_its_own_ops_in_its_own_graphs():
    from DL.backend import T, function
    from DL.engine.numba_kernels import ContiguousDimShuffle, FastTanh
    x = T.matrix("x")
    b = T.vector("b")
    f = function([x, b], T.tanh(T.dot(x.T, x) + b.dimshuffle("x", 0)), mode="NUMBA")
    nodes = f.maker.fgraph.toposort()
    ops = [node.op for node in nodes]
    assert any(isinstance(op, ContiguousDimShuffle) for op in ops)
    scalar_names = " ".join(str(getattr(op, "scalar_op", "")) for op in ops)
    assert "fast_tanh" in scalar_names
    assert not any(type(getattr(op, "scalar_op", None)) is FastTanh.__base__ for op in ops)


def test_loop_bodies_of_DLs_graphs_get_DLs_ops_and_the_users_graph_keeps_its_own():
    import numpy
    import pytensor
    from DL.backend import T, function
    from DL.models.RNN import RNN
    x = T.tensor3("x")
    rnn = RNN(numpy.random.RandomState(0), x, 3, 5, 2)

    def loop_body_ops(f):
        scans = [node.op for node in f.maker.fgraph.toposort() if type(node.op).__name__ == "Scan"]
        assert scans
        return " ".join(str(getattr(n.op, "scalar_op", n.op)) for op in scans for n in op.fgraph.toposort())

    assert "fast_tanh" in loop_body_ops(function([x], rnn.output, mode="NUMBA"))
    assert "fast_tanh" not in loop_body_ops(pytensor.function([x], rnn.output, mode="NUMBA"))


def test_other_modes_compile_dls_graphs_with_pytensors_own_ops():
    from DL.backend import T, function
    from DL.engine.numba_kernels import ContiguousDimShuffle
    x = T.matrix("x")
    f = function([x], T.tanh(x.T), mode="CVM")
    assert not any(isinstance(node.op, ContiguousDimShuffle) for node in f.maker.fgraph.toposort())
    assert "fast_tanh" not in str(f.maker.fgraph.outputs[0].owner.op)


def test_dls_jax_graphs_draw_bernoulli_by_uniform_and_the_users_keep_pytensors_binomial():
    pytest.importorskip("jax")
    import pytensor
    from pytensor.tensor.random.basic import BinomialRV, UniformRV
    from DL.backend import RandomStreams, T, function
    x = T.TensorType("float32", shape=(4, 3))("x")
    mask = RandomStreams(1).binomial(size=x.shape, p=0.5, dtype="float32")
    dl_ops = [type(node.op) for node in function([x], x * mask, mode="JAX").maker.fgraph.toposort()]
    assert UniformRV in dl_ops and BinomialRV not in dl_ops
    users_graph = pytensor.function([x], x * mask, mode="JAX")  # PyTensor's JAX mode, as it is
    assert BinomialRV in [type(node.op) for node in users_graph.maker.fgraph.toposort()]


def test_importing_DL_changes_no_malloc_setting_and_no_engine_flag():
    code = ("import pytensor, json; flags = {k: str(getattr(pytensor.config, k)) for k in "
            "('mode', 'linker', 'optimizer', 'compiledir')}\n"
            "import DL, DL.models, DL.optimizers\n"
            "from DL.engine import allocator\n"
            "after = {k: str(getattr(pytensor.config, k)) for k in flags}\n"
            "print(json.dumps([allocator.kept(), flags == after]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG,
                            env=dict(os.environ, DL_MALLOC_TUNING=""))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [False, True]


# The engine view (DL.engine.theano_view): Theano's module tree and truthy variables,
# built beside PyTensor's modules and classes, none of which it changes.
VIEW_WORK = r"""
import json
import numpy
import pytensor, pytensor.tensor as pt
from pytensor.tensor.type import TensorType
from pytensor.tensor.variable import TensorVariable

def refuses_bool(variable):
    try:
        bool(variable)
    except TypeError:
        return True
    return False

def state():
    return {"bool": repr(TensorVariable.__bool__), "eq": repr(TensorType.__eq__),
            "hash": repr(TensorType.__hash__), "variable_type": repr(TensorType.variable_type),
            "tensor_names": sorted(vars(pt)), "config_device": hasattr(pytensor.config, "device"),
            "variable_class": type(pt.matrix()).__name__, "refuses": [refuses_bool(pt.matrix()),
            refuses_bool(pytensor.shared(numpy.ones(2))), refuses_bool(pt.TensorType("float32", (None,))())]}

before = state()
from DL.backend import theano, T
x, s = T.matrix("x"), theano.shared(numpy.ones((2, 2), dtype="float32"))
typed = T.TensorType("float32", (False, False))("typed")
srng = theano.sandbox.rng_mrg.MRG_RandomStreams(1)
y = theano.tensor.nnet.relu(x + s + typed) * srng.uniform(x.shape)
theano.function([x, typed], y)(numpy.ones((2, 2), "float32"), numpy.ones((2, 2), "float32"))
assert bool(x) and bool(s) and bool(typed) and theano.config.device == "cpu"
print(json.dumps({"before": before, "after": state()}))
"""


def test_the_engine_view_changes_no_pytensor_module_or_class():
    result = subprocess.run([sys.executable, "-c", VIEW_WORK], capture_output=True, text=True, timeout=HANG,
                            env=dict(os.environ, DL_MALLOC_TUNING=""))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["before"] == report["after"]
    assert report["after"]["refuses"] == [True, True, True]  # PyTensor's own variables refuse bool
    assert report["after"]["variable_class"] == "TensorVariable" and not report["after"]["config_device"]


# DL's convolution and pooling compiled on Numba and JAX: which dispatch entries appear.
CONV_WORK = r"""
import json, numpy
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.jax.dispatch import jax_funcify
registries = (numba_basic.numba_funcify_and_cache_key.registry, numba_basic.numba_funcify.registry,
              jax_funcify.registry)
before = [dict(registry) for registry in registries]
from DL.backend import T, function
from DL.engine.conv import conv2d, pool_2d
x, W = T.tensor4("x"), T.tensor4("W")
out = pool_2d(conv2d(x, W, subsample=(2, 1)), (2, 2), mode="average_exc_pad")
for mode in ("NUMBA", "JAX"):
    function([x, W], T.grad(out.sum(), [x, W]), mode=mode)(numpy.ones((2, 3, 9, 7), "float32"),
                                                           numpy.ones((4, 3, 3, 2), "float32"))
added = [sorted(c.__module__ + "." + c.__name__ for c in r if c not in b) for r, b in zip(registries, before)]
replaced = [str(c) for r, b in zip(registries, before) for c in b if r[c] is not b[c]]
print(json.dumps([added, replaced]))
"""


def test_conv_and_pool_register_engine_code_for_DLs_own_op_classes_only():
    """Compiling DL's convolution and pooling on Numba and JAX adds dispatch entries for
    DL's Op classes (DL.engine.conv_op, DL.engine.pool_op) and replaces none."""
    finished = subprocess.run([sys.executable, "-c", CONV_WORK], capture_output=True, text=True, timeout=HANG,
                              env=dict(os.environ, DL_MALLOC_TUNING=""))
    assert finished.returncode == 0, finished.stderr[-3000:]
    added, replaced = json.loads(finished.stdout.strip().splitlines()[-1])
    own = {"DL.engine.conv_op.Conv2d", "DL.engine.conv_op.Conv2dGradFilters", "DL.engine.conv_op.Conv2dGradInput",
           "DL.engine.pool_op.Pool2d", "DL.engine.pool_op.Pool2dGrad"}
    for classes in added:  # (DL's function also brings its Ops for tanh and dimension shuffles)
        assert own <= set(classes) and all(name.startswith("DL.engine.") for name in classes), classes
    assert replaced == []


def test_dls_default_mode_does_not_warn_about_a_blas_it_does_not_use():
    # PyTensor warns that C code "will be severely degraded" without a BLAS to link; DL's
    # default mode (Numba) runs no such code, and used to read the BLAS flag only for its
    # graph cache's key.  The C engine, asked for, still finds out and warns as before.
    code = ("import warnings, numpy\n"
            "warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as seen:\n"
            "    from DL.backend import T, function\n"
            "    x = T.matrix('x')\n"
            "    function([x], T.tanh(T.dot(x, x)).sum())(numpy.ones((2, 2), 'float32'))\n"
            "print(sum('BLAS' in str(w.message) for w in seen))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTENSOR_FLAGS="", DL_MODE=""))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "0"
