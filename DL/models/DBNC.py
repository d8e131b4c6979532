"""A column DBN: a stack of ForwardFeedColumns, then an output layer.

    h_0 = x,  h_s = max_c ForwardFeed_{s,c}(h_{s-1}),  y = outputActivation(h_k W_o + b_o)

`ff_sizes = [[n_11, ..., n_1a], [n_21, ...], ...]`: the hidden sizes of the
columns of each stage (a stage's input size is the previous stage's last
size; the first's is `n_in`); every stage has `n_parallel` columns, each a
chain of its own hidden layers, pooled by a max over columns at the stage's
end.  Each stage computes all its columns at one depth as one batched
product (see `ForwardFeedColumn`), so the graph's size grows with the number
of layers per column, not with `n_parallel`: the original package's
`ff_sizes=[[10, 10, 500], [10, 10, 500]], n_parallel=50` (300 dense layers)
is 6 products.

    x (n_examples, n_in)   y (n_examples, n_out)

params: `[[stage_1 params, ..., stage_k params], [W_o, b_o]]`, where stage s
with sizes `[n_1, ..., n_a]` after an input of n_0 holds
`[[W_1, b_1], ..., [W_a, b_a]]`, W_i `(n_parallel, n_{i-1}, n_i)`,
b_i `(n_parallel, n_i)`; W_o `(n_a of the last stage, n_out)`, b_o `(n_out,)`.
`params=` also takes each stage in the per-column layout that DL wrote before
(`[[[W_1, b_1], ...] per column]`, 2-D W), and stacks it; and the original
package's nesting, `[stage_1, ..., stage_k, [W_o, b_o]]` with per-column stages.
(The original package's note: slower than a DBN and no better;
benchmarks/state_estimators.py measures both at the same number of weights.)
"""
from DL.models.ForwardFeedColumn import ForwardFeedColumn
from DL.models.HiddenLayer import HiddenLayer
from DL.models.base import Model, check_size, sub_params
from DL.models.estimator import check_hidden_sizes


def _first_leaf(params, depth=0):
    """The first non-list entry of a nesting, and how many lists deep it is."""
    if isinstance(params, (list, tuple)) and params:
        return _first_leaf(params[0], depth + 1)
    return params, depth


def original_nesting(params, n_stages):
    """`params` as `[[stages], [W_o, b_o]]`, also when given in the original package's
    nesting `[stage_1, ..., stage_k, [W_o, b_o]]` (each stage per column, 2-D W)."""
    leaf, depth = _first_leaf(params)
    if depth == 4 and getattr(leaf, "ndim", None) == 2 and len(params) == n_stages + 1:
        return [list(params[:-1]), params[-1]]
    return params


class DBNC(Model):
    """Stages of ForwardFeedColumns, each max-pooled over its columns, then an output layer.

    rng              numpy.random.RandomState: draws every stage's weights, then the output's
    input            symbolic float `(n_examples, n_in)` (or with a time axis), or None
    n_in, n_out      input size and number of outputs (classes for softmax)
    ff_sizes         one list of hidden sizes per stage, e.g. `[[10, 10, 500], [10, 10, 500]]`
    n_parallel       columns per stage
    dropout_rate     in [0, 1): every hidden layer's output is dropped on the training path
    activation       hidden activation; outputActivation picks loss, pred and errors
    params           None, or the nesting of `model.params` (see the module's docstring;
                     per-column layouts of earlier files are stacked on load)

    Hooks: output, output_deterministic `(n_examples, n_out)`, pred, loss(y), errors(y),
    params, L1, L2_sqr, updates; `columns` the stages, `outputLayer` the output layer.
    """

    def __init__(self, rng, input, n_in, n_out, ff_sizes, n_parallel=1, dropout_rate=0, activation="tanh",
                 outputActivation="softmax", params=None, name="DBNC"):
        n_in = check_size(n_in, name + ": n_in")
        stages = [check_hidden_sizes(sizes, "ff_sizes[%d]" % i, name) for i, sizes in enumerate(ff_sizes or [])]
        if any(not sizes for sizes in stages):
            raise ValueError("%s: each entry of ff_sizes must list at least one layer size, e.g. "
                             "[[500], [10, 500]], got %r" % (name, ff_sizes))
        columns_params, output_params = sub_params(original_nesting(params, len(stages)), 2, name)
        columns_params = sub_params(columns_params, len(stages), name + " (params[0], one per stage)")
        self.name = name
        self.columns = []
        n_top = n_in
        for i, sizes in enumerate(stages):
            self.columns.append(ForwardFeedColumn(rng, None, [n_top] + sizes, n_parallel, dropout_rate,
                                                  activation, columns_params[i],
                                                  name="%s.columns[%d]" % (name, i)))
            n_top = sizes[-1]
        self.outputLayer = HiddenLayer(rng, None, n_top, n_out, 0, output_params, outputActivation,
                                       name=name + ".outputLayer")
        self.layers = self.columns + [self.outputLayer]
        self.connect(input)

    @property
    def params(self):
        return [[column.params for column in self.columns], self.outputLayer.params]
