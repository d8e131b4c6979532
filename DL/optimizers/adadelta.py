"""Adadelta (Zeiler 2012)."""
from DL.optimizers.training import optimize


def adadelta(learning_rate=1.0, rho=0.95, epsilon=1e-6, **kwargs):
    """optimize(..., optimizer='adadelta'); see DL.optimizers.training.optimize."""
    return optimize(optimizer="adadelta", learning_rate=learning_rate, rho=rho, epsilon=epsilon, **kwargs)
