"""A restricted Boltzmann machine on MNIST digits, trained by contrastive
divergence (CD-k, Hinton 2002), Theano 1.0 style.

    F(v) = -v . b_v - sum_j softplus(v W_j + b_h_j)       (free energy)
    cost = mean F(v_data) - mean F(v_k),  v_k from k Gibbs steps v -> h -> v

The Gibbs chain is a `scan`; its random draws (MRG_RandomStreams) come back in
the updates `scan` returns, which are passed to `function`.  Written for Theano
1.0; only the engine import differs.  Prints one result line: the clean test
digits' reconstruction cross-entropy after one step v -> h -> v.
"""
from __future__ import print_function

import numpy

from DL.backend import theano, T
from logistic_sgd import load_data

MRG_RandomStreams = theano.sandbox.rng_mrg.MRG_RandomStreams


class RBM(object):
    def __init__(self, input=None, n_visible=784, n_hidden=500, W=None, hbias=None, vbias=None,
                 numpy_rng=None, theano_rng=None):
        self.n_visible, self.n_hidden = n_visible, n_hidden
        if numpy_rng is None:
            numpy_rng = numpy.random.RandomState(1234)
        if theano_rng is None:
            theano_rng = MRG_RandomStreams(numpy_rng.randint(2 ** 30))
        if W is None:
            bound = 4 * numpy.sqrt(6. / (n_hidden + n_visible))
            W = theano.shared(numpy.asarray(numpy_rng.uniform(low=-bound, high=bound, size=(n_visible, n_hidden)),
                                            dtype=theano.config.floatX), name='W', borrow=True)
        if hbias is None:
            hbias = theano.shared(numpy.zeros(n_hidden, dtype=theano.config.floatX), name='hbias', borrow=True)
        if vbias is None:
            vbias = theano.shared(numpy.zeros(n_visible, dtype=theano.config.floatX), name='vbias', borrow=True)
        # initialize input layer for standalone RBM or layer0 of DBN
        self.input = input
        if not input:
            self.input = T.matrix('input')
        self.W, self.hbias, self.vbias = W, hbias, vbias
        self.theano_rng = theano_rng
        self.params = [self.W, self.hbias, self.vbias]

    def free_energy(self, v_sample):
        wx_b = T.dot(v_sample, self.W) + self.hbias
        vbias_term = T.dot(v_sample, self.vbias)
        hidden_term = T.sum(T.nnet.softplus(wx_b), axis=1)
        return -hidden_term - vbias_term

    def propup(self, vis):
        pre_sigmoid_activation = T.dot(vis, self.W) + self.hbias
        return [pre_sigmoid_activation, T.nnet.sigmoid(pre_sigmoid_activation)]

    def sample_h_given_v(self, v0_sample):
        pre_sigmoid_h1, h1_mean = self.propup(v0_sample)
        h1_sample = self.theano_rng.binomial(size=h1_mean.shape, n=1, p=h1_mean, dtype=theano.config.floatX)
        return [pre_sigmoid_h1, h1_mean, h1_sample]

    def propdown(self, hid):
        pre_sigmoid_activation = T.dot(hid, self.W.T) + self.vbias
        return [pre_sigmoid_activation, T.nnet.sigmoid(pre_sigmoid_activation)]

    def sample_v_given_h(self, h0_sample):
        pre_sigmoid_v1, v1_mean = self.propdown(h0_sample)
        v1_sample = self.theano_rng.binomial(size=v1_mean.shape, n=1, p=v1_mean, dtype=theano.config.floatX)
        return [pre_sigmoid_v1, v1_mean, v1_sample]

    def gibbs_hvh(self, h0_sample):
        pre_sigmoid_v1, v1_mean, v1_sample = self.sample_v_given_h(h0_sample)
        pre_sigmoid_h1, h1_mean, h1_sample = self.sample_h_given_v(v1_sample)
        return [pre_sigmoid_v1, v1_mean, v1_sample, pre_sigmoid_h1, h1_mean, h1_sample]

    def get_cost_updates(self, lr=0.1, k=1):
        pre_sigmoid_ph, ph_mean, ph_sample = self.sample_h_given_v(self.input)
        chain_start = ph_sample
        ([pre_sigmoid_nvs, nv_means, nv_samples, pre_sigmoid_nhs, nh_means, nh_samples], updates) = theano.scan(
            self.gibbs_hvh, outputs_info=[None, None, None, None, None, chain_start], n_steps=k, name="gibbs_hvh")
        chain_end = nv_samples[-1]
        cost = T.mean(self.free_energy(self.input)) - T.mean(self.free_energy(chain_end))
        gparams = T.grad(cost, self.params, consider_constant=[chain_end])
        for gparam, param in zip(gparams, self.params):
            updates[param] = param - gparam * T.cast(lr, dtype=theano.config.floatX)
        return cost, updates

    def reconstruction_cost(self):
        """Mean cross-entropy of the input and its mean-field reconstruction v -> h -> v."""
        pre_sigmoid_v, v_mean = self.propdown(self.propup(self.input)[1])
        return T.mean(T.sum(T.nnet.sigmoid_binary_crossentropy(pre_sigmoid_v, self.input), axis=1))


def test_rbm(learning_rate=0.1, training_epochs=5, batch_size=20, n_hidden=200, k=1):
    (train_x, _), (test_x, _) = load_data()
    n_train_batches = train_x.get_value(borrow=True).shape[0] // batch_size
    index = T.lscalar()
    x = T.matrix('x')
    rng = numpy.random.RandomState(123)
    rbm = RBM(input=x, n_visible=28 * 28, n_hidden=n_hidden, numpy_rng=rng,
              theano_rng=MRG_RandomStreams(rng.randint(2 ** 30)))
    cost, updates = rbm.get_cost_updates(lr=learning_rate, k=k)
    train_rbm = theano.function([index], cost, updates=updates,
                                givens={x: train_x[index * batch_size: (index + 1) * batch_size]})
    test_cost = theano.function([], rbm.reconstruction_cost(), givens={x: test_x})
    for epoch in range(training_epochs):
        for batch_index in range(n_train_batches):
            train_rbm(batch_index)
    return float(test_cost())


if __name__ == '__main__':
    print("result: test_reconstruction_cost=%.4f" % test_rbm())
