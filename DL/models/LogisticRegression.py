"""Multiclass logistic regression.

    p(y = k | x) = softmax(x W + b)_k

input `(n_examples, n_in)`, output `(n_examples, n_out)` class probabilities.
W and b start at zero, as in the deeplearning.net tutorial: the loss is convex,
so no symmetry needs breaking.
"""
from DL.init import zeros
from DL.models.HiddenLayer import HiddenLayer
from DL.models.base import check_size, sub_params


class LogisticRegression(HiddenLayer):
    """p(y | x) = softmax(x W + b): a softmax HiddenLayer whose W and b start at zero.

    rng      unused for the weights (they start at zero); kept for the original signature
    input    symbolic float `(n_examples, n_in)`, or None (parameters only)
    n_in     input size;  n_out  the number of classes
    params   None, or `[W (n_in, n_out), b (n_out,)]`

    Hooks: output `(n_examples, n_out)` probabilities, pred `(n_examples,)` class
    ids, loss(y) the mean negative log-likelihood and errors(y) the error rate
    of class ids y `(n_examples,)`; params `[W, b]`.
    """

    def __init__(self, rng, input, n_in, n_out, params=None, name="LogisticRegression"):
        W_value, b_value = sub_params(params, 2, name)
        if W_value is None:
            W_value = zeros(check_size(n_in, name + ": n_in"), check_size(n_out, name + ": n_out"))
        if b_value is None:
            b_value = zeros(n_out)
        super().__init__(rng, input, n_in, n_out, params=[W_value, b_value],
                         activation="softmax", name=name)
