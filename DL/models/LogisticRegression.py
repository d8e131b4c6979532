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

    def __init__(self, rng, input, n_in, n_out, params=None, name="LogisticRegression"):
        W_value, b_value = sub_params(params, 2, name)
        if W_value is None:
            W_value = zeros(check_size(n_in, name + ": n_in"), check_size(n_out, name + ": n_out"))
        if b_value is None:
            b_value = zeros(n_out)
        super().__init__(rng, input, n_in, n_out, params=[W_value, b_value],
                         activation="softmax", name=name)
