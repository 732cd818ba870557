"""Fused word2vec (negative sampling) and GloVe updates on raw NumPy arrays; no autograd here.

The readable versions of both objectives, through the autograd engine, are in ``microseq.text.word2vec`` and
``microseq.text.glove``; the tests tie each kernel to them update for update.

Shapes: V vocabulary, D vector size, E examples, K negatives, B examples in one mini-batch.
"""

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy", fastmath=True)
def sgns_train(v, u, in_ptr, in_ids, targets, batch_ptr, lrs):
    """Negative-sampling SGD over mini-batches, in place on the input table v (V, D) and output table u (V, D).

    Example e's hidden vector is the mean of the input rows ``v[in_ids[in_ptr[e]:in_ptr[e + 1]]]`` (one row
    for skip-gram, the context words for CBOW). Its targets ``targets[e]`` (E, 1 + K) are the positive word
    then K negatives; the loss is ``-log s(u_t0 . h) - sum_j log s(-u_tj . h)``. Mini-batch b holds the
    examples ``batch_ptr[b]:batch_ptr[b + 1]``: every gradient of the batch is computed from the tables as
    they were before it, then applied with step ``lrs[b]`` (so a batch is one exact SGD step on the summed
    loss, which the composed path reproduces). Returns the summed loss of all examples.
    """
    D, T = v.shape[1], targets.shape[1]
    largest = 0
    for b in range(len(batch_ptr) - 1):
        largest = max(largest, batch_ptr[b + 1] - batch_ptr[b])
    h = np.zeros((largest, D), dtype=v.dtype)
    dh = np.zeros((largest, D), dtype=v.dtype)
    g = np.zeros((largest, T), dtype=v.dtype)
    loss = 0.0
    for b in range(len(batch_ptr) - 1):
        start, stop, lr = batch_ptr[b], batch_ptr[b + 1], lrs[b]
        for i in range(stop - start):  # forward and every gradient, from the tables before the step
            e = start + i
            hi, dhi = h[i], dh[i]  # row views: the loops below compile to vector code
            for k in range(D):
                hi[k] = 0.0
                dhi[k] = 0.0
            for p in range(in_ptr[e], in_ptr[e + 1]):
                vw = v[in_ids[p]]
                for k in range(D):
                    hi[k] += vw[k]
            inverse = 1.0 / (in_ptr[e + 1] - in_ptr[e])
            for k in range(D):
                hi[k] *= inverse
            for j in range(T):
                ut = u[targets[e, j]]
                score = ut[0] * hi[0]  # starts in the tables' dtype: a float32 sum stays in float32 lanes
                for k in range(1, D):
                    score += ut[k] * hi[k]
                z = score if j == 0 else -score  # the loss is log(1 + e^-z) = softplus(-z)
                decay = np.exp(-abs(z))  # one exp gives both the loss and its gradient
                loss += max(-z, 0.0) + np.log1p(decay)
                wrong = decay / (1.0 + decay) if z >= 0 else 1.0 / (1.0 + decay)  # s(-z)
                gij = -wrong if j == 0 else wrong  # d loss / d score
                g[i, j] = gij
                for k in range(D):
                    dhi[k] += gij * ut[k]
        for i in range(stop - start):  # the step
            e = start + i
            hi, dhi = h[i], dh[i]
            for j in range(T):
                ut = u[targets[e, j]]
                step = lr * g[i, j]
                for k in range(D):
                    ut[k] -= step * hi[k]
            scale = lr / (in_ptr[e + 1] - in_ptr[e])
            for p in range(in_ptr[e], in_ptr[e + 1]):
                vw = v[in_ids[p]]
                for k in range(D):
                    vw[k] -= scale * dhi[k]
    return loss


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
