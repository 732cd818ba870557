"""The fused GloVe pass (AdaGrad, one co-occurrence entry at a time) on raw NumPy arrays; no autograd here.

The readable objective, through the autograd engine, is ``microseq.text.glove.glove_loss``; the tests tie
this kernel to it. Shapes: V vocabulary, D vector size, P nonzero co-occurrence entries.
"""

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def glove_train(w, wc, b, bc, gw, gwc, gb, gbc, rows, cols, counts, order, lr, x_max, alpha):
    """One AdaGrad pass of GloVe over the co-occurrence entries in ``order``, in place.

    For entry e = (i, j, x): ``diff = w_i . wc_j + b_i + bc_j - log x`` and the loss ``f(x) diff^2 / 2`` with
    ``f(x) = min(1, (x / x_max)^alpha)``; each gradient updates its row at once (as the GloVe tool), with
    AdaGrad's step ``lr * grad / sqrt(sum of squared past gradients)``. The accumulators gw, gwc (V, D) and
    gb, gbc (V,) start at 1 in the tool. Returns the summed loss of the pass.
    """
    D = w.shape[1]
    loss = 0.0
    for e in order:
        i, j, x = rows[e], cols[e], counts[e]
        diff = b[i] + bc[j] - np.log(x)
        for k in range(D):
            diff += w[i, k] * wc[j, k]
        weight = 1.0 if x >= x_max else (x / x_max) ** alpha
        loss += 0.5 * weight * diff * diff
        fdiff = weight * diff
        for k in range(D):
            grad_w = fdiff * wc[j, k]
            grad_c = fdiff * w[i, k]
            gw[i, k] += grad_w * grad_w
            gwc[j, k] += grad_c * grad_c
            w[i, k] -= lr * grad_w / np.sqrt(gw[i, k])
            wc[j, k] -= lr * grad_c / np.sqrt(gwc[j, k])
        gb[i] += fdiff * fdiff
        gbc[j] += fdiff * fdiff
        b[i] -= lr * fdiff / np.sqrt(gb[i])
        bc[j] -= lr * fdiff / np.sqrt(gbc[j])
    return loss
