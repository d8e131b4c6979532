"""A stacked denoising autoencoder on MNIST digits (Vincent et al. 2010), Theano 1.0
style: each sigmoid layer is pretrained as a denoising autoencoder of the layer
below, then the whole stack with logistic regression on top is fine-tuned by SGD.

Written for Theano 1.0; only the engine import differs.  Prints one result line.
"""
from __future__ import print_function

import numpy

from DL.backend import theano, T
from logistic_sgd import LogisticRegression, load_data
from mlp import HiddenLayer
from dA import dA

MRG_RandomStreams = theano.sandbox.rng_mrg.MRG_RandomStreams


class SdA(object):
    def __init__(self, numpy_rng, theano_rng=None, n_ins=784, hidden_layers_sizes=(200, 200), n_outs=10,
                 corruption_levels=(0.1, 0.2)):
        self.sigmoid_layers, self.dA_layers, self.params = [], [], []
        if not theano_rng:
            theano_rng = MRG_RandomStreams(numpy_rng.randint(2 ** 30))
        self.x = T.matrix('x')
        self.y = T.ivector('y')
        for i, n_out in enumerate(hidden_layers_sizes):
            input_size = n_ins if i == 0 else hidden_layers_sizes[i - 1]
            layer_input = self.x if i == 0 else self.sigmoid_layers[-1].output
            sigmoid_layer = HiddenLayer(rng=numpy_rng, input=layer_input, n_in=input_size, n_out=n_out,
                                        activation=T.nnet.sigmoid)
            self.sigmoid_layers.append(sigmoid_layer)
            self.params.extend(sigmoid_layer.params)
            # the autoencoder shares the layer's weights and hidden biases
            self.dA_layers.append(dA(numpy_rng=numpy_rng, theano_rng=theano_rng, input=layer_input,
                                     n_visible=input_size, n_hidden=n_out, W=sigmoid_layer.W,
                                     bhid=sigmoid_layer.b))
        self.logLayer = LogisticRegression(input=self.sigmoid_layers[-1].output, n_in=hidden_layers_sizes[-1],
                                           n_out=n_outs)
        self.params.extend(self.logLayer.params)
        self.finetune_cost = self.logLayer.negative_log_likelihood(self.y)
        self.errors = self.logLayer.errors(self.y)
        self.corruption_levels = corruption_levels

    def pretraining_functions(self, train_set_x, batch_size, learning_rate):
        index = T.lscalar('index')
        functions = []
        for da, corruption_level in zip(self.dA_layers, self.corruption_levels):
            cost, updates = da.get_cost_updates(corruption_level, learning_rate)
            functions.append(theano.function(
                [index], cost, updates=updates,
                givens={self.x: train_set_x[index * batch_size: (index + 1) * batch_size]}))
        return functions

    def build_finetune_functions(self, datasets, batch_size, learning_rate):
        (train_set_x, train_set_y), (test_set_x, test_set_y) = datasets
        index = T.lscalar('index')
        gparams = T.grad(self.finetune_cost, self.params)
        updates = [(param, param - gparam * learning_rate) for param, gparam in zip(self.params, gparams)]
        train_fn = theano.function(
            [index], self.finetune_cost, updates=updates,
            givens={self.x: train_set_x[index * batch_size: (index + 1) * batch_size],
                    self.y: train_set_y[index * batch_size: (index + 1) * batch_size]})
        test_score = theano.function([], self.errors, givens={self.x: test_set_x, self.y: test_set_y})
        return train_fn, test_score


def test_SdA(pretraining_epochs=2, pretrain_lr=0.1, finetune_lr=0.1, training_epochs=5, batch_size=20):
    datasets = load_data()
    train_set_x = datasets[0][0]
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    sda = SdA(numpy_rng=numpy.random.RandomState(89677))

    pretraining_fns = sda.pretraining_functions(train_set_x, batch_size, pretrain_lr)
    pretrain_costs = []
    for pretrain in pretraining_fns:
        for epoch in range(pretraining_epochs):
            costs = [pretrain(batch_index) for batch_index in range(n_train_batches)]
        pretrain_costs.append(numpy.mean(costs))

    train_fn, test_score = sda.build_finetune_functions(datasets, batch_size, finetune_lr)
    for epoch in range(training_epochs):
        for minibatch_index in range(n_train_batches):
            train_fn(minibatch_index)
    return float(test_score()), pretrain_costs


if __name__ == '__main__':
    test_error, pretrain_costs = test_SdA()
    print("result: test_error=%.6f " % test_error
          + " ".join("pretrain_cost_layer%d=%.4f" % (i, cost) for i, cost in enumerate(pretrain_costs)))
