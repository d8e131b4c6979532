"""Multiplicative Unsupervised State Estimator: the USE with gated transitions.

                          o_t              a_t
                           |                |
                  .--------|       .--------|
                  |        v       |        v
     k_{t-1} ---- x ---->  h_t ---- x ---->  k_t ----------->  h_{t+1}
                                             |
                                             v
                                            y_t  = p(o_{t+1} | o_0..o_t, a_0..a_t)

The observation chooses the filter's matrix and the action the transform's,
through factored multiplicative units (DL.models.MultiplicativeLayer):

    h_t = act(((k_{t-1} W_fi) * (o_t W_fm)) W_of + o_t W_om + b)      k_{-1} = k0 (learned)
    k_t = act(((h_t V_fi) * (a_t V_fm)) V_of + a_t V_om + c)
    y_t = outputActivation(k_t W_y + b_y)

with `n_fact` factors per unit (default n_hidden).  An action that moves the
agent then acts on the state as its own linear map, which an additive USE has
to build from its hidden units.

    obs (n_examples, n_timesteps, n_obs)   act (n_examples, n_timesteps, n_act)
    h_t, k_t (n_examples, n_timesteps, n_hidden)   output (n_examples, n_timesteps, n_obs)

`loss()` and `errors()` compare y_t with o_{t+1}, as in the USE.
params: `[k0, hLayer, kLayer, outputLayer]`.
"""
from DL.models.base import check_size, sub_params
from DL.models.estimator import GatedCell, NextObservationEstimator, check_sequences, observed_targets


class MUSE(NextObservationEstimator):
    """The Multiplicative Unsupervised State Estimator (equations in the module docstring).

    rng          numpy.random.RandomState: draws k0, the dropout seed, then hLayer's,
                 kLayer's and outputLayer's weights
    obs, act     symbolic float `(n_examples, n_timesteps, n_obs)` and `(..., n_act)`, as the USE's
    n_obs, n_act, n_hidden   sizes of o_t, a_t and the states
    n_fact       factors of each multiplicative unit (None: n_hidden)
    dropout_rate in [0, 1): state units dropped on the training path (one mask per sequence)
    activation   the cells';  outputActivation  'softmax', 'sigmoid' or 'linear'
    params       None, or `[k0, hLayer, kLayer, outputLayer]` (each cell a MultiplicativeLayer's 5 entries)

    Parts: filter and transform (GatedCells: hLayer, kLayer), predictor [outputLayer];
    no observation or action nets.  Hooks as the USE's: loss(mask=None),
    errors(mask=None) take no targets.
    """

    def __init__(self, rng, obs, act, n_obs, n_act, n_hidden, n_fact=None, dropout_rate=0, activation="tanh",
                 outputActivation="softmax", params=None, name="MUSE"):
        n_fact = n_hidden if n_fact is None else check_size(n_fact, name + ": n_fact")
        params = sub_params(params, 4, name)
        super().__init__(rng, n_hidden, dropout_rate, activation, outputActivation, params[0], name)
        self.obs, self.act, checked_obs, checked_act = check_sequences(obs, act, n_obs, n_act, name,
                                                                       one_fewer_action=True)
        self.filter = GatedCell(rng, self.n_hidden, n_obs, self.n_hidden, n_fact, activation, params[1],
                                name + ".hLayer")
        self.transform = GatedCell(rng, self.n_hidden, n_act, self.n_hidden, n_fact, activation, params[2],
                                   name + ".kLayer")
        self.hLayer, self.kLayer = self.filter.layer, self.transform.layer
        self.predictor = self.predictor_layers(rng, n_obs, None, None, params[3])
        self.layers = [self.hLayer, self.kLayer, self.outputLayer]
        self.connect((checked_obs, checked_act))
        self.next_observation_targets(observed_targets(checked_obs, self.outputActivation))
