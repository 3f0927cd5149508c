"""The window update against a plain NumPy statement of the same maths, for every blocking path."""

import numpy as np
import pytest
from numba import njit

from w2vfast import kernels


@njit(fastmath=True, error_model="numpy")
def _logistic_of(values, result):
    for p in range(values.shape[0]):
        result[p] = kernels._logistic(values[p])


def _reference_sigmoid(x):
    exact = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    return np.where(x >= 6, 1.0, np.where(x <= -6, 0.0, exact))


def test_logistic_is_exact_to_a_millionth_and_saturates_like_the_c_tool():
    x = np.concatenate([np.linspace(-9, 9, 200_001), [-6, 6, -5.999999, 5.999999, 0, -0.0]]).astype(np.float32)
    result = np.empty_like(x)
    _logistic_of(x, result)
    assert np.abs(result - _reference_sigmoid(x)).max() < 2e-6
    assert np.all(result[x >= 6] == 1) and np.all(result[x <= -6] == 0)
    assert np.all(np.diff(result[np.argsort(x, kind="stable")]) >= -1e-6)  # monotone within rounding


def padded(matrix):
    """``matrix`` as float32 rows padded with zeros, the layout the kernels train."""
    rows = kernels.zero_rows(*matrix.shape)
    rows[:, :matrix.shape[1]] = matrix
    return rows


@pytest.mark.parametrize("n_in", [1, 2, 3, 4, 5, 6, 7, 8, 10])
@pytest.mark.parametrize("n_out", [1, 2, 3, 5, 6, 7, 14])
def test_train_outputs_matches_the_matrix_products(n_in, n_out):
    rng = np.random.default_rng(n_in * 100 + n_out)
    dim, vocab = 100, 40
    inputs = padded(rng.normal(0, 0.3, (10, dim)))
    out = padded(rng.normal(0, 0.3, (vocab, dim)))
    rows = rng.integers(0, vocab, 16).astype(np.int32)
    rows[min(1, n_out - 1)] = rows[0]  # a repeated output row, as two equal negatives give
    labels = (rng.random(16) < 0.3).astype(np.float32)
    grads = padded(rng.normal(0, 0.1, (10, dim)))  # the kernel adds to what is there
    scores = np.zeros(10 * 16 + 8, np.float32)
    alpha = np.float32(0.025)

    inputs64, out64 = inputs[:n_in, :dim].astype(np.float64), out[:, :dim].astype(np.float64)
    chosen = out64[rows[:n_out]]
    g = (labels[:n_out] - _reference_sigmoid(inputs64 @ chosen.T)) * alpha
    want_grads = grads[:n_in, :dim] + g @ chosen
    want_out = out64.copy()
    np.add.at(want_out, rows[:n_out], g.T @ inputs64)

    kernels.train_outputs(inputs, n_in, out, rows, labels, n_out, alpha, grads, scores)
    np.testing.assert_allclose(grads[:n_in, :dim], want_grads, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out[:, :dim], want_out, rtol=1e-4, atol=1e-5)
    assert not out[:, dim:].any() and not grads[:, dim:].any()  # the padding stays zero
