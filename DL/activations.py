"""Nonlinearities, looked up by name.

Each maps a tensor of any shape elementwise (softmax: over the last axis):

    tanh(a)        hyperbolic tangent, in (-1, 1)
    sigmoid(a)     1 / (1 + exp(-a)), in (0, 1)
    relu(a)        max(a, 0)
    cappedrelu(a)  min(max(a, 0), 6)
    linear(a)      a
    softmax(a)     exp(a) / sum(exp(a)) over the last axis
"""
from DL.backend import T, softmax as _softmax


def tanh(a):
    return T.tanh(a)


def sigmoid(a):
    return T.sigmoid(a)


def relu(a):
    return T.maximum(a, 0)


def cappedrelu(a):
    return T.minimum(T.maximum(a, 0), 6)


def linear(a):
    return a


def softmax(a):
    return _softmax(a)


activations = {
    "tanh": tanh,
    "sigmoid": sigmoid,
    "relu": relu,
    "cappedrelu": cappedrelu,
    "linear": linear,
    "softmax": softmax,
}


def get(activation):
    """The activation function named `activation` (or `activation` itself if callable)."""
    if callable(activation):
        return activation
    try:
        return activations[activation]
    except (KeyError, TypeError):
        raise ValueError("unknown activation %r; valid ones are: %s"
                         % (activation, ", ".join(sorted(activations)))) from None


def name_of(activation):
    """The name of a registered activation, or None for a custom callable."""
    if isinstance(activation, str):
        get(activation)
        return activation
    for name, function in activations.items():
        if function is activation:
            return name
    return None
