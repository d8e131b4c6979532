#!/usr/bin/python
# coding: utf-8
#
# A script in the original package's idiom, written for DL's tests: the star
# import from DL.utils, float targets cast to int, the loss, prediction and
# error built by hand from the helpers, and optimize() with the optimizer
# named by a string and patience counted in minibatches.

from DL.backend import theano, T
import numpy
import time
from DL.models.MLP import MLP
from DL.optimizers import optimize
from DL import datasets
from DL.utils import *

print("MNIST digits, one hidden layer")
digits = datasets.mnist()
data = load_data(digits)

x = T.matrix('x')
y = T.vector('y')      # loaded as floats with the images
labels = y.astype('int64')

net = MLP(rng=numpy.random.RandomState(int(time.time())),
          input=x, n_in=784, n_hidden=500, n_out=10)

objective = nll_multiclass(net.output, labels) + 0.0 * net.L1 + 0.0001 * net.L2_sqr
guess = pred_multiclass(net.output)
wrong = pred_error(guess, labels)

optimize(dataset=data, inputs=[x, y], cost=objective, params=flatten(net.params), errors=wrong,
         optimizer="sgd", learning_rate=0.01, momentum=0.2, n_epochs=1000, batch_size=20,
         patience=1000, patience_increase=1.5, improvement_threshold=0.995)

classify = theano.function(inputs=[x], outputs=guess)
print("predict:", classify(digits[2][0][:10]))
print("answer: ", digits[2][1][:10])
