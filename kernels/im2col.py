"""im2col and col2im compiled. No autograd here; ``microseq.ops.conv`` allocates and records.

Shapes: B batch, C channels, H x W image (unpadded), kH x kW kernel, OH x OW output;
cols (B, C, kH, kW, OH, OW), where cols[b, c, i, j, oh, ow] is image[b, c, oh*sh + i*dh - top, ow*sw + j*dw - left]
(0 where that lies in the padding).

Both walk ``cols`` once in memory order while the H x W plane of one image and channel stays in the L1 cache, and
handle the padding by index ranges worked out once per (i, j): no padded copy of the image, no padded image to
crop, and no test inside the row loops. That last point is most of the speed: the same loops with an
``if 0 <= r < H`` (or an ``if stride == 1``) per row were 2-4x slower, because LLVM then no longer vectorises
the inner run. Measured on this project's 2-core Xeon (AVX-512), float32, B=32, 16 channels, 24x24, 3x3,
padding 1, CPU time, best of 40 under a load of ~5: col2im 0.87 ms (the earlier loop over a padded image 2.6-4.4
ms), im2col 0.91 ms (NumPy's 9 strided copies of ``sliding_window_view`` 1.8 ms); copying the 10.6 MB of
columns with ``np.copyto`` takes 0.73 ms.
"""

from numba import njit


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _span(n_out, n_in, stride, offset):
    """[start, stop): the outputs o whose source o * stride + offset lies inside 0 .. n_in - 1."""
    start = 0 if offset >= 0 else min(n_out, (stride - 1 - offset) // stride)
    stop = 0 if n_in <= offset else min(n_out, (n_in - offset + stride - 1) // stride)
    return start, max(start, stop)


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def im2col_into(image, cols, sh, sw, dh, dw, top, left):
    """cols[b, c, i, j, oh, ow] = image[b, c, oh*sh + i*dh - top, ow*sw + j*dw - left], or 0 in the padding."""
    B, C, H, W = image.shape
    KH, KW, OH, OW = cols.shape[2:]
    if sh == 1 and sw == 1 and OW == W:
        _im2col_flat(image, cols, dh, dw, top, left)
        return
    for b in range(B):
        for c in range(C):
            plane = image[b, c]
            for i in range(KH):
                rows = i * dh - top
                r0, r1 = _span(OH, H, sh, rows)
                for j in range(KW):
                    block = cols[b, c, i, j]
                    offset = j * dw - left
                    start, stop = _span(OW, W, sw, offset)
                    block[:r0] = 0
                    block[r1:] = 0
                    block[r0:r1, :start] = 0
                    block[r0:r1, stop:] = 0
                    if sw == 1:  # a contiguous run, vectorised
                        for oh in range(r0, r1):
                            target, source = block[oh, start:], plane[oh * sh + rows, start + offset :]
                            for k in range(stop - start):
                                target[k] = source[k]
                    else:
                        for oh in range(r0, r1):
                            target, source = block[oh], plane[oh * sh + rows]
                            for ow in range(start, stop):
                                target[ow] = source[ow * sw + offset]


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def col2im_into(cols, image, sh, sw, dh, dw, top, left):
    """image[b, c] = the sum of every cols[b, c, i, j, oh, ow] at (oh*sh + i*dh - top, ow*sw + j*dw - left)
    (overlapping windows add up, entries in the padding are dropped); ``image`` is overwritten."""
    B, C, H, W = image.shape
    KH, KW, OH, OW = cols.shape[2:]
    image[:] = 0
    for b in range(B):
        for c in range(C):
            plane = image[b, c]
            for i in range(KH):
                rows = i * dh - top
                r0, r1 = _span(OH, H, sh, rows)
                for j in range(KW):
                    block = cols[b, c, i, j]
                    offset = j * dw - left
                    start, stop = _span(OW, W, sw, offset)
                    if sw == 1:
                        for oh in range(r0, r1):
                            source, target = block[oh, start:], plane[oh * sh + rows, start + offset :]
                            for k in range(stop - start):
                                target[k] += source[k]
                    else:
                        for oh in range(r0, r1):
                            source, target = block[oh], plane[oh * sh + rows]
                            for ow in range(start, stop):
                                target[ow * sw + offset] += source[ow]


# Stride 1 with rows as long as the image's ("same" padding): each (i, j) block of a plane is the plane shifted by
# (i dh - top) rows and (j dw - left) columns, copied as one run of OH * OW values instead of OH runs of OW; the
# entries that the flat shift wraps around a row's end are the columns outside [start, stop), zeroed after.
# Measured as above, best of 30, load ~7: (32, 32, 12, 12) 0.80 -> 0.62 ms, (32, 16, 24, 24) 0.89 -> 0.69 ms,
# (32, 3, 48, 48) 0.64 -> 0.44 ms. The same for col2im (adding a copy of the block with the wrapped columns
# zeroed) gained nothing (0.76 -> 0.75 ms, 0.87 -> 0.77, 0.46 -> 0.49), so col2im keeps its rows.
@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _im2col_flat(image, cols, dh, dw, top, left):
    B, C, H, W = image.shape
    KH, KW, OH, OW = cols.shape[2:]
    n, size = OH * OW, H * W
    for b in range(B):
        for c in range(C):
            plane = image[b, c].reshape(size)
            for i in range(KH):
                for j in range(KW):
                    block = cols[b, c, i, j].reshape(n)
                    offset = j * dw - left
                    shift = (i * dh - top) * W + offset
                    p0, p1 = _span(n, size, 1, shift)
                    block[:p0] = 0
                    block[p1:] = 0
                    source = plane[p0 + shift :]
                    target = block[p0:]
                    for k in range(p1 - p0):
                        target[k] = source[k]
                    start, stop = _span(OW, W, 1, offset)
                    rows = cols[b, c, i, j]
                    rows[:, :start] = 0
                    rows[:, stop:] = 0
