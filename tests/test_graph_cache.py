"""DL.engine.graph_cache: a graph compiled before is taken from disk instead of rewritten,
and computes the very same bits; any difference PyTensor would see is a different key.

Each test points DL_GRAPH_CACHE_DIR at a folder of its own.
"""
import hashlib
import os
import subprocess
import sys
import textwrap

import numpy
import pytest

from DL.backend import BACKEND, T, function, grad, shared
from DL.updates import adam
from DL.utils import flatten
from conftest import HANG  # a subprocess's bound on a hang (cold compiles take minutes)

pytestmark = pytest.mark.skipif(BACKEND != "pytensor", reason="the cache holds PyTensor graphs")

if BACKEND == "pytensor":
    from DL.engine import graph_cache
    from DL.models.RNN import RNN
    from DL.models.MLP import MLP
    from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_GRAPH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("DL_GRAPH_CACHE", raising=False)
    return tmp_path


def rnn_step(seed, dropout_rate=0.5, mode=None):
    """An RNN with dropout (random streams in the loop) and its adam step, on fresh variables."""
    rng = numpy.random.RandomState(seed)
    x, t = T.tensor3("x"), T.lmatrix("t")
    rnn = RNN(rng, x, 3, 4, 3, dropout_rate=dropout_rate)
    cost = rnn.loss(t)
    params = flatten(rnn.params)
    step = function([x, t], cost, updates=adam(params, grad(cost, params)) + rnn.updates, mode=mode)
    return step, params


def walk(seed=0):
    rng = numpy.random.RandomState(seed)
    return rng.rand(2, 5, 3), rng.randint(3, size=(2, 5))


def train(step, params, n=4):
    """The costs of n steps and a digest of the parameters after them."""
    x, t = walk()
    costs = [float(step(x, t)) for _ in range(n)]
    digest = hashlib.sha256(b"".join(numpy.asarray(p.get_value()).tobytes() for p in params)).hexdigest()
    return costs, digest


def outcome(compiled):
    return compiled.maker.dl_graph_cache


def test_the_same_graph_built_again_is_a_hit_and_trains_to_the_same_bits(cache, monkeypatch):
    first, first_params = rnn_step(seed=1)
    second, second_params = rnn_step(seed=1)
    assert (outcome(first), outcome(second)) == ("miss", "hit")
    monkeypatch.setenv("DL_GRAPH_CACHE", "0")
    uncached, uncached_params = rnn_step(seed=1)
    assert outcome(uncached) == "off"
    # the very same graph: one Numba cache key, so a hit compiles no machine code again
    keys = {numba_funcify_and_cache_key(f.maker.fgraph)[1] for f in (first, second, uncached)}
    assert len(keys) == 1 and None not in keys
    reference = train(uncached, uncached_params)
    assert train(first, first_params) == reference
    assert train(second, second_params) == reference


def test_jax_mode_graphs_are_kept_too_and_train_to_the_same_bits(cache, monkeypatch):
    # JAX's warm start: PyTensor's rewrites of a JAX graph were about a second of an LSTM's.
    # (A JAX function compiles one program per input shape, at its first call with it.)
    def trained_and_outcome(step, params):
        trained = train(step, params)
        return trained, [outcome(compiled) for compiled in step.functions.values()]

    first, first_outcome = trained_and_outcome(*rnn_step(seed=1, mode="JAX"))
    second, second_outcome = trained_and_outcome(*rnn_step(seed=1, mode="JAX"))
    assert (first_outcome, second_outcome) == (["miss"], ["hit"])
    monkeypatch.setenv("DL_GRAPH_CACHE", "0")
    reference, off = trained_and_outcome(*rnn_step(seed=1, mode="JAX"))
    assert off == ["off"] and numpy.isfinite(reference[0]).all()
    assert first == second == reference


def test_a_hit_trains_its_own_parameters_not_the_stored_graphs(cache):
    first, first_params = rnn_step(seed=1)
    second, second_params = rnn_step(seed=2)  # the same graph, other weights
    assert outcome(second) == "hit"
    before = [p.get_value().copy() for p in first_params]
    second_before = [p.get_value().copy() for p in second_params]
    train(second, second_params)
    assert all(numpy.array_equal(b, p.get_value()) for b, p in zip(before, first_params))
    assert not any(numpy.array_equal(b, p.get_value()) for b, p in zip(second_before, second_params))


def test_the_stored_graph_holds_no_parameter_values(cache):
    rng = numpy.random.RandomState(0)
    x = T.matrix("x")
    mlp = MLP(rng=rng, input=x, n_in=500, n_hidden=100, n_out=3)
    function([x], mlp.output)
    entries = list(cache.glob("*.pkl"))
    assert len(entries) == 1
    stored = entries[0].read_bytes()
    weights = mlp.hiddenLayer.W.get_value()
    assert weights.tobytes()[:64] not in stored and len(stored) < weights.nbytes


def key(inputs, outputs, mode=None, updates=None):
    """The cache key of this function's graph, as the cache computes it (nothing compiled)."""
    from pytensor.compile.maker import FunctionMaker
    from pytensor.compile.rebuild import construct_function_ins_and_outs
    from DL.engine.mode import dl_mode
    ins, outs = construct_function_ins_and_outs(inputs, outputs, updates=updates)
    specs_in = [FunctionMaker.wrap_in(i) for i in ins]
    specs_out = [FunctionMaker.wrap_out(o) for o in outs]
    fgraph, found = FunctionMaker.create_fgraph(specs_in, specs_out)
    return graph_cache.key_of(fgraph, specs_in, specs_out + found, dl_mode(mode))


def test_keys_tell_apart_what_pytensor_tells_apart():
    x, y = T.matrix("x"), T.matrix("y")
    row, x64 = T.row("row"), T.matrix("x64", dtype="float64")  # (floatX is float32)
    w = shared(numpy.ones((2, 2)))
    same = key([x], [x.sum(axis=0)])
    assert key([y], [y.sum(axis=0)]) == same  # names and objects do not matter
    different = [key([x], [x.sum(axis=1)]),             # an Op's property
                 key([x], [x.max(axis=0)]),             # another Op
                 key([x64], [x64.sum(axis=0)]),         # a dtype
                 key([row], [row.sum(axis=0)]),         # a static shape
                 key([x], [(x + 2.0).sum(axis=0)]),     # a constant
                 key([x], [(x + 3.0).sum(axis=0)]),     # its value
                 key([x], [x.sum(axis=0)], mode="FAST_RUN"),  # the mode
                 key([x], [x.sum(axis=0) + w.sum()]),   # a shared input
                 key([x], [x.sum(axis=0) + w.sum()], updates=[(w, w * 2)])]  # an update
    assert len(set(different + [same])) == len(different) + 1


def test_fast_tanh_off_is_another_key(monkeypatch):
    x = T.matrix("x")
    on = key([x], [T.tanh(x)])
    monkeypatch.setenv("DL_FAST_TANH", "0")
    assert key([x], [T.tanh(x)]) != on


def test_a_damaged_entry_is_rewritten_and_replaced(cache):
    first, params = rnn_step(seed=1)
    reference = train(first, params)
    for entry in cache.glob("*.pkl"):
        entry.write_bytes(b"not a graph")
    again, again_params = rnn_step(seed=1)
    assert outcome(again) == "miss"
    assert train(again, again_params) == reference
    third, _ = rnn_step(seed=1)
    assert outcome(third) == "hit"


def test_an_op_without_properties_is_compiled_as_before(cache):
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op

    class Double(Op):  # no __props__: nothing to tell two of them apart by
        def make_node(self, x):
            return Apply(self, [x], [x.type()])

        def perform(self, node, inputs, outputs):
            outputs[0][0] = inputs[0] * 2

    x = T.vector("x")
    compiled = function([x], Double()(x), mode="FAST_RUN")
    assert outcome(compiled).startswith("uncacheable")
    assert list(compiled([1.0, 2.0])) == [2.0, 4.0]
    assert not list(cache.glob("*.pkl"))


FRESH_PROCESS = textwrap.dedent("""
    import sys
    sys.path.insert(0, %r)
    import test_graph_cache as here
    step, params = here.rnn_step(seed=1)
    print(here.outcome(step), here.train(step, params)[1])
""") % os.path.dirname(os.path.abspath(__file__))


@pytest.mark.slow  # fresh processes
def test_a_new_process_hits_and_computes_the_same_bits(tmp_path):
    def run(**env):
        completed = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True,
                                   env=dict(os.environ, DL_GRAPH_CACHE_DIR=str(tmp_path), **env), timeout=HANG)
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout.split()[-2:]

    first, second, off = run(), run(), run(DL_GRAPH_CACHE="0")
    assert (first[0], second[0], off[0]) == ("miss", "hit", "off")
    assert first[1] == second[1] == off[1]
