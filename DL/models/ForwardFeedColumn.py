"""Parallel ForwardFeed nets on the same input, pooled by an elementwise max.

    output = max_c  ForwardFeed_c(input)        c = 1 .. n_parallel

Each column is a chain of hidden layers with the same `layer_sizes`
`[n_in, n_1, ..., n_k]` but its own weights; the max over columns (a maxout
across whole nets) keeps, unit by unit, the most active column.

    input (n_examples, n_in)   output (n_examples, n_k)

params: one ForwardFeed's params per column, `[[[W, b], ...], ...]`.
"""
from DL.backend import T
from DL.models.ForwardFeed import ForwardFeed
from DL.models.base import Model, check_size, sub_params


class ForwardFeedColumn(Model):

    def __init__(self, rng, input, layer_sizes, n_parallel, dropout_rate=0, activation="tanh", params=None,
                 input_deterministic=None, name="ForwardFeedColumn"):
        n_parallel = check_size(n_parallel, name + ": n_parallel")
        if layer_sizes is None or len(layer_sizes) < 2:
            raise ValueError("%s: layer_sizes must list the input size and at least one layer size, "
                             "e.g. [784, 100], got %r" % (name, layer_sizes))
        column_params = sub_params(params, n_parallel, name)
        self.input = input
        self.ffs = [ForwardFeed(rng, input, layer_sizes, dropout_rate, column_params[i], activation,
                                input_deterministic=input_deterministic, name="%s.ffs[%d]" % (name, i))
                    for i in range(n_parallel)]
        self.layers = self.ffs
        self.output = T.max(T.stack([ff.output for ff in self.ffs]), axis=0)
        self.output_deterministic = T.max(T.stack([ff.output_deterministic for ff in self.ffs]), axis=0)
        self.outputActivation = "linear"  # as an output: real values, mse
