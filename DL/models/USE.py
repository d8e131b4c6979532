"""Unsupervised State Estimator: learns a state by predicting the next observation.

                          o_t              a_t
                           |                |
                 filter    v   transform    v
     k_{t-1} ----------->  h_t ----------->  k_t ----------->  h_{t+1}
                                             |
                                   predictor v
                                            y_t  = p(o_{t+1} | o_0..o_t, a_0..a_t)

    h_t = act([F_filt(k_{t-1}), F_obs(o_t)] W_h + b_h)       k_{-1} = k0 (learned)
    k_t = act([F_trans(h_t), F_act(a_t)] W_k + b_k)
    y_t = outputActivation(F_pred(k_t) W_y + b_y)

F_obs, F_filt, F_trans, F_act, F_pred are deep sub-networks (ForwardFeed
chains) with the hidden sizes `ff_obs`, `ff_filt`, `ff_trans`, `ff_act`,
`ff_pred` (empty lists: the identity).

    obs (n_examples, n_timesteps, n_obs)   act (n_examples, n_timesteps, n_act)
    h_t, k_t (n_examples, n_timesteps, n_hidden)   output (n_examples, n_timesteps, n_obs)

The original package's layout is taken too: obs with T + 1 steps and act with T
(a_t done between o_t and o_{t+1}); act is then padded with one zero action,
and the hooks have T + 1 steps, the last a prediction without a target.

`loss()` and `errors()` need no targets: y_t is compared with o_{t+1}.
outputActivation: softmax (one-hot observations), sigmoid (binary), linear (real).
params: `[k0, observationFF, filterFF, hLayer, transformFF, actionFF, kLayer,
predictorFF, outputLayer]` (each entry that layer's params), as in the original
package.  The recurrence itself is DL.models.estimator's.
"""
from DL.models.base import sub_params
from DL.models.estimator import DeepEstimator, NextObservationEstimator, check_deep_sizes, check_sequences, \
    observed_targets


class USE(DeepEstimator, NextObservationEstimator):
    """The Unsupervised State Estimator (see the module docstring for the equations).

    rng          numpy.random.RandomState: draws k0, the dropout seed, then the parts' weights
    obs          symbolic float `(n_examples, n_timesteps, n_obs)` observations (one-hot,
                 binary or real, to match outputActivation)
    act          symbolic float `(n_examples, n_timesteps, n_act)`: a_t done after seeing o_t
    n_obs, n_act, n_hidden   sizes of o_t, a_t and the states h_t, k_t
    dropout_rate in [0, 1): hidden units dropped on the training path (one mask per
                 sequence inside the recurrence)
    ff_obs, ff_filt, ff_trans, ff_act, ff_pred   hidden sizes of the five sub-networks
                 (lists, possibly empty; None is [])
    activation   the hidden layers';  outputActivation  'softmax', 'sigmoid' or 'linear'
    params       None, or `[k0, observationFF, filterFF, hLayer, transformFF, actionFF,
                 kLayer, predictorFF, outputLayer]`

    Parts: observation [observationFF], action [actionFF], filter and transform
    (DeepCells: filterFF + hLayer, transformFF + kLayer), predictor [predictorFF, outputLayer].
    Hooks: output, output_deterministic `(n_examples, n_timesteps, n_obs)`, pred,
    h_t, k_t `(n_examples, n_timesteps, n_hidden)`; loss(mask=None),
    errors(mask=None): no targets (y_t is compared with o_{t+1}); params, L1, L2_sqr, updates.
    """

    def __init__(self, rng, obs, act, n_obs, n_act, n_hidden, dropout_rate=0, ff_obs=None, ff_filt=None,
                 ff_trans=None, ff_act=None, ff_pred=None, activation="tanh", outputActivation="softmax",
                 params=None, name="USE"):
        sizes = check_deep_sizes(name, ff_obs, ff_filt, ff_trans, ff_act, ff_pred)
        params = sub_params(params, 9, name)
        super().__init__(rng, n_hidden, dropout_rate, activation, outputActivation, params[0], name)
        self.obs, self.act, checked_obs, checked_act = check_sequences(obs, act, n_obs, n_act, name,
                                                                       one_fewer_action=True)
        self.layers = self.deep_parts(rng, n_obs, n_act, n_obs, sizes, params[1:])
        self.connect((checked_obs, checked_act))
        self.next_observation_targets(observed_targets(checked_obs, self.outputActivation))
