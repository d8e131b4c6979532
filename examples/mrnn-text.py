#!/usr/bin/env python
"""A multiplicative RNN (Sutskever, Martens and Hinton 2011) as a character-level language model.

Each character chooses the recurrent transition through the factors:

    f_t = (h_{t-1} W_fh) * (x_t W_fx)        x_t one-hot: the character's own factor gains
    h_t = tanh(f_t W_hf + x_t W_hx + b)
    p(c_{t+1} | c_1 .. c_t) = softmax(h_t W_o + b_o)

The text is the Python documentation's topic pages that ship with CPython
(`pydoc_data.topics`, about 465,000 characters, PSF license), so it is there
offline; the first 90 % trains, then 5 % validates and 5 % tests.  The model
is scored in bits per character on the test text against the unigram
baseline (character frequencies of the training text), and writes a sample.

    python examples/mrnn-text.py                          # 1.86 bits per character (unigram: 4.60)
    python examples/mrnn-text.py --epochs 1 --chars 20000 # a quick look
"""
import argparse

import numpy

from DL import datasets
from DL.backend import theano, T, floatX
from DL.losses import nll_multiclass
from DL.models.MRNN import MRNN
from DL.optimizers import optimize
from DL.utils import flatten, load_data

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=10, help="at most this many epochs (default 10)")
parser.add_argument("--chars", type=int, default=None, help="use only the first N characters of the text")
parser.add_argument("--n-timesteps", type=int, default=50, help="characters per training sequence (default 50)")
parser.add_argument("--n-hidden", type=int, default=256, help="recurrent units (default 256)")
parser.add_argument("--n-fact", type=int, default=256, help="factors of the multiplicative transition (default 256)")
parser.add_argument("--batch-size", type=int, default=32, help="sequences per minibatch (default 32)")
parser.add_argument("--learning-rate", type=float, default=0.002, help="Adam's step size (default 0.002)")
parser.add_argument("--sample-length", type=int, default=300, help="characters to generate (default 300)")
parser.add_argument("--seed", type=int, default=1234, help="seed of the weights and of the sample")
args = parser.parse_args()

text = datasets.python_docs_text()[:args.chars]
sets, alphabet = datasets.char_sequences(text, n_timesteps=args.n_timesteps)  # each set: [ids, next ids]
n_chars = len(alphabet)
print("%d characters, %d distinct; %d training sequences of %d" % (len(text), n_chars, len(sets[0][0]),
                                                                   args.n_timesteps))
dataset = load_data(sets)

x = T.lmatrix("x")  # (n_examples, n_timesteps) character ids
t = T.lmatrix("t")  # (n_examples, n_timesteps) the next characters
one_hot = T.eye(n_chars, dtype=floatX)
mrnn = MRNN(rng=numpy.random.RandomState(args.seed), input=one_hot[x], n_in=n_chars, n_hidden=args.n_hidden,
            n_out=n_chars, n_fact=args.n_fact, activation="tanh", outputActivation="softmax")
bits_per_char = nll_multiclass(mrnn.output_deterministic, t) / numpy.log(2)

# metric= names what `errors` measures, so optimize() prints "validation bits per character 2.099".
result = optimize(dataset=dataset, inputs=[x, t], cost=mrnn.loss(t), params=flatten(mrnn.params),
                  errors=bits_per_char, metric="bits per character", n_epochs=args.epochs,
                  batch_size=args.batch_size, patience=10 ** 6,
                  optimizer="adam", learning_rate=args.learning_rate, max_grad_norm=5.0)

# The unigram baseline: each character's frequency in the training text (add-one smoothed).
counts = numpy.bincount(sets[0][1].ravel(), minlength=n_chars) + 1.0
unigram_bits = -numpy.mean(numpy.log2(counts / counts.sum())[sets[2][1].ravel()])

# Generate: feed each sampled character back in, one step at a time.
x_t, h_tm1 = T.lvector("x_t"), T.matrix("h_tm1")
h_t, p_t = mrnn.step(one_hot[x_t], h_tm1)
step = theano.function([x_t, h_tm1], [h_t, p_t])
sampler = numpy.random.RandomState(args.seed)
h, character, sample = mrnn.h0.get_value()[None, :], alphabet.index("T"), "T"
for _ in range(args.sample_length):
    h, p = step([character], h)
    p = p[0].astype("float64")
    character = sampler.choice(n_chars, p=p / p.sum())
    sample += alphabet[character]
print("sample:\n" + sample)
print("test bits per character: %.3f (unigram baseline %.3f, %.1f %% below)"
      % (result.test_loss, unigram_bits, 100 * (1 - result.test_loss / unigram_bits)))
