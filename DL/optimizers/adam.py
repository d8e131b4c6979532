"""Adam (Kingma and Ba 2015)."""
from DL.optimizers.training import optimize


def adam(learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, **kwargs):
    """optimize(..., optimizer='adam'); see DL.optimizers.training.optimize."""
    return optimize(optimizer="adam", learning_rate=learning_rate, beta1=beta1, beta2=beta2,
                    epsilon=epsilon, **kwargs)
