"""Peer implementations of the benchmark's workloads, used only by benchmarks/compare.py.

Each peer does the work DL does, in the way a user of that library would
write it, starting from the same initial weights (arrays handed in) and
visiting the same minibatches in the same order.
"""
