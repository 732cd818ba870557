"""Fused numba kernels on raw NumPy arrays (installed as ``microseq.kernels``)."""
