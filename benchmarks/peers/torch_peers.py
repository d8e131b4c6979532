"""The benchmark's workloads in PyTorch (CPU, eager), as a PyTorch user writes them.

Weights arrive as the NumPy arrays DL starts from, in DL's layout (`W` is
`(n_in, n_out)`; the LSTM's and GRU's gates side by side in DL's order), and are
copied into the PyTorch modules, transposed and reordered where PyTorch keeps them
otherwise.  Each `Trainer.step(i)` trains on minibatch i, slicing tensors that
were made once (no copy per minibatch), and returns the loss as a Python float,
as DL's compiled training function does.
"""
import numpy
import torch
import torch.nn.functional as F
from torch import nn


def _tensor(array):
    return torch.from_numpy(numpy.ascontiguousarray(array))


def _copy(parameter, array):
    with torch.no_grad():
        parameter.copy_(_tensor(array))


def _frozen_zero_bias(parameter):
    """PyTorch's recurrent layers add two biases; DL has one, so the second stays 0
    (trained, it would double every bias step)."""
    with torch.no_grad():
        parameter.zero_()
    parameter.requires_grad_(False)


def linear(W, b):
    """nn.Linear computing x W + b for DL's W (n_in, n_out)."""
    layer = nn.Linear(*W.shape)
    _copy(layer.weight, W.T)
    _copy(layer.bias, b)
    return layer


class MLP(nn.Module):
    """tanh hidden layer, then the logits of a softmax output (loss: cross_entropy)."""

    def __init__(self, weights):
        super().__init__()
        self.hidden = linear(weights["W_h"], weights["b_h"])
        self.output = linear(weights["W_o"], weights["b_o"])

    def forward(self, x):
        return self.output(torch.tanh(self.hidden(x)))


# PyTorch's order of the gates' rows, in the letters of DL's gate orders: nn.LSTM's
# i, f, g (the cell candidate, DL's c), o; nn.GRU's r, z, n (the candidate, DL's g)
TORCH_GATES = {"lstm": "ifco", "gru": "rzg"}


def _recurrent_from(cell, W, U, b, gate_order, n_units):
    """nn.LSTM or nn.GRU (`cell`, batch first) holding DL's input weights W, recurrent U and bias b.

    DL keeps the gates' columns side by side in `gate_order` (e.g. 'ifoc', 'zrg');
    PyTorch stacks their rows in its own order (TORCH_GATES).  DL's one bias goes to
    bias_ih; bias_hh stays zero.  (nn.GRU resets after the product with U, DL's GRU
    before it: the same weights, a slightly different function.)"""
    module = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](W.shape[0], n_units, batch_first=True)
    columns = {gate: slice(k * n_units, (k + 1) * n_units) for k, gate in enumerate(gate_order)}
    torch_order = [columns[gate] for gate in TORCH_GATES[cell]]
    _copy(module.weight_ih_l0, numpy.concatenate([W[:, c].T for c in torch_order]))
    _copy(module.weight_hh_l0, numpy.concatenate([U[:, c].T for c in torch_order]))
    _copy(module.bias_ih_l0, numpy.concatenate([b[c] for c in torch_order]))
    _frozen_zero_bias(module.bias_hh_l0)
    return module


class ResetBeforeGRU(nn.Module):
    """DL's GRU (reset before the product with U, Keras' reset_after=False) in torch
    operations, a loop over time, weights in DL's layout:

        z, r = sigmoid(x W_z + h U_z + b_z), sigmoid(x W_r + h U_r + b_r)
        g = tanh(x W_g + (r * h) U_g + b_g);  h = z * h + (1 - z) * g

    Written for compare.py's loss check on the GRU workloads (nn.GRU resets after the
    product), not for speed.  Called as nn.GRU: (output (n, T, units), last state)."""

    def __init__(self, W, U, b, gate_order, n_units):
        super().__init__()
        self.W, self.U, self.b = (nn.Parameter(_tensor(array)) for array in (W, U, b))
        self.blocks = {gate: slice(k * n_units, (k + 1) * n_units) for k, gate in enumerate(gate_order)}

    def forward(self, x):
        z, r, g = (self.blocks[gate] for gate in "zrg")
        inputs = x @ self.W + self.b  # every step's input part at once, as DL's GRU
        h = x.new_zeros(x.shape[0], self.U.shape[0])
        states = []
        for t in range(x.shape[1]):
            update = torch.sigmoid(inputs[:, t, z] + h @ self.U[:, z])
            reset = torch.sigmoid(inputs[:, t, r] + h @ self.U[:, r])
            candidate = torch.tanh(inputs[:, t, g] + (reset * h) @ self.U[:, g])
            h = update * h + (1 - update) * candidate
            states.append(h)
        return torch.stack(states, 1), h


def masked_mean(h, mask):
    """Mean of h (n, T, units) over the valid steps of each sequence."""
    weights = mask.unsqueeze(-1)
    return (h * weights).sum(1) / weights.sum(1).clamp(min=1)


class RecurrentClassifier(nn.Module):
    """Embedding -> LSTM or GRU -> mean over the valid steps -> logits of a softmax.

    `cell`: 'lstm' (nn.LSTM), 'gru' (nn.GRU) or 'gru_reset_before' (ResetBeforeGRU).
    Sequences are padded at the end, so the masked mean sees only steps whose
    state never met padding: the same numbers as DL's masked recurrence."""

    def __init__(self, weights, cell, gate_order):
        super().__init__()
        W_emb = weights["W_emb"]
        self.embedding = nn.Embedding(*W_emb.shape)
        _copy(self.embedding.weight, W_emb)
        n_units = weights["U"].shape[0]
        recurrent = ResetBeforeGRU if cell == "gru_reset_before" else \
            lambda *arguments: _recurrent_from(cell, *arguments)
        self.recurrent = recurrent(weights["W"], weights["U"], weights["b"], gate_order, n_units)
        self.output = linear(weights["W_o"], weights["b_o"])

    def forward(self, ids, mask):
        h, _ = self.recurrent(self.embedding(ids))
        return self.output(masked_mean(h, mask))


class RNN(nn.Module):
    """Elman network: h_t = tanh(x_t W_in + h_{t-1} W_rec + b_h) from a learned h_0;
    logits h_t W_o + b_o.  DL's W_h over [x_t, h_{t-1}] is [W_in; W_rec]."""

    def __init__(self, weights):
        super().__init__()
        h0, W_h = weights["h0"], weights["W_h"]
        n_in = W_h.shape[0] - h0.shape[0]
        self.rnn = nn.RNN(n_in, h0.shape[0], nonlinearity="tanh", batch_first=True)
        _copy(self.rnn.weight_ih_l0, W_h[:n_in].T)
        _copy(self.rnn.weight_hh_l0, W_h[n_in:].T)
        _copy(self.rnn.bias_ih_l0, weights["b_h"])
        _frozen_zero_bias(self.rnn.bias_hh_l0)
        self.h0 = nn.Parameter(_tensor(h0))
        self.output = linear(weights["W_o"], weights["b_o"])

    def forward(self, x):
        h0 = self.h0.expand(1, x.shape[0], -1).contiguous()
        h, _ = self.rnn(x, h0)
        return self.output(h)


def sequence_cross_entropy(logits, targets):
    """Mean negative log likelihood over every example and step."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def classifier_cross_entropy(model, ids, mask, t):
    return F.cross_entropy(model(ids, mask), t)


RECURRENT_CLASSIFIERS = ("lstm", "gru", "gru_reset_before")
LOSSES = dict({"mlp": lambda model, x, t: F.cross_entropy(model(x), t),
               "rnn": lambda model, x, t: sequence_cross_entropy(model(x), t)},
              **{cell: classifier_cross_entropy for cell in RECURRENT_CLASSIFIERS})


class Trainer(object):
    """One minibatch step of `rule` on `model`; data held as tensors made once."""

    def __init__(self, kind, model, arrays, batch_size, rule, hyper):
        self.model, self.batch_size = model, batch_size
        self.loss_of = LOSSES[kind]
        self.data = [_tensor(array) for array in arrays]
        trained = [parameter for parameter in model.parameters() if parameter.requires_grad]
        if rule == "sgd":
            self.optimizer = torch.optim.SGD(trained, lr=hyper["learning_rate"])
        elif rule == "adadelta":
            # torch's Adadelta is Zeiler's rule as DL.updates.adadelta writes it
            self.optimizer = torch.optim.Adadelta(trained, lr=hyper["learning_rate"],
                                                  rho=hyper["rho"], eps=hyper["epsilon"])
        else:
            raise ValueError("no PyTorch peer for update rule %r" % rule)

    def step(self, index):
        start = index * self.batch_size
        batch = [tensor[start:start + self.batch_size] for tensor in self.data]
        self.optimizer.zero_grad()
        loss = self.loss_of(self.model, *batch)
        loss.backward()
        self.optimizer.step()
        return loss.item()


def build(kind, weights, arrays, batch_size, rule, hyper, gate_order=None):
    """A Trainer for workload `kind` ('mlp', 'lstm', 'gru', 'gru_reset_before', 'rnn');
    `gate_order`: DL's order of the recurrent layer's gates."""
    torch.manual_seed(0)
    if kind == "mlp":
        model = MLP(weights)
    elif kind in RECURRENT_CLASSIFIERS:
        model = RecurrentClassifier(weights, kind, gate_order)
    elif kind == "rnn":
        model = RNN(weights)
    else:
        raise ValueError("unknown workload kind %r" % kind)
    return Trainer(kind, model, arrays, batch_size, rule, hyper)
