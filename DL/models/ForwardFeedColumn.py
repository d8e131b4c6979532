"""Parallel ForwardFeed nets on the same input, pooled by an elementwise max.

    h_{c,0} = input
    h_{c,i} = activation(h_{c,i-1} W_i[c] + b_i[c])      i = 1 .. k,  c = 1 .. n_parallel
    output  = max_c h_{c,k}

Each column c is a chain of hidden layers with the same `layer_sizes`
`[n_0, n_1, ..., n_k]` but its own weights; the max over columns (a maxout
across whole nets) keeps, unit by unit, the most active column.

All columns at one depth are computed as ONE product over a 3-D weight
tensor, so the graph holds k products whatever `n_parallel` (P) is:

    depth 1   input (n, n_0)      . W_1 (P, n_0, n_1)      -> (P, n, n_1)   all columns share the input
    depth i   h (P, n, n_{i-1})   . W_i (P, n_{i-1}, n_i)  -> (P, n, n_i)   column c times its own W_i[c]
    output    max over axis 0 of h (P, n, n_k)             -> (n, n_k)

    input (n_examples, n_0)  (or (n_examples, n_timesteps, n_0))   output (n_examples, n_k)

params: one `[W_i, b_i]` per depth, `[[W_1, b_1], ..., [W_k, b_k]]`, with
W_i `(n_parallel, n_{i-1}, n_i)` and b_i `(n_parallel, n_i)`: `W_i[c]` and
`b_i[c]` are column c's i-th layer.  `params=` also takes the layout of DL
before batched columns, one ForwardFeed's params per column
`[[[W_1, b_1], ..., [W_k, b_k]], ...]` (W_i `(n_{i-1}, n_i)`), as files saved
then hold; it is stacked into the batched layout (copies: the values, not the
shared variables, are taken over).

Initial weights are drawn as the per-column ForwardFeeds drew them (column
after column, layer after layer, Glorot-uniform from `rng`), so the same
seed gives the same weights as before.  With `dropout_rate > 0` every
layer's output is dropped on the training `output` (inverted dropout), never
on `output_deterministic`.
"""
import numpy

from DL import activations
from DL.backend import T, RandomStreams, batched_dot
from DL.dropout import check_rate, dropout
from DL.init import glorot_uniform, zeros
from DL.models.base import Layer, check_size, make_param, seed_from, sub_params


def check_layer_sizes(layer_sizes, owner):
    """`layer_sizes` as a list of ints: the input size and at least one layer size."""
    if not isinstance(layer_sizes, (list, tuple)) or len(layer_sizes) < 2:
        raise ValueError("%s: layer_sizes must list the input size and at least one layer size, "
                         "e.g. [784, 100], got %r" % (owner, layer_sizes))
    return [check_size(size, "%s: layer_sizes[%d]" % (owner, i)) for i, size in enumerate(layer_sizes)]


def is_per_column(params):
    """True for the layout before batched columns: params[c][i] is column c's [W_i, b_i]."""
    return (isinstance(params, (list, tuple)) and len(params) > 0
            and isinstance(params[0], (list, tuple)) and len(params[0]) > 0
            and isinstance(params[0][0], (list, tuple)))


def _value(leaf):
    return leaf.get_value() if hasattr(leaf, "get_value") else leaf


def stack_columns(params, n_parallel, n_depths, owner):
    """Per-column params `[[[W, b] per depth] per column]` -> batched `[[W, b] per depth]`."""
    columns = sub_params(params, n_parallel, owner + " (per-column params, one entry per column)")
    columns = [sub_params(column, n_depths, "%s (params[%d], one [W, b] per layer)" % (owner, c))
               for c, column in enumerate(columns)]
    stacked = []
    for i in range(n_depths):
        depth = []
        for j, name in enumerate(("W", "b")):
            leaves = []
            for c, column in enumerate(columns):
                pair = sub_params(column[i], 2, "%s (params[%d][%d], [W, b])" % (owner, c, i))
                if pair[j] is None:
                    raise ValueError("%s: params[%d][%d] has no %s; per-column params need every column's "
                                     "W and b (or give the batched layout, see the docstring)"
                                     % (owner, c, i, name))
                leaves.append(numpy.asarray(_value(pair[j])))
            shapes = set(leaf.shape for leaf in leaves)
            if len(shapes) != 1:
                raise ValueError("%s: the columns' %s of layer %d differ in shape (%s); each column "
                                 "needs the same layer sizes" % (owner, name, i, sorted(shapes)))
            depth.append(numpy.stack(leaves))
        stacked.append(depth)
    return stacked


def depth_params(params, n_parallel, n_depths, owner):
    """`params=` in the batched layout, one [W, b] (or None) per depth; converts the per-column one."""
    if params is None:
        return [[None, None] for _ in range(n_depths)]
    if is_per_column(params):
        return stack_columns(params, n_parallel, n_depths, owner)
    depths = sub_params(params, n_depths, owner + " (one [W, b] per layer, W (n_parallel, n_in, n_out))")
    return [sub_params(pair, 2, "%s (params[%d], [W, b])" % (owner, i)) for i, pair in enumerate(depths)]


def draw_initial(rng, sizes, n_parallel, given, activation, draws_seeds):
    """Initial W of the depths whose W is not `given`, and the dropout seeds, drawn from `rng`
    in the order of the per-column ForwardFeeds: column after column, in each column layer
    after layer, each layer's W and then (with dropout) its seed."""
    weights = [[] for _ in given]
    seeds = []
    for _ in range(n_parallel):
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if given[i] is None:
                weights[i].append(glorot_uniform(rng, n_in, n_out, activation))
            if draws_seeds:
                seeds.append(seed_from(rng))
    return [numpy.stack(w) if w else None for w in weights], seeds


class ForwardFeedColumn(Layer):
    """`n_parallel` columns of `layer_sizes`, max-pooled; see the module's docstring.

    `columns(x, train)` gives every column's output `(n_parallel, n_examples, n_k)`
    before the max; `apply(x, mask=None, train=False)` the pooled output (the forward function of
    both `output` and `output_deterministic`)."""

    def __init__(self, rng, input, layer_sizes, n_parallel, dropout_rate=0, activation="tanh", params=None,
                 name="ForwardFeedColumn"):
        self.name = name
        self.n_parallel = check_size(n_parallel, name + ": n_parallel")
        self.layer_sizes = sizes = check_layer_sizes(layer_sizes, name)
        self.dropout_rate = check_rate(dropout_rate)
        self.activation = activations.get(activation)
        self.outputActivation = "linear"  # as an output: real values, mse
        P = self.n_parallel

        given = depth_params(params, P, len(sizes) - 1, name)
        initial, seeds = draw_initial(rng, sizes, P, [W for W, _ in given], activations.name_of(activation),
                                      self.dropout_rate > 0)
        self.Ws, self.bs = [], []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            W_value, b_value = given[i]
            self.Ws.append(make_param(W_value, (P, n_in, n_out), "layers[%d].W" % i, name,
                                      lambda i=i: initial[i]))
            self.bs.append(make_param(b_value, (P, n_out), "layers[%d].b" % i, name, lambda: zeros(P, n_out)))

        self.srng = RandomStreams(seeds[0]) if seeds else None
        self.connect(input)

    def columns(self, x, train=False):
        """Every column's output, `(n_parallel, n_examples, n_k)`, for x `(n_examples, n_0)`."""
        h = None
        for W, b in zip(self.Ws, self.bs):
            if h is None:  # the columns share the input: one (n, n_0) x (n_0, P n_1) product
                pre = T.tensordot(x, W, axes=[[1], [1]]).dimshuffle(1, 0, 2)
            else:
                pre = batched_dot(h, W)
            h = self.activation(pre + b.dimshuffle(0, "x", 1))
            if train and self.dropout_rate > 0:
                h = dropout(self.srng, self.dropout_rate, h)
        return h

    def apply(self, x, mask=None, train=False):
        """This column stack on another input `x` (shares the weights): the max over columns.
        (`mask` is unused: each row, or each step, stands alone.)"""
        if x.ndim == 3:  # (n, T, n_0): the examples' time steps are examples to the columns
            flat = self.apply(x.reshape((-1, x.shape[2])), train=train)
            return flat.reshape((x.shape[0], x.shape[1], flat.shape[1]))
        return T.max(self.columns(x, train), axis=0)

    @property
    def weights(self):
        return list(self.Ws)

    @property
    def params(self):
        return [[W, b] for W, b in zip(self.Ws, self.bs)]
