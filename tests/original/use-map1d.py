#!/usr/bin/python
# coding: utf-8
#
# A script in the original package's idiom, written for DL's tests: walks on a
# 1-D map of 5 cells, T + 1 observations and T actions per walk, loaded with
# load_data(..., output="float32"), a USE trained on use.loss() with sgd, and
# a prediction compiled by the script and called with NumPy's float64 lists.

from DL.backend import theano, T
import numpy
from DL.models.USE import USE
from DL.optimizers.sgd import sgd
from DL.utils import *
from DL.viz import spark as sparkprob  # sparkprob's rows, as text on Python 3

print("The USE on a 1-D map, binary observation predictions.")


def squeeze(n, mn, mx):
    return min(max(n, mn), mx)


numpy.random.seed(1)
n_obs = 5      # width of the map
n_act = 2      # left, right
n_steps = 10
n_seq = 240

observations = []
actions = []
for i in range(n_seq):
    obs = [int(round(numpy.random.uniform(0, n_obs - 1)))]
    act = []
    for j in range(n_steps):
        a = round(numpy.random.uniform())
        act.append(onehot(int(a), 2))
        obs.append(squeeze(obs[-1] + int((a - 0.5) * 2.0), 0, n_obs - 1))
    observations.append([onehot(o, n_obs) for o in obs])
    actions.append(act)

observations = numpy.array(observations)  # (n_seq, n_steps + 1, n_obs)
actions = numpy.array(actions)            # (n_seq, n_steps, n_act)

trainIdx = int(numpy.floor(4. / 6. * n_seq))
validIdx = int(numpy.floor(5. / 6. * n_seq))
data = ((observations[0:trainIdx], actions[0:trainIdx]),
        (observations[trainIdx:validIdx], actions[trainIdx:validIdx]),
        (observations[validIdx:], actions[validIdx:]))
dataset = load_data(data, output="float32")

o = T.tensor3('o')  # observations
a = T.tensor3('a')  # actions
use = USE(rng=numpy.random.RandomState(1), obs=o, act=a, n_obs=n_obs, n_act=n_act, n_hidden=20,
          activation='relu', outputActivation="sigmoid")

cost = use.loss() + 0.0 * use.L1 + 0.0001 * use.L2_sqr
sgd(dataset=dataset, inputs=[o, a], cost=cost, params=flatten(use.params), errors=use.errors(),
    learning_rate=0.5, momentum=0.5, n_epochs=30, batch_size=20, patience=100000,
    patience_increase=2., improvement_threshold=0.9995)

predict = theano.function(inputs=[o, a], outputs=use.output)

obs = observations[validIdx].tolist()
act = actions[validIdx].tolist()
y = predict([obs], [act])[0]
print("obs | y | act")
for i in range(1, len(act)):
    print(sparkprob(obs[i]) + '  |  ' + sparkprob(y[i - 1]) + '  |  ' + sparkprob(act[i]))
wrong = numpy.mean(numpy.round(y[:-1]) != numpy.array(obs[1:]))
print("bits wrong in that walk: %0.3f" % wrong)
