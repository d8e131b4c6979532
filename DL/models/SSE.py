"""Supervised State Estimator: the USE's recurrence, trained to name what it observes.

                          o_t              a_t
                           |                |
                 filter    v   transform    v
     k_{t-1} ----------->  h_t ----------->  k_t ----------->  h_{t+1}
                           |
                 predictor v
                          y_t  = p(label | o_0..o_t, a_0..a_{t-1})

    h_t = act([F_filt(k_{t-1}), F_obs(o_t)] W_h + b_h)       k_{-1} = k0 (learned)
    k_t = act([F_trans(h_t), F_act(a_t)] W_k + b_k)
    y_t = outputActivation(F_pred(h_t) W_y + b_y)

As in the USE, F_* are deep sub-networks with the hidden sizes `ff_*`.  The
label is, e.g., which object is in the hand: y_t sharpens as actions reveal it.

    obs (n_examples, n_timesteps, n_obs)   act (n_examples, n_timesteps, n_act)
    output (n_examples, n_timesteps, n_pred)
    targets y: (n_examples, n_timesteps) class ids for softmax; (..., n_pred) otherwise

`loss(y)` and `errors(y)` take the targets (and an optional mask
`(n_examples, n_timesteps)`).  params nest as the USE's.
"""
from DL.models.base import check_size, sub_params
from DL.models.estimator import DeepEstimator, check_deep_sizes, check_sequences


class SSE(DeepEstimator):
    """The Supervised State Estimator (equations in the module docstring).

    Arguments as the USE's, plus `n_pred`, the size of y_t (the number of labels
    for softmax).  params nest as the USE's, the outputLayer `[W (n_top, n_pred), b (n_pred,)]`.

    Hooks: output, output_deterministic `(n_examples, n_timesteps, n_pred)`, pred,
    h_t, k_t; loss(y, mask=None), errors(y, mask=None) with y `(n_examples,
    n_timesteps)` class ids for softmax or `(n_examples, n_timesteps, n_pred)`
    otherwise, and an optional float mask `(n_examples, n_timesteps)`; params,
    L1, L2_sqr, updates.  The predictor reads h_t (what has been observed).
    """

    predict_from = "h"

    def __init__(self, rng, obs, act, n_obs, n_act, n_pred, n_hidden, dropout_rate=0, ff_obs=None,
                 ff_filt=None, ff_trans=None, ff_act=None, ff_pred=None, activation="tanh",
                 outputActivation="softmax", params=None, name="SSE"):
        sizes = check_deep_sizes(name, ff_obs, ff_filt, ff_trans, ff_act, ff_pred)
        n_pred = check_size(n_pred, name + ": n_pred")
        params = sub_params(params, 9, name)
        super().__init__(rng, n_hidden, dropout_rate, activation, outputActivation, params[0], name)
        self.obs, self.act, checked_obs, checked_act = check_sequences(obs, act, n_obs, n_act, name)
        self.layers = self.deep_parts(rng, n_obs, n_act, n_pred, sizes, params[1:])
        self.connect((checked_obs, checked_act))
