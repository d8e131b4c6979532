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
from DL.models.estimator import StateEstimator, check_deep_sizes, check_sequences


class SSE(StateEstimator):

    predict_from = "h"

    def __init__(self, rng, obs, act, n_obs, n_act, n_pred, n_hidden, dropout_rate=0, ff_obs=None,
                 ff_filt=None, ff_trans=None, ff_act=None, ff_pred=None, activation="tanh",
                 outputActivation="softmax", params=None, name="SSE"):
        sizes = check_deep_sizes(name, ff_obs, ff_filt, ff_trans, ff_act, ff_pred)
        n_pred = check_size(n_pred, name + ": n_pred")
        params = sub_params(params, 9, name)
        self._setup(rng, n_hidden, dropout_rate, activation, outputActivation, params[0], name)
        self.obs, self.act, checked_obs, checked_act = check_sequences(obs, act, n_obs, n_act, name)
        self.layers = self._deep_parts(rng, (checked_obs, checked_obs), n_obs, checked_act, n_act, n_pred,
                                       sizes, params[1:])
