"""The fused word2vec update (negative sampling) on raw NumPy arrays; no autograd here.

The readable version of the objective, through the autograd engine, is ``microseq.text.word2vec.sgns_loss``;
the tests tie this kernel to it update for update.

Shapes: V vocabulary, D vector size, E examples, K negatives.
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
