"""An Elman recurrent net trained on minibatches of sequences with `scan`
(Theano 1.0 style): at each step, output the input bit seen LAG steps before.

    h_t = tanh(x_t W_in + h_{t-1} W_rec + b_h),   y_t = sigmoid(h_t W_out + b_y)
    x (n_steps, n_sequences, 1), one minibatch of sequences scanned over time

Written for Theano 1.0; only the engine import differs.  Prints one result line:
the bit error rate on new sequences (chance is 0.5).
"""
from __future__ import print_function

import numpy

from DL.backend import theano, T

LAG, N_STEPS, N_HIDDEN = 2, 20, 20


def make_sequences(rng, n_sequences):
    """Random bits x (n_steps, n_sequences, 1) and their copies LAG steps later, t."""
    x = rng.randint(0, 2, size=(N_STEPS, n_sequences, 1)).astype(theano.config.floatX)
    t = numpy.zeros_like(x)
    t[LAG:] = x[:-LAG]
    return x, t


class RNN(object):
    def __init__(self, rng, input, n_in, n_hidden, n_out):
        def weights(n_rows, n_cols, scale):
            return theano.shared(numpy.asarray(rng.uniform(-scale, scale, (n_rows, n_cols)),
                                               dtype=theano.config.floatX))
        self.W_in = weights(n_in, n_hidden, 1.0)
        self.W_rec = weights(n_hidden, n_hidden, 1.0 / numpy.sqrt(n_hidden))
        self.W_out = weights(n_hidden, n_out, 1.0 / numpy.sqrt(n_hidden))
        self.b_h = theano.shared(numpy.zeros(n_hidden, dtype=theano.config.floatX))
        self.b_y = theano.shared(numpy.zeros(n_out, dtype=theano.config.floatX))
        self.params = [self.W_in, self.W_rec, self.W_out, self.b_h, self.b_y]

        def step(x_t, h_tm1):
            h_t = T.tanh(T.dot(x_t, self.W_in) + T.dot(h_tm1, self.W_rec) + self.b_h)
            y_t = T.nnet.sigmoid(T.dot(h_t, self.W_out) + self.b_y)
            return h_t, y_t

        h0 = T.zeros((input.shape[1], n_hidden), dtype=theano.config.floatX)
        [self.h, self.y], _ = theano.scan(step, sequences=input, outputs_info=[h0, None])


def train_rnn(learning_rate=0.5, n_epochs=30, n_sequences=200, batch_size=20):
    rng = numpy.random.RandomState(1234)
    train_x, train_t = make_sequences(rng, n_sequences)
    test_x, test_t = make_sequences(rng, 500)
    x = T.tensor3('x')
    t = T.tensor3('t')
    rnn = RNN(rng, x, 1, N_HIDDEN, 1)
    cost = T.mean(T.nnet.binary_crossentropy(T.clip(rnn.y, 1e-7, 1 - 1e-7), t))
    gparams = T.grad(cost, rnn.params)
    updates = [(param, param - learning_rate * gparam) for param, gparam in zip(rnn.params, gparams)]
    train = theano.function([x, t], cost, updates=updates)
    predict = theano.function([x], rnn.y > 0.5)

    epoch_costs = []
    for epoch in range(n_epochs):
        epoch_costs.append(numpy.mean([train(train_x[:, i:i + batch_size], train_t[:, i:i + batch_size])
                                       for i in range(0, n_sequences, batch_size)]))
    # steps before LAG have nothing to copy: scored from LAG on
    error = numpy.mean(predict(test_x)[LAG:] != test_t[LAG:])
    return float(error), epoch_costs


if __name__ == '__main__':
    error, costs = train_rnn()
    print("result: test_bit_error=%.6f first_epoch_cost=%.7f last_epoch_cost=%.7f" % (error, costs[0], costs[-1]))
