"""The convolutional layers (ConvLayer, PoolLayer, BatchNorm) and LeNet, against NumPy.

The engine's convolution and pooling Ops are checked in tests/test_conv.py; here
the layers: what they compute from their parameters (padding, stride, bias,
activation, the pooling modes), batch normalization's training and prediction
paths and its running statistics over several steps (torch.nn.BatchNorm2d's
meaning), LeNet's shapes, saving and loading.  The bad input the layers refuse is
in tests/test_bad_input.py.
"""
import numpy
import pytest
from numpy.testing import assert_allclose

from DL import io
from DL.backend import T, function
from DL.models import BatchNorm, ConvLayer, LeNet, PoolLayer
from DL.utils import flatten


def correlate(x, W, b, stride=(1, 1), pad=(0, 0)):
    """A direct-loop cross-correlation: x (n, c, h, w), W (o, c, fh, fw) -> (n, o, oh, ow)."""
    x = numpy.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    n, _, h, w = x.shape
    o, _, fh, fw = W.shape
    oh, ow = (h - fh) // stride[0] + 1, (w - fw) // stride[1] + 1
    out = numpy.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride[0]:i * stride[0] + fh, j * stride[1]:j * stride[1] + fw]
            out[:, :, i, j] = numpy.einsum("nchw,ochw->no", window, W)
    return out + b[None, :, None, None]


@pytest.fixture(scope="module")
def images():
    return numpy.random.RandomState(0).randn(2, 3, 9, 7)


@pytest.mark.parametrize("padding, stride, pad", [("valid", (1, 1), (0, 0)), ("same", (1, 1), (1, 2)),
                                                  ((2, 1), (2, 3), (2, 1)), (1, 2, (1, 1))])
def test_conv_layer_computes_the_cross_correlation(images, padding, stride, pad):
    rng = numpy.random.RandomState(1)
    x = T.tensor4("x", dtype="float64")
    layer = ConvLayer(rng, x, 3, 4, filter_size=(3, 5), stride=stride, padding=padding, activation="tanh",
                      params=[rng.randn(4, 3, 3, 5), rng.randn(4)])
    got = function([x], layer.output)(images)
    W, b = layer.W.get_value(), layer.b.get_value()
    stride = (stride, stride) if isinstance(stride, int) else stride
    assert_allclose(got, numpy.tanh(correlate(images, W, b, stride, pad)), rtol=1e-5, atol=1e-5)


def test_conv_layer_dropout_drops_training_units_only(images):
    x = T.tensor4("x")
    layer = ConvLayer(numpy.random.RandomState(2), x, 3, 4, activation="tanh", dropout_rate=0.5)
    train, test = function([x], [layer.output, layer.output_deterministic])(images.astype("float32"))
    kept = train != 0
    assert 0.3 < kept.mean() < 0.7 and numpy.all(test != 0)
    assert_allclose(train[kept], 2 * test[kept], rtol=1e-5)  # inverted dropout
    assert layer.updates


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_layer_pools_windows(images, mode):
    x = T.tensor4("x", dtype="float64")
    got = function([x], PoolLayer(x, (2, 3), stride=(2, 2), mode=mode).output)(images)
    reduce = numpy.max if mode == "max" else numpy.mean
    expected = numpy.array([[[[reduce(images[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 3]) for j in range(3)]
                              for i in range(4)] for c in range(3)] for n in range(2)])
    assert_allclose(got, expected, rtol=1e-12)


def test_batch_norm_means_what_torch_means(images):
    """Three training steps then prediction: normalized by the batch's biased variance; the
    running mean and the running unbiased variance move by momentum."""
    x = T.tensor4("x", dtype="float64")
    bn = BatchNorm(x, 3, momentum=0.2, epsilon=1e-3)
    bn.gamma.set_value(numpy.array([1.0, 2.0, 0.5], dtype=bn.gamma.dtype))
    bn.beta.set_value(numpy.array([0.0, -1.0, 3.0], dtype=bn.beta.dtype))
    step = function([x], bn.output, updates=bn.updates)
    predict = function([x], bn.output_deterministic)
    gamma, beta = bn.gamma.get_value()[None, :, None, None], bn.beta.get_value()[None, :, None, None]
    running_mean, running_var = numpy.zeros(3), numpy.ones(3)
    for k in range(3):
        batch = images * (k + 1) + k
        mean, var = batch.mean(axis=(0, 2, 3)), batch.var(axis=(0, 2, 3))
        expected = gamma * (batch - mean[None, :, None, None]) / numpy.sqrt(var[None, :, None, None] + 1e-3) + beta
        assert_allclose(step(batch), expected, rtol=1e-5, atol=1e-5)
        m = batch.size // 3
        running_mean = 0.8 * running_mean + 0.2 * mean
        running_var = 0.8 * running_var + 0.2 * var * m / (m - 1)
        assert_allclose(bn.running_mean.get_value(), running_mean, rtol=1e-5)
        assert_allclose(bn.running_var.get_value(), running_var, rtol=1e-5)
    expected = gamma * (images - running_mean[None, :, None, None]) / numpy.sqrt(
        running_var[None, :, None, None] + 1e-3) + beta
    assert_allclose(predict(images), expected, rtol=1e-5, atol=1e-5)


def test_batch_norm_of_features_and_its_saved_state(tmp_path):
    x = T.matrix("x", dtype="float64")
    bn = BatchNorm(x, 4)
    data = numpy.random.RandomState(3).randn(6, 4) * 3 + 1
    function([x], bn.output, updates=bn.updates)(data)
    assert bn.params == [bn.gamma, bn.beta] and bn.variables == bn.params + [bn.running_mean, bn.running_var]
    io.save(tmp_path / "bn.npz", bn.variables)
    loaded, _ = io.load(tmp_path / "bn.npz")
    again = BatchNorm(x, 4, params=loaded)
    same = [function([x], model.output_deterministic)(data) for model in (bn, again)]
    assert_allclose(same[0], same[1], rtol=0, atol=0)


def test_lenet_shapes_and_a_saved_model_predicts_the_same(tmp_path):
    rng = numpy.random.RandomState(4)
    x = T.matrix("x")
    net = LeNet(rng, x, image_shape=(1, 14, 14), n_filters=(2, 3), filter_size=3, n_hidden=5, n_out=4)
    assert [W.get_value().shape for W in flatten(net.params)[::2]] == [(2, 1, 3, 3), (3, 2, 3, 3), (12, 5), (5, 4)]
    digits = rng.rand(5, 196).astype("float32")
    probabilities = function([x], net.output)(digits)
    assert probabilities.shape == (5, 4) and numpy.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    io.save(tmp_path / "lenet.npz", net.variables)
    params, _ = io.load(tmp_path / "lenet.npz")
    again = LeNet(rng, x, image_shape=(1, 14, 14), n_filters=(2, 3), filter_size=3, n_hidden=5, n_out=4,
                  params=params)
    assert numpy.array_equal(function([x], again.output)(digits), probabilities)
