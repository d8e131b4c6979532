"""DL: deep learning in the Theano style, on today's Python.

Models are small classes over symbolic minibatch tensors (`DL.models`);
optimizers compile and run training with early stopping (`DL.optimizers`).
The engine (PyTensor by default) is chosen in `DL.engine` and imported by
model code from `DL.backend`.  Importing DL changes nothing else in the process.
"""
__version__ = "0.1.0"
