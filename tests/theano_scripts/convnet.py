"""A convolutional net on MNIST digits: two convolution + max-pooling stages, a
tanh layer and logistic regression, trained by SGD (Theano 1.0 style).

    h1 = tanh(pool(conv(x, W1)) + b1)     x (batch, 1, 28, 28) -> (batch, 8, 12, 12)
    h2 = tanh(pool(conv(h1, W2)) + b2)    -> (batch, 16, 4, 4)
    h3 = tanh(flatten(h2) W3 + b3)        -> (batch, 64)
    p(y | x) = softmax(h3 W4 + b4)

`conv2d` and `pool_2d` are Theano 1.0's (theano.tensor.nnet.conv2d, its default
filter_flip=True: true convolution; theano.tensor.signal.pool.pool_2d).
Written for Theano 1.0; only the engine import differs.  Prints one result line.
"""
from __future__ import print_function

import numpy

from DL.backend import theano, T
from logistic_sgd import LogisticRegression, load_data
from mlp import HiddenLayer

conv2d = theano.tensor.nnet.conv2d                 # from theano.tensor.nnet import conv2d
pool_2d = theano.tensor.signal.pool.pool_2d        # from theano.tensor.signal.pool import pool_2d


class ConvPoolLayer(object):
    """Convolution, max pooling, then a bias per filter and tanh."""

    def __init__(self, rng, input, filter_shape, image_shape, poolsize=(2, 2)):
        assert image_shape[1] == filter_shape[1]
        fan_in = numpy.prod(filter_shape[1:])
        fan_out = filter_shape[0] * numpy.prod(filter_shape[2:]) // numpy.prod(poolsize)
        bound = numpy.sqrt(6. / (fan_in + fan_out))
        self.W = theano.shared(numpy.asarray(rng.uniform(low=-bound, high=bound, size=filter_shape),
                                             dtype=theano.config.floatX), borrow=True)
        self.b = theano.shared(numpy.zeros((filter_shape[0],), dtype=theano.config.floatX), borrow=True)
        conv_out = conv2d(input=input, filters=self.W, filter_shape=filter_shape, input_shape=image_shape)
        pooled_out = pool_2d(input=conv_out, ws=poolsize, ignore_border=True)
        self.output = T.tanh(pooled_out + self.b.dimshuffle('x', 0, 'x', 'x'))
        self.params = [self.W, self.b]


def evaluate_convnet(learning_rate=0.1, n_epochs=4, batch_size=50, nkerns=(8, 16), n_hidden=64):
    (train_x, train_y), (test_x, test_y) = load_data()
    n_train_batches = train_x.get_value(borrow=True).shape[0] // batch_size
    n_test = test_x.get_value(borrow=True).shape[0]
    rng = numpy.random.RandomState(23455)

    index = T.lscalar()
    x = T.matrix('x')
    y = T.ivector('y')
    layer0_input = x.reshape((x.shape[0], 1, 28, 28))
    layer0 = ConvPoolLayer(rng, layer0_input, image_shape=(None, 1, 28, 28), filter_shape=(nkerns[0], 1, 5, 5))
    layer1 = ConvPoolLayer(rng, layer0.output, image_shape=(None, nkerns[0], 12, 12),
                           filter_shape=(nkerns[1], nkerns[0], 5, 5))
    layer2 = HiddenLayer(rng, layer1.output.flatten(2), n_in=nkerns[1] * 4 * 4, n_out=n_hidden, activation=T.tanh)
    layer3 = LogisticRegression(input=layer2.output, n_in=n_hidden, n_out=10)
    cost = layer3.negative_log_likelihood(y)

    test_model = theano.function([index], layer3.errors(y),
                                 givens={x: test_x[index * batch_size: (index + 1) * batch_size],
                                         y: test_y[index * batch_size: (index + 1) * batch_size]})
    params = layer3.params + layer2.params + layer1.params + layer0.params
    grads = T.grad(cost, params)
    updates = [(param, param - learning_rate * grad) for param, grad in zip(params, grads)]
    train_model = theano.function([index], cost, updates=updates,
                                  givens={x: train_x[index * batch_size: (index + 1) * batch_size],
                                          y: train_y[index * batch_size: (index + 1) * batch_size]})

    epoch_costs = [numpy.mean([train_model(i) for i in range(n_train_batches)]) for epoch in range(n_epochs)]
    test_error = numpy.mean([test_model(i) for i in range(n_test // batch_size)])
    return float(test_error), epoch_costs


if __name__ == '__main__':
    test_error, costs = evaluate_convnet()
    print("result: test_error=%.6f first_epoch_cost=%.7f last_epoch_cost=%.7f" % (test_error, costs[0], costs[-1]))
