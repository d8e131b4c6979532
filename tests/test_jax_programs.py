"""DL.engine.jax_programs: a JAX function's program is exported on its first call and a later
function of the same graph loads it instead of tracing; both run the very same program.

Each test points DL_JAX_CACHE_DIR and DL_GRAPH_CACHE_DIR at folders of its own.
"""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy
import pytest

from DL.backend import BACKEND

pytestmark = [pytest.mark.skipif(BACKEND != "pytensor", reason="JAX is a linker of PyTensor"),
              pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                                 reason="JAX is an optional engine and jax is not installed"),
              pytest.mark.skipif(importlib.util.find_spec("flatbuffers") is None,
                                 reason="programs are serialized with flatbuffers (DL's jax extra)")]

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from conftest import HANG  # noqa: E402  (a subprocess's bound on a hang)
from test_graph_cache import rnn_step, train  # noqa: E402  (an RNN with dropout and its adam step)


@pytest.fixture
def caches(tmp_path, monkeypatch):
    monkeypatch.setenv("DL_JAX_CACHE_DIR", str(tmp_path / "jax"))
    monkeypatch.setenv("DL_GRAPH_CACHE_DIR", str(tmp_path / "graphs"))
    for name in ("DL_JAX_CACHE", "DL_GRAPH_CACHE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "jax" / "programs"


def jax_rnn(seed):
    """An RNN's adam step on JAX, trained 4 steps: (costs, digest of the parameters), and
    what the first call did with its program."""
    step, params = rnn_step(seed=seed, mode="JAX")
    trained = train(step, params)
    (compiled,) = step.functions.values()  # (one shape of arguments)
    return trained, compiled.vm.jit_fn.dl_jax_program


def test_the_second_function_of_a_graph_loads_the_program_and_trains_to_the_same_bits(caches, monkeypatch):
    first, first_outcome = jax_rnn(seed=1)
    second, second_outcome = jax_rnn(seed=1)
    assert (first_outcome, second_outcome) == ("exported", "loaded")
    assert len(list(caches.iterdir())) == 1
    assert second == first and numpy.isfinite(first[0]).all()
    # traced as before, without the stored programs: the same numbers
    monkeypatch.setenv("DL_JAX_CACHE", "0")
    traced, traced_outcome = jax_rnn(seed=1)
    assert traced_outcome == "traced"
    numpy.testing.assert_allclose(traced[0], first[0], rtol=1e-6)


def test_a_loaded_program_trains_its_own_parameters(caches):
    jax_rnn(seed=1)
    step, params = rnn_step(seed=2, mode="JAX")  # the same graph, other weights
    before = [numpy.array(p.get_value()) for p in params]
    train(step, params)
    (compiled,) = step.functions.values()
    assert compiled.vm.jit_fn.dl_jax_program == "loaded"
    assert not any(numpy.array_equal(b, numpy.asarray(p.get_value())) for b, p in zip(before, params))


def test_a_damaged_program_is_exported_again(caches):
    first, _ = jax_rnn(seed=1)
    (entry,) = caches.iterdir()
    entry.write_bytes(entry.read_bytes()[:100])
    again, outcome = jax_rnn(seed=1)
    assert outcome == "exported" and again == first
    assert jax_rnn(seed=1)[1] == "loaded"


def test_without_a_graph_key_the_function_is_traced(caches, monkeypatch):
    monkeypatch.setenv("DL_GRAPH_CACHE", "0")  # no key names the program
    assert jax_rnn(seed=1)[1] == "traced"
    assert not caches.exists() or not any(caches.iterdir())


FRESH_PROCESS = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, %r)
    import test_jax_programs as here
    (costs, digest), outcome = here.jax_rnn(seed=1)
    print(json.dumps([outcome, costs, digest]))
""") % HERE


@pytest.mark.slow  # fresh processes
def test_a_new_process_loads_the_program_and_computes_the_same_bits(tmp_path):
    def run():
        env = dict(os.environ, DL_JAX_CACHE_DIR=str(tmp_path / "jax"), DL_GRAPH_CACHE_DIR=str(tmp_path / "graphs"))
        done = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, env=env,
                              timeout=HANG)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first, second = run(), run()
    assert (first[0], second[0]) == ("exported", "loaded")
    assert first[1:] == second[1:]


class Halve(__import__("pytensor").graph.op.Op):
    """A user's Op with JAX code of its own: x / 2."""
    __props__ = ()

    def make_node(self, x):
        from pytensor.graph.basic import Apply
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs):
        outputs[0][0] = inputs[0] / 2


def test_a_graph_with_a_users_own_jax_code_is_traced_every_time(caches):
    from pytensor.link.jax.dispatch import jax_funcify
    from DL.backend import T, function
    jax_funcify.register(Halve)(lambda op, **kwargs: lambda x: x / 2)  # (a class of this test's own)
    x = T.TensorType("float32", shape=(3,))("x")
    halve = function([x], Halve()(x) + 1, mode="JAX")
    numpy.testing.assert_array_equal(halve(numpy.ones(3, "float32")), [1.5, 1.5, 1.5])
    # its code could change without changing the graph's key: no stored program
    assert halve.vm.jit_fn.dl_jax_program == "traced"
    plain = function([x], x / 2 + 1, mode="JAX")
    plain(numpy.ones(3, "float32"))
    assert plain.vm.jit_fn.dl_jax_program == "exported"
