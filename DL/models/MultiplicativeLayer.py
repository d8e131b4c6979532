"""The factored multiplicative unit (Sutskever, Martens and Hinton 2011).

    f      = (input W_fi) * (mult W_fm)                  elementwise: the factors
    output = activation(f W_of + mult W_om + b)

The multiplicative input `mult` chooses, through the factors, the matrix that
maps `input` to `output`: W(mult) = W_fi diag(mult W_fm) W_of, a rank-n_fact
tensor product without ever forming an `(n_in, n_out)` matrix per example.
Rows are examples, so the whole minibatch is one product per matrix.

    input  (n_examples, n_in)    or (n_examples, n_timesteps, n_in)
    mult   (n_examples, n_mult)  or (n_examples, n_timesteps, n_mult)
    output (n_examples, n_out)   or (n_examples, n_timesteps, n_out)
    W_fi (n_in, n_fact)  W_of (n_fact, n_out)  W_fm (n_mult, n_fact)  W_om (n_mult, n_out)  b (n_out,)

params: `[W_fi, W_of, W_fm, W_om, b]` (the original package's order).  Weights
start Glorot-uniform, b at zero; L1 and L2 cover the four weight matrices.

Recurrent models reuse the unit inside `theano.scan`: `mult_parts` computes what
depends on `mult` alone for every step before the scan, and `apply_parts` does
the rest in each step (see DL.models.MRNN).
"""
from DL import activations
from DL.backend import T
from DL.init import glorot_uniform, zeros
from DL.models.base import Layer, as_tensor, check_size, check_train_keyword, make_param, sub_params


def mult_parts(mult, W_fm, W_om, b):
    """What the unit takes from `mult` `(..., n_mult)` alone: (mult W_fm `(..., n_fact)`,
    mult W_om + b `(..., n_out)`).  A recurrent model computes these for every step
    at once, before its scan."""
    return T.dot(mult, W_fm), T.dot(mult, W_om) + b


def multiplicative_unit(input, mult_factors, mult_output, W_fi, W_of, activation):
    """activation(((input W_fi) * mult_factors) W_of + mult_output), from `mult_parts`:
    input `(..., n_in)`, mult_factors `(..., n_fact)`, mult_output `(..., n_out)`."""
    return activation(T.dot(T.dot(input, W_fi) * mult_factors, W_of) + mult_output)


class MultiplicativeLayer(Layer):
    """output = activation(((input W_fi) * (mult W_fm)) W_of + mult W_om + b).

    rng     numpy.random.RandomState: draws W_fi, W_of, W_fm, W_om in that order
    input   symbolic float `(n_examples, n_in)` or `(n_examples, n_timesteps, n_in)`,
            or None (parameters only, to `apply` to other tensors)
    mult    symbolic float `(n_examples, n_mult)`, the rank of input (ignored when input is None)
    n_in, n_out, n_mult, n_fact   sizes: the input, the output, the multiplier, the factors
    activation  a DL.activations name or a function
    params  None, or `[W_fi (n_in, n_fact), W_of (n_fact, n_out), W_fm (n_mult, n_fact),
            W_om (n_mult, n_out), b (n_out,)]`

    Hooks: output = output_deterministic `(n_examples, n_out)` (no dropout), params,
    L1, L2_sqr (the four matrices).  `apply((input, mult))` takes the two inputs as one tuple.
    """

    def __init__(self, rng, input, mult, n_in, n_out, n_mult, n_fact, activation="tanh",
                 params=None, name="MultiplicativeLayer"):
        self.name = name
        sizes = (("n_in", n_in), ("n_out", n_out), ("n_mult", n_mult), ("n_fact", n_fact))
        n_in, n_out, n_mult, n_fact = [check_size(value, "%s: %s" % (name, argument)) for argument, value in sizes]
        self.activation = activations.get(activation)
        self.outputActivation = activations.name_of(activation)
        shapes = (("W_fi", (n_in, n_fact)), ("W_of", (n_fact, n_out)),
                  ("W_fm", (n_mult, n_fact)), ("W_om", (n_mult, n_out)))
        values = sub_params(params, 5, name)
        self.W_fi, self.W_of, self.W_fm, self.W_om = [
            make_param(value, shape, weight_name, name,
                       lambda shape=shape: glorot_uniform(rng, shape[0], shape[1], self.outputActivation))
            for value, (weight_name, shape) in zip(values, shapes)]
        self.b = make_param(values[4], (n_out,), "b", name, lambda: zeros(n_out))
        self.connect(None if input is None else (input, mult))
        self.input, self.mult = self.input if self.input is not None else (None, None)  # checked

    def check_input(self, inputs):
        """(input, mult): float tensors of one rank, `(n_examples, n_in)` and `(n_examples, n_mult)`
        (or with a time axis)."""
        input, mult = inputs
        input = as_tensor(input, "%s: input" % self.name, (2, 3),
                          "(n_examples, n_in) or (n_examples, n_timesteps, n_in)")
        mult = as_tensor(mult, "%s: mult" % self.name, (input.ndim,),
                         "(n_examples, n_mult) or (n_examples, n_timesteps, n_mult), the rank of input")
        return input, mult

    def apply(self, x, mask=None, train=False):
        """The unit on x = (input `(..., n_in)`, mult `(..., n_mult)`), the two inputs as one
        tuple: `(..., n_out)`.  (No dropout inside, and `mask` is unused: `train` and `mask`
        change nothing.)"""
        check_train_keyword(self, mask)
        input, mult = x
        return self.apply_parts(input, *mult_parts(mult, self.W_fm, self.W_om, self.b))

    def apply_parts(self, input, mult_factors, mult_output, W_fi=None, W_of=None):
        """The unit from `mult_parts(mult, W_fm, W_om, b)` computed ahead (e.g. for every
        step before a scan): input `(..., n_in)`, mult_factors `(..., n_fact)`,
        mult_output `(..., n_out)`; inside a strict scan, pass the scan's W_fi and W_of."""
        return multiplicative_unit(input, mult_factors, mult_output, self.W_fi if W_fi is None else W_fi,
                                   self.W_of if W_of is None else W_of, self.activation)

    @property
    def weights(self):
        """The matrices L1 and L2_sqr penalize."""
        return [self.W_fi, self.W_of, self.W_fm, self.W_om]

    @property
    def params(self):
        """`[W_fi, W_of, W_fm, W_om, b]` (the original package's order)."""
        return self.weights + [self.b]
