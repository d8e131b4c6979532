"""DL.engine.denormals: within `flush_denormals()` the CPU treats denormal floats
as zero (a float32 below 1.2e-38 reads and writes as 0), outside it nothing
changes, and optimize / train_loop run the training step inside it unless
told otherwise.  The speed it buys is measured by benchmarks/denormals.py."""
import numpy
import pytest

from DL.backend import T, floatX, flush_denormals, function, shared
from DL.engine import denormals
from DL.models.LogisticRegression import LogisticRegression
from DL.optimizers import Callback, EarlyStopping, compile_functions, optimize, train_loop
from DL.utils import load_data

TINY = numpy.float32(1e-38)  # below float32's smallest normal number, 1.1755e-38: denormal
HALF = numpy.float32(0.5)

pytestmark = pytest.mark.skipif(not denormals.available(), reason="flushing needs x86-64 and llvmlite")


def half_of_tiny():
    return float(numpy.multiply(TINY, HALF))


def test_inside_the_block_denormals_are_zero_and_outside_they_are_kept():
    before = denormals.mxcsr()
    assert half_of_tiny() == pytest.approx(5e-39, rel=1e-5)
    with flush_denormals():
        assert half_of_tiny() == 0.0
        assert denormals.mxcsr() & (denormals.FTZ | denormals.DAZ) == denormals.FTZ | denormals.DAZ
    assert denormals.mxcsr() == before
    assert half_of_tiny() == pytest.approx(5e-39, rel=1e-5)


def test_smallest_normal_numbers_are_untouched():
    smallest = numpy.finfo(numpy.float32).tiny  # 1.1755e-38, the smallest normal float32
    with flush_denormals():
        assert float(numpy.float32(smallest) * numpy.float32(1.0)) == float(smallest)
        assert float(numpy.float32(smallest) * numpy.float32(2.0)) == float(2 * smallest)
        assert float(numpy.float32(smallest) * HALF) == 0.0  # its half is denormal: flushed


def test_the_register_is_restored_after_an_exception_and_when_nested():
    before = denormals.mxcsr()
    with pytest.raises(KeyError):
        with flush_denormals():
            raise KeyError("inside")
    assert denormals.mxcsr() == before
    with flush_denormals():
        with flush_denormals():
            assert half_of_tiny() == 0.0
        assert half_of_tiny() == 0.0  # the outer block still flushes
    assert denormals.mxcsr() == before


def test_enabled_false_changes_nothing():
    before = denormals.mxcsr()
    with flush_denormals(False):
        assert denormals.mxcsr() == before
        assert half_of_tiny() == pytest.approx(5e-39, rel=1e-5)


def test_a_compiled_function_flushes_inside_the_block_only():
    x = T.vector("x", dtype="float32")
    halve = function([x], x * HALF)
    tiny = numpy.full(4, TINY, dtype="float32")
    assert numpy.all(halve(tiny) > 0)
    with flush_denormals():
        assert numpy.all(halve(tiny) == 0)
    assert numpy.all(halve(tiny) > 0)


class SeesFlushing(Callback):
    """Notes, at each step, whether a denormal product is flushed inside the loop."""

    def __init__(self):
        self.flushed = []

    def on_step(self, state, cost):
        self.flushed.append(half_of_tiny() == 0.0)


def problem():
    """A logistic regression on 40/20/20 random points, and an extra update that writes
    half of a denormal into `probe` inside the compiled training step."""
    rng = numpy.random.RandomState(0)
    data = load_data([(rng.randn(n, 3).astype(floatX), rng.randint(0, 2, n).astype("int32")) for n in (40, 20, 20)])
    x, t = T.matrix("x"), T.ivector("t")
    model = LogisticRegression(None, x, 3, 2)
    tiny = shared(numpy.float32(TINY), name="tiny")
    probe = shared(numpy.float32(1.0), name="probe")
    return data, x, t, model, probe, [(probe, tiny * HALF)]


@pytest.mark.parametrize("flush", [True, False])
def test_optimize_runs_the_training_step_flushed_unless_told_not_to(flush):
    data, x, t, model, probe, probe_update = problem()
    before = denormals.mxcsr()
    optimize(dataset=data, inputs=[x, t], cost=model.loss(t), params=model.params, errors=model.errors(t),
             updates=probe_update, n_epochs=2, batch_size=10, optimizer="sgd", learning_rate=0.1,
             progress=False, verbose=False, flush_denormals=flush)
    assert float(probe.get_value()) == (0.0 if flush else pytest.approx(5e-39, rel=1e-5))
    assert denormals.mxcsr() == before


@pytest.mark.parametrize("flush", [True, False])
def test_train_loop_and_its_callbacks_run_flushed_unless_told_not_to(flush):
    data, x, t, model, probe, probe_update = problem()
    functions = compile_functions(data, [x, t], model.loss(t), model.params, model.errors(t), batch_size=10,
                                  rule="sgd", rule_options=dict(learning_rate=0.1), extra_updates=probe_update)
    seen = SeesFlushing()
    state = train_loop(functions, EarlyStopping(validation_frequency=4), n_epochs=2, callbacks=[seen],
                       flush_denormals=flush)
    assert state.iteration == 8 and seen.flushed == [flush] * 8
    assert float(probe.get_value()) == (0.0 if flush else pytest.approx(5e-39, rel=1e-5))
    assert half_of_tiny() > 0  # after the loop, as before it
