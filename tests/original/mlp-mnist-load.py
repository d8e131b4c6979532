#!/usr/bin/python
# coding: utf-8
#
# A script in the original package's idiom, written for DL's tests: a model
# saved by mlp-mnist-dropout.py with numpy.savez comes back from numpy.load as
# object arrays, and params= takes them as they are.

from DL.backend import theano, T
import numpy
import time
from DL.models.MLP import MLP
from DL import datasets
from DL.utils import *

mnist = datasets.mnist()

l = numpy.load("saved.npz", allow_pickle=True)
lparams = l['params']
losses = l['results']
notes = l['notes']
print("model loaded:", notes)
print("loaded: train %0.05f validation %0.05f test %0.05f" % (losses[0], losses[1], losses[2]))

x = T.matrix('x')
rng = numpy.random.RandomState(int(time.time()))
mlp = MLP(rng=rng, input=x, n_in=28 * 28, n_hidden=100, n_out=10, params=lparams)

predict = theano.function(inputs=[x], outputs=pred_multiclass(mlp.output))
print("predict:", predict(mnist[2][0][0:10]))
print("answer: ", mnist[2][1][0:10])
