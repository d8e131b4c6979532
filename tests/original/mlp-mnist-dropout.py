#!/usr/bin/python
# coding: utf-8
#
# A script in the original package's idiom, written for DL's tests: a random
# stream made by the script (T.shared_randomstreams) and handed to the MLP,
# the original's rmsprop by name, the prediction and the dropped-out output
# compiled by the script itself, and the model saved with numpy.savez.

from DL.backend import theano, T
import numpy
import time
from DL.models.MLP import MLP
from DL.optimizers import optimize
from DL import datasets
from DL.utils import *

print("An MLP with dropout on MNIST.")
mnist = datasets.mnist()
dataset = load_data(mnist)

x = T.matrix('x')  # input
t = T.vector('t')  # targets
inputs = [x, t]
it = t.astype('int64')  # a float on the device, an int here

rng = numpy.random.RandomState(int(time.time()))
srng = T.shared_randomstreams.RandomStreams(int(time.time()))

mlp = MLP(rng=rng, input=x, n_in=28 * 28, n_hidden=100, n_out=10, dropout_rate=0.5, srng=srng)

cost = nll_multiclass(mlp.output, it) + 0.0 * mlp.L1 + 0.0001 * mlp.L2_sqr
pred = pred_multiclass(mlp.output)
errors = pred_error(pred, it)
params = flatten(layers_params(mlp.layers))

losses = optimize(dataset=dataset, inputs=inputs, cost=cost, params=params, errors=errors,
                  n_epochs=6, batch_size=20, patience=5000, patience_increase=1.5,
                  improvement_threshold=0.995, optimizer="rmsprop")

predict = theano.function(inputs=[x], outputs=pred)
distribution = theano.function(inputs=[x], outputs=mlp.output)

print("predict:", predict(mnist[2][0][0:10]))
print("answer: ", mnist[2][1][0:10])

print("with dropout, the output distributions should all be slightly different")
for i in range(4):
    print("distribution:", distribution(mnist[2][0][0:1])[0].round(6).tolist())

numpy.savez("saved.npz", results=losses, params=mlp.params, notes="an mlp with dropout on MNIST")
print("saved:  train %0.05f validation %0.05f test %0.05f" % (losses[0], losses[1], losses[2]))
