"""The compiled im2col and col2im against a loop straight from the definition, on both of im2col's paths (rows,
and one flat run per block for stride 1 with rows as long as the image's), with odd paddings, dilations and
strides; every entry of the columns is written, and col2im is im2col's adjoint."""

import numpy as np
import pytest

from microseq.kernels.im2col import col2im_into, im2col_into


def naive_im2col(image, kernel, out, stride, dilation, top, left):
    B, C, H, W = image.shape
    cols = np.zeros((B, C) + kernel + out)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            for oh in range(out[0]):
                for ow in range(out[1]):
                    r, q = oh * stride[0] + i * dilation[0] - top, ow * stride[1] + j * dilation[1] - left
                    if 0 <= r < H and 0 <= q < W:
                        cols[:, :, i, j, oh, ow] = image[:, :, r, q]
    return cols


GEOMETRIES = [  # (image H, W), kernel, out (OH, OW), stride, dilation, (top, left)
    ((6, 6), (3, 3), (6, 6), (1, 1), (1, 1), (1, 1)),  # "same": the flat path
    ((5, 7), (2, 4), (5, 7), (1, 1), (1, 1), (0, 1)),  # "same" with an even kernel (extra row/column at the end)
    ((7, 7), (3, 3), (7, 7), (1, 1), (3, 3), (3, 3)),  # "same", dilated: the shift is bigger than some blocks
    ((4, 4), (1, 1), (4, 4), (1, 1), (1, 1), (0, 0)),  # 1x1: flat, nothing wraps
    ((6, 5), (3, 3), (4, 3), (1, 1), (1, 1), (0, 0)),  # valid: rows shorter than the image's
    ((8, 7), (3, 2), (4, 4), (2, 2), (1, 2), (1, 1)),  # strided
    ((3, 3), (3, 3), (3, 1), (1, 3), (1, 1), (1, 2)),  # a column stride, the padding larger than a row's reach
    ((2, 2), (3, 3), (4, 4), (1, 1), (1, 1), (2, 2)),  # more padding than image: whole blocks of zeros
]


@pytest.mark.parametrize("size, kernel, out, stride, dilation, pad", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_and_col2im_match_the_definition(size, kernel, out, stride, dilation, pad, dtype):
    rng = np.random.default_rng(0)
    image = rng.standard_normal((2, 3) + size).astype(dtype)
    cols = np.full((2, 3) + kernel + out, np.nan, dtype)  # every entry must be written
    im2col_into(image, cols, *stride, *dilation, *pad)
    np.testing.assert_array_equal(cols, naive_im2col(image, kernel, out, stride, dilation, *pad).astype(dtype))
    c = rng.standard_normal(cols.shape).astype(dtype)
    back = np.full(image.shape, np.nan, dtype)  # overwritten, not added to
    col2im_into(c, back, *stride, *dilation, *pad)
    # <im2col(x), c> == <x, col2im(c)>
    np.testing.assert_allclose(np.sum(cols.astype(np.float64) * c), np.sum(image.astype(np.float64) * back),
                               rtol=1e-5 if dtype == np.float32 else 1e-12)
