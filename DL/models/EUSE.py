"""Embedded Unsupervised State Estimator: the USE on learned embeddings of observation ids.

    e_t = E[o_t]                                  E (n_obs, e_obs), an EmbeddingLayer
    h_t = act([F_filt(k_{t-1}), F_obs(e_t)] W_h + b_h)       k_{-1} = k0 (learned)
    k_t = act([F_trans(h_t), F_act(a_t)] W_k + b_k)
    y_t = outputActivation(F_pred(k_t) W_y + b_y)     the distribution of o_{t+1} over n_obs ids

For many distinct observations (symbols, words) an id and an `e_obs`-number
embedding replace a wide one-hot vector.

    obs (n_examples, n_timesteps) integer ids in 0 .. n_obs - 1
        (or one-hot floats (n_examples, n_timesteps, n_obs), as the original package's)
    act (n_examples, n_timesteps, n_act)
    h_t, k_t (n_examples, n_timesteps, n_hidden)   output (n_examples, n_timesteps, n_obs)

`loss()` and `errors()` compare y_t with o_{t+1}: ids for softmax outputs, their
one-hot vectors for sigmoid or linear outputs.
params: `[k0, embeddingLayer, observationFF, filterFF, hLayer, transformFF, actionFF,
kLayer, predictorFF, outputLayer]`.
"""
from DL.backend import T, floatX
from DL.models.EmbeddingLayer import EmbeddingLayer
from DL.models.base import check_size, sub_params
from DL.models.estimator import (DeepEstimator, NextObservationEstimator, check_deep_sizes, check_sequences,
                                 observed_targets)


class EUSE(DeepEstimator, NextObservationEstimator):
    """The Embedded Unsupervised State Estimator (equations in the module docstring).

    Arguments as the USE's, except
    obs     symbolic integer ids `(n_examples, n_timesteps)` in 0 .. n_obs - 1, or
            one-hot floats `(n_examples, n_timesteps, n_obs)`
    e_obs   the size of each id's embedding
    params  None, or `[k0, embeddingLayer, observationFF, filterFF, hLayer, transformFF,
            actionFF, kLayer, predictorFF, outputLayer]`

    Parts: observation [embeddingLayer, observationFF], then as the USE's.
    Hooks as the USE's (output `(n_examples, n_timesteps, n_obs)`); loss(mask=None)
    and errors(mask=None) take no targets.
    """

    def __init__(self, rng, obs, act, n_obs, e_obs, n_act, n_hidden, dropout_rate=0, ff_obs=None, ff_filt=None,
                 ff_trans=None, ff_act=None, ff_pred=None, activation="tanh", outputActivation="softmax",
                 params=None, name="EUSE"):
        sizes = check_deep_sizes(name, ff_obs, ff_filt, ff_trans, ff_act, ff_pred)
        e_obs = check_size(e_obs, name + ": e_obs")
        params = sub_params(params, 10, name)
        super().__init__(rng, n_hidden, dropout_rate, activation, outputActivation, params[0], name)
        onehot = getattr(obs, "ndim", None) == 3
        self.obs, self.act, checked_obs, checked_act = check_sequences(
            obs, act, n_obs, n_act, name, "float" if onehot else "int", one_fewer_action=True)
        self.embeddingLayer = EmbeddingLayer(rng, checked_obs, n_obs, e_obs, onehot, params[1],
                                             name=name + ".embeddingLayer")
        self.layers = [self.embeddingLayer] + self.deep_parts(rng, e_obs, n_act, n_obs, sizes, params[2:])
        self.observation = [self.embeddingLayer, self.observationFF]
        self.connect((checked_obs, checked_act))
        if onehot:
            observed = observed_targets(checked_obs, self.outputActivation)
        elif self.outputActivation == "softmax":
            observed = checked_obs
        else:
            observed = T.eye(self.embeddingLayer.W.shape[0], dtype=floatX)[checked_obs]
        self.next_observation_targets(observed)
