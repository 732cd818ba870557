"""dropout: the kept positions follow the generator, inverted scaling, the gradient through the same mask,
identity in eval mode and repeatability under ``ms.manual_seed``."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import microseq as ms
from microseq.testing import arrays, check_gradients, shapes


@given(
    x=arrays(shapes(max_dims=3, max_side=4)),
    p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_dropout_forward_and_gradient_with_a_seeded_generator(x, p, seed):
    out = ms.dropout(ms.Tensor(x), p, generator=np.random.default_rng(seed))
    if p == 0.0:
        np.testing.assert_array_equal(out.data, x)
    else:
        keep = np.random.default_rng(seed).random(x.shape) >= p
        expected = np.where(keep, x / (1 - p), 0.0) if p < 1 else np.zeros_like(x)
        np.testing.assert_allclose(out.data, expected, rtol=1e-15)
    # the same seed for every call, so finite differences see the same mask as backward
    check_gradients(lambda x: ms.dropout(x, p, generator=np.random.default_rng(seed)), x)


def test_dropout_is_identity_in_eval_and_reproducible_under_manual_seed():
    x = ms.Tensor(np.ones((200, 50)))
    assert ms.dropout(x, 0.5, training=False) is x
    ms.manual_seed(11)
    first = ms.dropout(x, 0.3).data
    ms.manual_seed(11)
    np.testing.assert_array_equal(ms.dropout(x, 0.3).data, first)
    kept = (first != 0).mean()
    assert abs(kept - 0.7) < 0.02  # 10,000 draws: 5 standard deviations
    assert abs(first.mean() - 1.0) < 0.03  # inverted dropout keeps the expectation
