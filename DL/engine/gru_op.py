"""The fused GRU recurrence: the whole loop over time as one Op, forward and backward.

`DL.models.GRU` defines the maths (`gru_step`, the scan's step); this Op computes
the same thing, time major, with kernels compiled by Numba (`DL.engine.numba_gru`,
whose docstring has the equations): a step is two BLAS products (h_{t-1} U_zr,
then (r * h_{t-1}) U_g) and vectorized loops over the gates.  The Op keeps the
gates of the forward pass for the backward one, which so evaluates no sigmoid
or tanh.  `tests/test_gru.py` checks it against the scan, forward and backward.

    GRURecurrence()(input_part, mask, U) -> (h, gates)
        input_part (n_timesteps, n_examples, 3 n_units)   x_t W + b, every step (blocks z | r | g)
        mask       (n_timesteps, n_examples)              1 real step, 0 padding
        U          (n_units, 3 n_units)
        h          (n_timesteps, n_examples, n_units);  gates (n_timesteps, n_examples, 3 n_units)

    GRURecurrence.grad_op()(input_part, mask, U, h, gates, dh) -> (d input_part, d U, d mask)

The Ops' plumbing, shared with the fused LSTM (the gradient Op, registering the
Numba and JAX code the first time a graph holds one), is DL.engine.recurrence_op.
There is no dropout mask among the inputs: a GRU with dropout runs its scan.
"""
from DL.engine.recurrence_op import Recurrence, fused_recurrence
from DL.models.GRU import CELL  # the step it computes: its gates and states


def gru_recurrence_jax(jax, jnp):
    """The JAX engine's (and so GPUs') forward pass: a lax.scan of the step, traced once."""

    def gru_recurrence(input_part, mask, U):
        """(h, gates), time major, as GRURecurrence: DL.models.GRU.gru_step with tanh."""
        n = U.shape[0]

        def step(h_prev, inputs):
            part, keep = inputs
            zr = jax.nn.sigmoid(part[:, :2 * n] + h_prev @ U[:, :2 * n])
            z, r = zr[:, :n], zr[:, n:]
            g = jnp.tanh(part[:, 2 * n:] + (r * h_prev) @ U[:, 2 * n:])
            keep = keep[:, None]
            h = keep * (z * h_prev + (1 - z) * g) + (1 - keep) * h_prev
            return h, (h, jnp.concatenate([zr, g], axis=1))

        start = jnp.zeros((input_part.shape[1], n), input_part.dtype)
        _, (H, G) = jax.lax.scan(step, start, (input_part, mask))
        return H, G

    return gru_recurrence


@fused_recurrence("DL.engine.numba_gru", CELL, gru_recurrence_jax)
class GRURecurrence(Recurrence):
    """(input_part, mask, U) -> (h, gates), time major: see DL.engine.numba_gru."""
