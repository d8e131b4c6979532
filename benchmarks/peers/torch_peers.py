"""The benchmark's workloads in PyTorch (CPU, eager), as a PyTorch user writes them.

Weights arrive as the NumPy arrays DL starts from, in DL's layout (`W` is
`(n_in, n_out)`; the LSTM's gates side by side in DL's order), and are copied
into the PyTorch modules, transposed and reordered where PyTorch keeps them
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


def _lstm_from(W, U, b, gate_order, n_units):
    """nn.LSTM (batch first) holding DL's input weights W, recurrent U and bias b.

    DL keeps the four gates' columns side by side in `gate_order` (e.g. 'ifoc');
    PyTorch stacks their rows as i, f, g (the cell candidate), o."""
    lstm = nn.LSTM(W.shape[0], n_units, batch_first=True)
    columns = {gate: slice(k * n_units, (k + 1) * n_units) for k, gate in enumerate(gate_order)}
    torch_order = [columns[gate] for gate in "ifco"]
    _copy(lstm.weight_ih_l0, numpy.concatenate([W[:, c].T for c in torch_order]))
    _copy(lstm.weight_hh_l0, numpy.concatenate([U[:, c].T for c in torch_order]))
    _copy(lstm.bias_ih_l0, numpy.concatenate([b[c] for c in torch_order]))
    _frozen_zero_bias(lstm.bias_hh_l0)
    return lstm


def masked_mean(h, mask):
    """Mean of h (n, T, units) over the valid steps of each sequence."""
    weights = mask.unsqueeze(-1)
    return (h * weights).sum(1) / weights.sum(1).clamp(min=1)


class LSTMClassifier(nn.Module):
    """Embedding -> LSTM -> mean over the valid steps -> logits of a softmax.

    Sequences are padded at the end, so the masked mean sees only steps whose
    state never met padding: the same numbers as DL's masked recurrence."""

    def __init__(self, weights, gate_order):
        super().__init__()
        W_emb = weights["W_emb"]
        self.embedding = nn.Embedding(*W_emb.shape)
        _copy(self.embedding.weight, W_emb)
        n_units = weights["U"].shape[0]
        self.lstm = _lstm_from(weights["W"], weights["U"], weights["b"], gate_order, n_units)
        self.output = linear(weights["W_o"], weights["b_o"])

    def forward(self, ids, mask):
        h, _ = self.lstm(self.embedding(ids))
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


LOSSES = {
    "mlp": lambda model, x, t: F.cross_entropy(model(x), t),
    "lstm": lambda model, ids, mask, t: F.cross_entropy(model(ids, mask), t),
    "rnn": lambda model, x, t: sequence_cross_entropy(model(x), t),
}


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
    """A Trainer for workload `kind` ('mlp', 'lstm', 'rnn')."""
    torch.manual_seed(0)
    if kind == "mlp":
        model = MLP(weights)
    elif kind == "lstm":
        model = LSTMClassifier(weights, gate_order)
    elif kind == "rnn":
        model = RNN(weights)
    else:
        raise ValueError("unknown workload kind %r" % kind)
    return Trainer(kind, model, arrays, batch_size, rule, hyper)
