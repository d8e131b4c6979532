"""A multilayer perceptron on MNIST digits: a sigmoid layer, a tanh layer and
logistic regression on top, trained by SGD with an L2 penalty (Theano 1.0 style).

    h1 = sigmoid(x W1 + b1),  h2 = tanh(h1 W2 + b2),  p(y | x) = softmax(h2 W3 + b3)

Written for Theano 1.0; only the engine import differs.  Prints one result line.
"""
from __future__ import print_function

import numpy

from DL.backend import theano, T
from logistic_sgd import LogisticRegression, load_data


class HiddenLayer(object):
    """A fully connected layer: input (n_examples, n_in) -> output (n_examples, n_out)."""

    def __init__(self, rng, input, n_in, n_out, W=None, b=None, activation=T.tanh):
        self.input = input
        if W is None:
            # Glorot and Bengio (2010): uniform in +-sqrt(6 / (n_in + n_out)), 4x for sigmoid
            bound = numpy.sqrt(6. / (n_in + n_out))
            if activation == theano.tensor.nnet.sigmoid:
                bound *= 4
            W_values = numpy.asarray(rng.uniform(low=-bound, high=bound, size=(n_in, n_out)),
                                     dtype=theano.config.floatX)
            W = theano.shared(value=W_values, name='W', borrow=True)
        if b is None:
            b = theano.shared(value=numpy.zeros((n_out,), dtype=theano.config.floatX), name='b', borrow=True)
        self.W, self.b = W, b
        lin_output = T.dot(input, self.W) + self.b
        self.output = lin_output if activation is None else activation(lin_output)
        self.params = [self.W, self.b]


class MLP(object):
    def __init__(self, rng, input, n_in, n_hidden, n_out):
        self.sigmoidLayer = HiddenLayer(rng, input, n_in, n_hidden, activation=theano.tensor.nnet.sigmoid)
        self.tanhLayer = HiddenLayer(rng, self.sigmoidLayer.output, n_hidden, n_hidden, activation=T.tanh)
        self.logRegressionLayer = LogisticRegression(self.tanhLayer.output, n_hidden, n_out)
        self.L2_sqr = sum((layer.W ** 2).sum() for layer in (self.sigmoidLayer, self.tanhLayer,
                                                             self.logRegressionLayer))
        self.negative_log_likelihood = self.logRegressionLayer.negative_log_likelihood
        self.errors = self.logRegressionLayer.errors
        self.params = self.sigmoidLayer.params + self.tanhLayer.params + self.logRegressionLayer.params


def test_mlp(learning_rate=0.1, L2_reg=0.0001, n_epochs=8, batch_size=20, n_hidden=100):
    (train_x, train_y), (test_x, test_y) = load_data()
    n_train_batches = train_x.get_value(borrow=True).shape[0] // batch_size

    index = T.lscalar()
    x = T.matrix('x')
    y = T.ivector('y')
    classifier = MLP(rng=numpy.random.RandomState(1234), input=x, n_in=28 * 28, n_hidden=n_hidden, n_out=10)
    cost = classifier.negative_log_likelihood(y) + L2_reg * classifier.L2_sqr

    test_model = theano.function([], classifier.errors(y), givens={x: test_x, y: test_y})
    gparams = [T.grad(cost, param) for param in classifier.params]
    updates = [(param, param - learning_rate * gparam) for param, gparam in zip(classifier.params, gparams)]
    train_model = theano.function(
        inputs=[index], outputs=cost, updates=updates,
        givens={x: train_x[index * batch_size: (index + 1) * batch_size],
                y: train_y[index * batch_size: (index + 1) * batch_size]})

    epoch_costs = [numpy.mean([train_model(i) for i in range(n_train_batches)]) for epoch in range(n_epochs)]
    return float(test_model()), epoch_costs


if __name__ == '__main__':
    test_error, costs = test_mlp()
    print("result: test_error=%.6f first_epoch_cost=%.7f last_epoch_cost=%.7f" % (test_error, costs[0], costs[-1]))
