"""Next-token probabilities: temperature, top-k, greedy."""

import numpy as np
import pytest

from microseq.training.sampling import next_token_probabilities


def test_next_token_probabilities():
    logits = np.array([1.0, 3.0, 2.0, -1.0])
    p = next_token_probabilities(logits)
    np.testing.assert_allclose(p, np.exp(logits) / np.exp(logits).sum())
    top2 = next_token_probabilities(logits, top_k=2)
    assert top2[0] == 0 and top2[3] == 0 and top2.sum() == pytest.approx(1)
    cold = next_token_probabilities(logits, temperature=0.05)
    assert cold[1] > 0.999
    with pytest.raises(ValueError, match="temperature must be positive"):
        next_token_probabilities(logits, temperature=0)


# -- plot ---------------------------------------------------------------------------------------------------------
