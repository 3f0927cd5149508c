"""The window update against a plain NumPy statement of the same maths, for every blocking path."""

import numpy as np
import pytest
from numba import njit

from w2vfast import kernels
from w2vfast.vocab import huffman_tree, negative_sampling_table


@njit(fastmath=True)
def _sigmoids_of(scores, n):
    kernels._logistic_all(scores, n)


@njit
def _sigmoids_with_loss_of(scores, n, labels, n_out, loss):
    kernels._sigmoids_with_loss(scores, n, labels, n_out, loss)


@njit
def window_loss(loss):
    """The loss that a thread's lanes ``loss`` (``make_losses``) hold, as ``train_blocks`` folds it."""
    return kernels._fold_loss(loss)


def _reference_sigmoid(x):
    exact = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    return np.where(x >= 6, 1.0, np.where(x <= -6, 0.0, exact))


def test_logistic_is_exact_to_a_millionth_and_saturates_like_the_c_tool():
    x = np.concatenate([np.linspace(-9, 9, 200_001), [-6, 6, -5.999999, 5.999999, 0, -0.0]]).astype(np.float32)
    result = np.concatenate([x, np.zeros(8, np.float32)])
    _sigmoids_of(result, len(x))
    result = result[:len(x)]
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

    want_loss = np.logaddexp(0.0, (1.0 - 2.0 * labels[:n_out]) * (inputs64 @ chosen.T)).sum()  # -log sigmoid(+-x)

    loss = kernels.make_losses(1).lanes[0]
    kernels.train_outputs(out, grads, scores, inputs, n_in, rows, labels, n_out, alpha, loss)
    assert window_loss(loss) == pytest.approx(want_loss, rel=1e-5)
    np.testing.assert_allclose(grads[:n_in, :dim], want_grads, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out[:, :dim], want_out, rtol=1e-4, atol=1e-5)
    assert not out[:, dim:].any() and not grads[:, dim:].any()  # the padding stays zero


def test_loss_is_right_far_into_both_saturations():
    """The loss pass, a window's worth of pairs at a time, against float64: pairs scored up to +-10,000,
    where the sigmoid itself is exactly 0 or 1. What lies past the last pair and label (read, not
    used) is NaN and 7, and the sigmoids are those of the pass without the loss, to a few units in the
    last place."""
    rng = np.random.default_rng(3)
    xs = np.concatenate([np.linspace(-100, 100, 4001), [0.0, 1e-6, -1e-6, 87.0, -87.0, 1e4, -1e4]])
    labels = (rng.random(len(xs)) < 0.5).astype(np.float32)
    loss = kernels.make_losses(1).lanes[0]
    for start in range(0, len(xs), 120):
        x = xs[start:start + 120].astype(np.float32)
        n_out = len(x) // 2 if len(x) % 2 == 0 else len(x)  # two inputs where the chunk splits evenly
        scores = np.full(len(x) + 8, np.nan, np.float32)
        scores[:len(x)] = x
        window_labels = np.full(n_out + 8, 7.0, np.float32)
        window_labels[:n_out] = labels[start:start + n_out]
        without_loss = scores.copy()
        _sigmoids_with_loss_of(scores, len(x), window_labels, n_out, loss)
        got = window_loss(loss)
        label = np.tile(labels[start:start + n_out], len(x) // n_out).astype(np.float64)
        assert got == pytest.approx(np.logaddexp(0.0, (1 - 2 * label) * x).sum(), rel=1e-5, abs=1e-5)
        _sigmoids_of(without_loss, len(x))
        np.testing.assert_allclose(scores[:len(x)], without_loss[:len(x)], rtol=1e-6, atol=5e-7)


def test_loss_of_a_window_past_the_products_renormalisation():
    """A window of 1,000 pairs (125 vectors: the product of the factors is renormalised after 64),
    twice into the same lanes before they are folded, as the windows of a sentence are."""
    rng = np.random.default_rng(5)
    n_in, n_out = 25, 40
    loss = kernels.make_losses(1).lanes[0]
    want = 0.0
    for _ in range(2):
        x = (rng.standard_normal(n_in * n_out) * 4).astype(np.float32)
        labels = np.zeros(n_out + 8, np.float32)
        labels[:n_out] = rng.random(n_out) < 0.5
        scores = np.concatenate([x, np.zeros(8, np.float32)])
        _sigmoids_with_loss_of(scores, len(x), labels, n_out, loss)
        want += np.logaddexp(0.0, (1 - 2 * np.tile(labels[:n_out], n_in).astype(np.float64)) * x).sum()
    assert window_loss(loss) == pytest.approx(want, rel=1e-5)
    assert window_loss(loss) == 0.0  # folding starts the lanes again


WINDOW_CASES = {
    "sg-ns": dict(cbow=False, cbow_mean=True, hs=False, negative=4),
    "sg-hs": dict(cbow=False, cbow_mean=True, hs=True, negative=0),
    "cbow-mean-ns": dict(cbow=True, cbow_mean=True, hs=False, negative=4),
    "cbow-mean-hs": dict(cbow=True, cbow_mean=True, hs=True, negative=0),
    "cbow-sum-ns-hs": dict(cbow=True, cbow_mean=False, hs=True, negative=3),
    "sg-ns-hs": dict(cbow=False, cbow_mean=True, hs=True, negative=3),
}


def reference_window(syn0, syn1neg, syn1, context, centre, negatives, tree, case, alpha):
    """One window in plain float64 NumPy: the inputs (each context row, or their mean or sum), trained
    against the Huffman path of the centre word and then against the centre word and the negatives
    other than it, every gradient taken before any output row changes; then every context row gets its
    input's gradient. Also returns the window's log loss, summed over its (input, output) pairs."""
    syn0, syn1neg, syn1 = (m.astype(np.float64) for m in (syn0, syn1neg, syn1))
    rows = syn0[context]
    if case["cbow"]:
        rows = rows.mean(axis=0, keepdims=True) if case["cbow_mean"] else rows.sum(axis=0, keepdims=True)
    grads = np.zeros_like(rows)
    losses = []
    if case["hs"]:
        points, codes, lengths = tree
        path = points[centre, :lengths[centre]]
        losses.append((syn1, path, 1.0 - codes[centre, :lengths[centre]]))
    if case["negative"]:
        outputs = [centre] + [w for w in negatives if w != centre]
        losses.append((syn1neg, np.array(outputs), np.array([1.0] + [0.0] * (len(outputs) - 1))))
    loss = 0.0
    for matrix, outputs, labels in losses:
        chosen = matrix[outputs]
        loss += np.logaddexp(0.0, (1.0 - 2.0 * labels) * (rows @ chosen.T)).sum()  # -log sigmoid(+-x)
        g = (labels - _reference_sigmoid(rows @ chosen.T)) * alpha
        grads += g @ chosen
        np.add.at(matrix, outputs, g.T @ rows)
    np.add.at(syn0, context, grads if not case["cbow"] else np.repeat(grads, len(context), axis=0))
    return syn0, syn1neg, syn1, loss


@pytest.mark.parametrize("name", WINDOW_CASES)
def test_a_window_trains_as_the_numpy_statement_of_its_model_and_losses(name):
    """Each model and loss path of ``train_window``, CBOW's sum as well as its mean, and both losses
    in one run, against plain NumPy: a path that ignored ``cbow_mean`` or dropped a loss would fail."""
    case = WINDOW_CASES[name]
    rng = np.random.default_rng(7)
    vocab, dim, window, alpha = 12, 20, 3, np.float32(0.05)
    counts = sorted(rng.integers(1, 100, vocab), reverse=True)
    tree = huffman_tree(np.array(counts))
    weights = kernels.Weights(padded(rng.normal(0, 0.5, (vocab, dim))), padded(rng.normal(0, 0.5, (vocab, dim))),
                              padded(rng.normal(0, 0.5, (vocab - 1, dim))))
    before = [m[:, :dim].copy() for m in weights]
    tables = kernels.Tables(np.ones(vocab, np.float32), negative_sampling_table(np.array(counts)), *tree)
    params = kernels.make_params(case["cbow"], case["cbow_mean"], case["hs"], case["negative"], window, alpha,
                                 alpha * 1e-4, 1000)
    scratch = kernels.make_scratch(1, dim, window, case["negative"], max(case["negative"] + 1, tree[0].shape[1]), 50)
    buffers = kernels.Scratch(*(part[0] for part in scratch))  # one thread's
    context = [3, 0, 7, 3, 9]  # a repeated context word, as a sentence can hold
    centre = 5
    buffers.context[:len(context)] = context
    negatives = [2, 5, 11, 2][:max(case["negative"], 1)]  # the centre word itself and a repeat among them
    buffers.ahead[:len(negatives)] = negatives
    in_place = kernels.thread_rows(weights, kernels.make_sharing((0, 0), (0, 0), (0, 0), 1), 0, 1)  # no hot rows
    loss = kernels.make_losses(1).lanes[0]
    kernels.train_window(weights, buffers.context, buffers.inputs, buffers.grads, buffers.scores, buffers.out_rows,
                         buffers.out_labels, buffers.ahead, np.int32(centre), np.int64(len(context)), tables, params,
                         alpha, in_place, loss, np.uint64(99))
    *want, want_loss = reference_window(*before, context, centre, negatives[:case["negative"]], tree, case, alpha)
    assert window_loss(loss) == pytest.approx(want_loss, rel=1e-5)
    for got, expected, old, name in zip(weights, want, before, ("syn0", "syn1neg", "syn1")):
        np.testing.assert_allclose(got[:, :dim], expected, rtol=1e-4, atol=1e-5, err_msg=name)
        assert not got[:, dim:].any()
    trained = {"syn0": True, "syn1neg": case["negative"] > 0, "syn1": case["hs"]}
    for got, old, name in zip(weights, before, ("syn0", "syn1neg", "syn1")):
        assert (not np.array_equal(got[:, :dim], old)) == trained[name], name
