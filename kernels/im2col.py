"""col2im compiled: add each column of a convolution back onto the (padded) NCHW image it was read from. No
autograd here; ``microseq.ops.conv`` allocates, crops and records.

Shapes: B batch, C channels, Hp x Wp padded image, kH x kW kernel, OH x OW output;
cols (B, C, kH, kW, OH, OW), where cols[b, c, i, j, oh, ow] was read from image[b, c, oh*sh + i*dh, ow*sw + j*dw].

Why compiled: NumPy adds the kH * kW shifted blocks as one strided ufunc call each, over 4-D views whose rows
are only OW long (12-48 in a small image CNN), and the per-row overhead of the ufunc loop dominates. Measured on
this project's 2-core EPYC, float32, B=32, 3x3 kernel, padding 1, stride 1, CPU time, best of 15, under a load
of ~7 (shared machine): 3->16 channels at 48x48: NumPy 1.70 ms, this loop 0.96 ms; 16->32 at 24x24: 2.96 vs
1.45 ms; 32->64 at 12x12: 1.74 vs 0.91 ms. The same loop for im2col (a copy) was slower than NumPy's strided
copies (1.08 vs 0.50 ms, 1.68 vs 1.16 ms, 1.04 vs 0.75 ms), so im2col stays in NumPy.
"""

from numba import njit


@njit(cache=True, error_model="numpy", boundscheck=False)
def col2im_add(cols, image, sh, sw, dh, dw):
    """image[b, c, oh*sh + i*dh, ow*sw + j*dw] += cols[b, c, i, j, oh, ow] for every index of ``cols``
    (windows that overlap add up)."""
    B, C, KH, KW, OH, OW = cols.shape
    for b in range(B):
        for c in range(C):
            for i in range(KH):
                for j in range(KW):
                    for oh in range(OH):
                        target = image[b, c, oh * sh + i * dh]
                        source = cols[b, c, i, j, oh]
                        if sw == 1:  # a contiguous row: a loop LLVM vectorises
                            start = j * dw
                            for ow in range(OW):
                                target[start + ow] += source[ow]
                        else:
                            for ow in range(OW):
                                target[ow * sw + j * dw] += source[ow]
