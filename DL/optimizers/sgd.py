"""Stochastic gradient descent with classic momentum (0 for plain SGD)."""
from DL.optimizers.training import optimize


def sgd(learning_rate=0.01, momentum=0.1, **kwargs):
    """optimize(..., optimizer='sgd'); see DL.optimizers.training.optimize."""
    return optimize(optimizer="sgd", learning_rate=learning_rate, momentum=momentum, **kwargs)
