"""optimize with batch normalization: the running statistics move at every training step,
and the best validation's copy puts them back with the parameters."""
import numpy
from numpy.testing import assert_array_equal

from DL.backend import T
from DL.models import BatchNorm, HiddenLayer
from DL.models.base import Model
from DL.optimizers import optimize
from DL.utils import flatten, load_data


class NormalizedClassifier(Model):
    """x -> BatchNorm -> softmax layer."""

    def __init__(self, rng, input):
        self.name = "NormalizedClassifier"
        self.norm = BatchNorm(None, 4, momentum=1e-4)  # the running statistics stay near (0, 1)
        W = numpy.zeros((4, 2), dtype="float32")
        W[0] = [-5, 5]  # class 1 where the first feature is positive: right from the start
        self.outputLayer = HiddenLayer(rng, None, 4, 2, activation="softmax", params=[W, numpy.zeros(2)],
                                       name="out")
        self.layers = [self.norm, self.outputLayer]
        self.connect(input)


def data(seed, n):
    rng = numpy.random.RandomState(seed)
    x = rng.randn(n, 4).astype("float32")
    return [x, (x[:, 0] > 0).astype("int32")]


def train(n_epochs):
    """The running statistics after optimize: the first validation makes no error, so it
    stays the best (nothing beats it), while every step moves the statistics a little."""
    x, t = T.matrix("x"), T.ivector("t")
    model = NormalizedClassifier(numpy.random.RandomState(0), x)
    result = optimize(dataset=load_data([data(1, 40), data(2, 20), data(3, 20)]), inputs=[x, t], cost=model.loss(t),
                      params=flatten(model.params), errors=model.errors(t), updates=model.updates,
                      optimizer="sgd", learning_rate=1e-3, n_epochs=n_epochs, batch_size=10,
                      validation_frequency=4, progress=False, verbose=False)
    return result, [v.get_value() for v in model.norm.state]


def test_the_best_validation_puts_back_the_running_statistics():
    first, at_the_best = train(1)   # the first validation: no error, the best
    later, kept = train(3)          # two more epochs moved the statistics; the best is still the first
    assert first.best_valid_error == later.best_valid_error == 0 and later.best_iteration == 4
    assert not numpy.array_equal(at_the_best[0], numpy.zeros(4))  # they did move
    for kept_value, best_value in zip(kept, at_the_best):
        assert_array_equal(kept_value, best_value)
