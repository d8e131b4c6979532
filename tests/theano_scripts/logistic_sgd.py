"""Logistic regression on MNIST digits, trained by minibatch SGD (Theano 1.0 style).

    p(y = i | x) = softmax(x W + b)_i,   cost = -mean log p(y | x)

Written for Theano 1.0; only the engine import differs (`import theano` and
`import theano.tensor as T` became the line below).  Prints one result line.
"""
from __future__ import print_function

import numpy

from DL.backend import theano, T
import DL.datasets

N_TRAIN, N_TEST = 3000, 1000


class LogisticRegression(object):
    """Multi-class logistic regression: input (n_examples, n_in) -> p_y_given_x (n_examples, n_out)."""

    def __init__(self, input, n_in, n_out):
        self.W = theano.shared(numpy.zeros((n_in, n_out), dtype=theano.config.floatX), name='W', borrow=True)
        self.b = theano.shared(numpy.zeros((n_out,), dtype=theano.config.floatX), name='b', borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.ndim != self.y_pred.ndim:
            raise TypeError('y should have the same shape as self.y_pred', ('y', y.type, 'y_pred', self.y_pred.type))
        return T.mean(T.neq(self.y_pred, y))


def shared_dataset(data_x, data_y, borrow=True):
    """The set in shared variables, so that minibatches are sliced on the engine's side."""
    shared_x = theano.shared(numpy.asarray(data_x, dtype=theano.config.floatX), borrow=borrow)
    shared_y = theano.shared(numpy.asarray(data_y, dtype=theano.config.floatX), borrow=borrow)
    return shared_x, T.cast(shared_y, 'int32')


def load_data(n_train=N_TRAIN, n_test=N_TEST):
    """The first n_train training and n_test test digits: [(train_x, train_y), (test_x, test_y)]."""
    (train_x, train_y), _, (test_x, test_y) = DL.datasets.mnist()
    return [shared_dataset(train_x[:n_train], train_y[:n_train]), shared_dataset(test_x[:n_test], test_y[:n_test])]


def sgd_optimization_mnist(learning_rate=0.13, n_epochs=5, batch_size=20):
    (train_x, train_y), (test_x, test_y) = load_data()
    n_train_batches = train_x.get_value(borrow=True).shape[0] // batch_size

    index = T.lscalar()
    x = T.matrix('x')
    y = T.ivector('y')
    classifier = LogisticRegression(input=x, n_in=28 * 28, n_out=10)
    cost = classifier.negative_log_likelihood(y)

    test_model = theano.function([], classifier.errors(y), givens={x: test_x, y: test_y})
    g_W = T.grad(cost=cost, wrt=classifier.W)
    g_b = T.grad(cost=cost, wrt=classifier.b)
    updates = [(classifier.W, classifier.W - learning_rate * g_W),
               (classifier.b, classifier.b - learning_rate * g_b)]
    train_model = theano.function(
        inputs=[index], outputs=cost, updates=updates,
        givens={x: train_x[index * batch_size: (index + 1) * batch_size],
                y: train_y[index * batch_size: (index + 1) * batch_size]})

    epoch_costs = []
    for epoch in range(n_epochs):
        epoch_costs.append(numpy.mean([train_model(i) for i in range(n_train_batches)]))
    return float(test_model()), epoch_costs


if __name__ == '__main__':
    test_error, costs = sgd_optimization_mnist()
    print("result: test_error=%.6f first_epoch_cost=%.7f last_epoch_cost=%.7f" % (test_error, costs[0], costs[-1]))
