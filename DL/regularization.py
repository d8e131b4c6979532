"""Weight penalties.

    L1(weights)     = sum_W sum_ij |W_ij|
    L2_sqr(weights) = sum_W sum_ij W_ij^2

Biases are not penalized; models pass only their weight matrices.
`layers_L1` / `layers_L2_sqr` add up the penalties of sub-layers.
"""


def L1(weights):
    total = 0
    for weight in weights:
        total = total + abs(weight).sum()
    return total


def L2_sqr(weights):
    total = 0
    for weight in weights:
        total = total + (weight ** 2).sum()
    return total


def layers_L1(layers):
    total = 0
    for layer in layers:
        total = total + layer.L1
    return total


def layers_L2_sqr(layers):
    total = 0
    for layer in layers:
        total = total + layer.L2_sqr
    return total


# the original package's names
compute_L1 = L1
compute_L2_sqr = L2_sqr
