"""The fused LSTM recurrence: the whole loop over time as one Op, forward and backward.

`DL.models.LSTM` defines the maths (its scan step); this Op computes the same
thing, time major, with kernels compiled by Numba (`DL.engine.numba_lstm`, whose
docstring has the equations): a step is one BLAS product and three vectorized
loops over the gates.  Scan runs the same step with its own per-step machinery,
and its backward pass recomputes every gate; the Op keeps the gates of the
forward pass for the backward one.  `tests/test_lstm.py` checks it against the
scan, forward and backward.

    LSTMRecurrence()(input_part, mask, U) -> (h, c, gates)
        input_part (n_timesteps, n_examples, 4 n_units)   x_t W + b, every step
        mask       (n_timesteps, n_examples)              1 real step, 0 padding
        U          (n_units, 4 n_units)
        h, c       (n_timesteps, n_examples, n_units);  gates (n_timesteps, n_examples, 4 n_units)

    LSTMRecurrence.grad_op()(input_part, mask, U, h, c, gates, dh, dc) -> (d input_part, d U, d mask)

The Ops' plumbing, shared with the fused GRU (the gradient Op, registering the
Numba and JAX code the first time a graph holds one), is DL.engine.recurrence_op.
"""
from DL.engine.recurrence_op import Recurrence, fused_recurrence
from DL.models.LSTM import CELL  # the step it computes: its gates and states


def lstm_recurrence_jax(jax, jnp):
    """The JAX engine's (and so GPUs') forward pass: a lax.scan of the step, traced once."""

    def lstm_recurrence(input_part, mask, U):
        """(h, c, gates), time major, as LSTMRecurrence: DL.models.LSTM.lstm_step with tanh."""
        n = U.shape[0]
        start = jnp.zeros((input_part.shape[1], n), input_part.dtype)

        def step(carry, inputs):
            h_prev, c_prev = carry
            part, keep = inputs
            a = part + h_prev @ U
            gates = jnp.concatenate([jax.nn.sigmoid(a[:, :3 * n]), jnp.tanh(a[:, 3 * n:])], axis=1)
            c_new = gates[:, n:2 * n] * c_prev + gates[:, :n] * gates[:, 3 * n:]
            h_new = gates[:, 2 * n:3 * n] * jnp.tanh(c_new)
            keep = keep[:, None]
            c = keep * c_new + (1 - keep) * c_prev
            h = keep * h_new + (1 - keep) * h_prev
            return (h, c), (h, c, gates)

        _, (H, C, G) = jax.lax.scan(step, (start, start), (input_part, mask))
        return H, C, G

    return lstm_recurrence


@fused_recurrence("DL.engine.numba_lstm", CELL, lstm_recurrence_jax)
class LSTMRecurrence(Recurrence):
    """(input_part, mask, U) -> (h, c, gates), time major: see DL.engine.numba_lstm."""
