#!/usr/bin/python
# coding: utf-8
#
# A script in the original package's idiom, written for DL's tests: the lag
# task with class targets, load_data(..., output="int32") for the targets, an
# RNN trained with sgd, and the prediction compiled by the script and called
# with NumPy's float64 sequences.

from DL.backend import theano, T
import numpy
from DL.models.RNN import RNN
from DL.optimizers.sgd import sgd
from DL.utils import *

print("An RNN with softmax outputs on the lag task.")

numpy.random.seed(2)
n_in = 5
n_steps = 10
n_seq = 300
n_classes = 3

seq = numpy.random.randn(n_seq, n_steps, n_in)
targets = numpy.zeros((n_seq, n_steps), dtype=int)
thresh = 0.5
# class 1 when lag 1 of input 3 exceeds lag 2 of input 0 by thresh, class 2 when below by thresh
targets[:, 2:][seq[:, 1:-1, 3] > seq[:, :-2, 0] + thresh] = 1
targets[:, 2:][seq[:, 1:-1, 3] < seq[:, :-2, 0] - thresh] = 2

trainIdx = int(numpy.floor(4. / 6. * n_seq))
validIdx = int(numpy.floor(5. / 6. * n_seq))
lagData = ((seq[0:trainIdx], targets[0:trainIdx]),
           (seq[trainIdx:validIdx], targets[trainIdx:validIdx]),
           (seq[validIdx:], targets[validIdx:]))
dataset = load_data(lagData, output="int32")

x = T.tensor3('x')  # input
t = T.imatrix('t')  # targets
rnn = RNN(rng=numpy.random.RandomState(2), input=x, n_in=n_in, n_hidden=20, n_out=n_classes,
          activation='tanh', outputActivation='softmax')

cost = rnn.loss(t) + 0.0 * rnn.L1 + 0.0001 * rnn.L2_sqr
sgd(dataset=dataset, inputs=[x, t], cost=cost, params=flatten(rnn.params), errors=rnn.errors(t),
    learning_rate=0.1, momentum=0.5, n_epochs=30, batch_size=20, patience=100000,
    patience_increase=2., improvement_threshold=0.9995)

predict = theano.function(inputs=[x], outputs=rnn.output)
guess = predict(seq[validIdx:]).argmax(axis=-1)
print("classes wrong on the test walks: %0.3f" % numpy.mean(guess != targets[validIdx:]))
print("guessing the most common class: %0.3f" % numpy.mean(targets[validIdx:] != numpy.bincount(targets[:trainIdx].ravel()).argmax()))
