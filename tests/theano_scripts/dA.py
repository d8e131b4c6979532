"""A denoising autoencoder on MNIST digits (Vincent et al. 2008), Theano 1.0 style.

    x~ = x * m,  m ~ Bernoulli(1 - corruption)      (MRG_RandomStreams)
    y = sigmoid(x~ W + b),  z = sigmoid(y W' + b')  (tied weights)
    L(x, z) = -sum_k [x_k log z_k + (1 - x_k) log(1 - z_k)]

Written for Theano 1.0; only the engine import differs, and `from
theano.sandbox.rng_mrg import MRG_RandomStreams` became an attribute look-up.
Prints one result line: the clean test digits' reconstruction cross-entropy.
"""
from __future__ import print_function

import numpy

from DL.backend import theano, T
from logistic_sgd import load_data

MRG_RandomStreams = theano.sandbox.rng_mrg.MRG_RandomStreams


class dA(object):
    """input (n_examples, n_visible) -> hidden code (n_examples, n_hidden) -> reconstruction."""

    def __init__(self, numpy_rng, theano_rng=None, input=None, n_visible=784, n_hidden=500,
                 W=None, bhid=None, bvis=None):
        self.n_visible, self.n_hidden = n_visible, n_hidden
        if not theano_rng:
            theano_rng = MRG_RandomStreams(numpy_rng.randint(2 ** 30))
        if not W:
            bound = 4 * numpy.sqrt(6. / (n_hidden + n_visible))
            initial_W = numpy.asarray(numpy_rng.uniform(low=-bound, high=bound, size=(n_visible, n_hidden)),
                                      dtype=theano.config.floatX)
            W = theano.shared(value=initial_W, name='W', borrow=True)
        if not bvis:
            bvis = theano.shared(value=numpy.zeros(n_visible, dtype=theano.config.floatX), borrow=True)
        if not bhid:
            bhid = theano.shared(value=numpy.zeros(n_hidden, dtype=theano.config.floatX), name='b', borrow=True)
        self.W, self.b, self.b_prime = W, bhid, bvis
        self.W_prime = self.W.T
        self.theano_rng = theano_rng
        self.x = T.matrix(name='input') if input is None else input
        self.params = [self.W, self.b, self.b_prime]

    def get_corrupted_input(self, input, corruption_level):
        return self.theano_rng.binomial(size=input.shape, n=1, p=1 - corruption_level,
                                        dtype=theano.config.floatX) * input

    def get_hidden_values(self, input):
        return T.nnet.sigmoid(T.dot(input, self.W) + self.b)

    def get_reconstructed_input(self, hidden):
        return T.nnet.sigmoid(T.dot(hidden, self.W_prime) + self.b_prime)

    def reconstruction_cost(self, input):
        """Mean over examples of the cross-entropy of reconstructing `input` uncorrupted."""
        z = self.get_reconstructed_input(self.get_hidden_values(input))
        return T.mean(T.sum(T.nnet.binary_crossentropy(T.clip(z, 1e-7, 1 - 1e-7), input), axis=1))

    def get_cost_updates(self, corruption_level, learning_rate):
        tilde_x = self.get_corrupted_input(self.x, corruption_level)
        z = self.get_reconstructed_input(self.get_hidden_values(tilde_x))
        L = -T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        cost = T.mean(L)
        gparams = T.grad(cost, self.params)
        updates = [(param, param - learning_rate * gparam) for param, gparam in zip(self.params, gparams)]
        return cost, updates


def test_dA(learning_rate=0.1, training_epochs=5, batch_size=20, corruption_level=0.3, n_hidden=200):
    (train_x, _), (test_x, _) = load_data()
    n_train_batches = train_x.get_value(borrow=True).shape[0] // batch_size
    index = T.lscalar()
    x = T.matrix('x')
    rng = numpy.random.RandomState(123)
    da = dA(numpy_rng=rng, theano_rng=MRG_RandomStreams(rng.randint(2 ** 30)), input=x,
            n_visible=28 * 28, n_hidden=n_hidden)
    cost, updates = da.get_cost_updates(corruption_level=corruption_level, learning_rate=learning_rate)
    # the corruption's generator advances by its default update, as in Theano
    train_da = theano.function([index], cost, updates=updates,
                               givens={x: train_x[index * batch_size: (index + 1) * batch_size]})
    test_cost = theano.function([], da.reconstruction_cost(x), givens={x: test_x})
    epoch_costs = [numpy.mean([train_da(i) for i in range(n_train_batches)]) for epoch in range(training_epochs)]
    return float(test_cost()), epoch_costs


if __name__ == '__main__':
    test_cost, costs = test_dA()
    print("result: test_reconstruction_cost=%.4f first_epoch_cost=%.4f last_epoch_cost=%.4f"
          % (test_cost, costs[0], costs[-1]))
