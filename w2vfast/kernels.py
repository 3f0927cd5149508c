"""Hogwild training kernels: every model/loss pair is one window update built from shared primitives.

One update trains a window's *inputs* against a set of *outputs*:

- the inputs are rows of ``syn0``: each context word on its own (skip-gram) or their mean/sum as one
  row (CBOW), gathered into a per-thread scratch matrix;
- the outputs are rows of an output matrix with 0/1 labels, chosen by the loss: negative sampling
  gives the centre word (1) and ``negative`` words drawn from counts^0.75 (0), shared by the whole
  window; hierarchical softmax gives the inner nodes on the centre word's Huffman path (1 - code).
  ``train_window`` is the one place that picks the losses of a run.

``train_outputs`` then does the three small matrix products (scores = inputs x outputs^T, input
gradients = G x outputs, output update = G^T x inputs) on rows that stay in cache, and the window
scatters the input gradients back into ``syn0``. Negatives are drawn one window ahead so that their
rows, like the next centre word's and the next new context word's, are already on their way from
memory when the window needs them. Threads claim blocks of sentences one at a time and update the
shared matrices without locks; each keeps its own random state and scratch buffers.

Rows that every thread writes all the time (the frequent words' rows, the top of the Huffman tree)
would bounce their cache lines between cores at every write. Each thread therefore trains private
copies of those *hot* rows, kept after the shared rows of the same matrix, so that a hot row is only
a different row index (``own_row``); every ``Sharing.merge_words`` corpus words, and at the start and
end of every call, it adds what it changed since the last merge to the shared rows and starts its
copies again from them (``merge_private_rows``). Between calls the shared rows hold the whole model.

Every row (weights and scratch) is padded with zeros to whole vectors of 8 floats
(``padded_width``), and every loop over a row runs to ``shape[1] & _WHOLE_VECTORS``, which tells
the compiler that the count is a whole number of vectors. With dim 100 that saves each loop its
4-float remainder pass and each dot product its second horizontal sum. The padding stays zero: it
only ever adds zero times a weight.

With ``--report-loss`` the sigmoid pass also sums the log loss, in LLVM vector code
(``_sigmoids_with_loss``); without it, nothing of the loss is compiled.

The file reads top-down: the arrays, the driver, the private rows, the losses, the window update,
the sigmoid pass with the loss, the primitives.
Every helper takes the arrays it writes first. Each compiled call chain stays inside this file:
Numba's cache does not notice changes to a function that lives in another file.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.core.compiler import Compiler
from numba.extending import intrinsic, overload

# ---------------------------------------------------------------------------------------------
# The arrays the kernels share
# ---------------------------------------------------------------------------------------------

Weights = namedtuple("Weights", "syn0 syn1neg syn1")
Tables = namedtuple("Tables", "keep_prob alias hs_points hs_codes hs_lengths")
Params = namedtuple("Params", "cbow cbow_mean hs negative window alpha min_alpha total_words")
Scratch = namedtuple("Scratch", "sentence context inputs grads scores out_rows out_labels ahead")
# ``hot[m]`` is (first, count) for matrix m of ``Weights``: its rows first to first + count - 1 are
# trained on private copies by each thread (see ``private_rows``), merged every ``merge_words``
# corpus words. An array, not tuples: a tuple field would not pass into the parallel loop.
Sharing = namedtuple("Sharing", "hot merge_words")
Losses = namedtuple("Losses", "totals lanes")

CACHE_LINE = 64
VECTOR_FLOATS = 8  # one 256-bit AVX register
_WHOLE_VECTORS = -VECTOR_FLOATS  # n & _WHOLE_VECTORS: n rounded down to whole vectors
_ONE = np.float32(1.0)


def padded_width(dim: int) -> int:
    """The stored width of a ``dim``-float row: whole vectors of ``VECTOR_FLOATS``."""
    return -(-dim // VECTOR_FLOATS) * VECTOR_FLOATS


def zero_rows(n: int, dim: int) -> np.ndarray:
    """``n`` zeroed rows of ``dim`` floats, padded for the kernels; ``[:, :dim]`` is the matrix."""
    return np.zeros((n, padded_width(dim)), dtype=np.float32)


def make_params(cbow: bool, cbow_mean: bool, hs: bool, negative: int, window: int, alpha: float,
                min_alpha: float, total_words: int) -> Params:
    """Build ``Params`` with fixed scalar types, so every run reuses one compiled kernel."""
    return Params(bool(cbow), bool(cbow_mean), bool(hs), np.int64(negative), np.int64(window),
                  np.float32(alpha), np.float32(min_alpha), np.int64(max(total_words, 1)))


def make_sharing(syn0: tuple[int, int], syn1neg: tuple[int, int], syn1: tuple[int, int], merge_words: int) -> Sharing:
    """Build ``Sharing`` from each matrix's hot rows (first, count), with fixed types, so every run
    reuses one compiled kernel."""
    return Sharing(np.array([syn0, syn1neg, syn1], dtype=np.int64), np.int64(merge_words))


def private_rows(shared_rows: int, hot: tuple[int, int], threads: int) -> int:
    """Rows of a matrix with ``shared_rows`` rows and hot rows ``hot``: after the shared rows, each
    thread's private copies of the hot rows, then each thread's copies as last merged."""
    return shared_rows + 2 * threads * hot[1]


def make_scratch(threads: int, dim: int, window: int, negative: int, max_outputs: int,
                 max_sentence: int) -> Scratch:
    """Per-thread buffers, allocated once per run so the kernels never allocate."""
    width = 2 * window
    dim = padded_width(dim)
    return Scratch(
        per_thread(threads, (max_sentence,), np.int32),
        per_thread(threads, (width,), np.int32),
        per_thread(threads, (width, dim), np.float32),
        per_thread(threads, (width, dim), np.float32),
        per_thread(threads, (width * max_outputs + VECTOR_FLOATS,), np.float32),
        per_thread(threads, (max_outputs,), np.int32),
        per_thread(threads, (max_outputs + VECTOR_FLOATS,), np.float32),
        per_thread(threads, (max(negative, 1),), np.int32),
    )


def make_losses(threads: int) -> Losses:
    """Per-thread log loss: ``train_blocks`` adds thread t's to ``totals[t, 0]`` (float64), folding in
    after every sentence the vector sums that its windows keep in ``lanes[t]`` (see ``_sigmoids_with_loss``)."""
    lanes = per_thread(threads, (_LOSS_VECTORS * VECTOR_FLOATS,), np.float32)
    lanes[:, _PRODUCT * VECTOR_FLOATS:(_PRODUCT + 1) * VECTOR_FLOATS] = 1.0
    return Losses(per_thread(threads, (1,), np.float64), lanes)


def per_thread(threads: int, shape: tuple, dtype) -> np.ndarray:
    """``threads`` zeroed buffers of ``shape``, each followed by at least a cache line of padding.

    Threads write their buffers every window; two buffers sharing a cache line would bounce it
    between cores (false sharing), which cost SG+NS about a quarter of its speed on two threads.
    """
    row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(dtype).itemsize
    first = shape[0] + -(-CACHE_LINE // row_bytes)
    return np.zeros((threads, first) + tuple(shape[1:]), dtype=dtype)


# ---------------------------------------------------------------------------------------------
# The driver: blocks of sentences, claimed by one worker per thread
# ---------------------------------------------------------------------------------------------

@njit(parallel=True, fastmath=True, cache=True)
def train_blocks(weights, scratch, rng_states, block_words, next_block, corpus, sentence_starts, blocks,
                 words_before, tables, params, sharing, losses):
    """Train the blocks of sentences ``blocks[b]`` to ``blocks[b + 1]``, one worker per thread.

    Each worker claims the next untrained block from the counter ``next_block`` until none is left,
    so a thread slowed by its blocks or by the machine does not leave the others idle, and adds the
    corpus words of block ``b`` to ``block_words[b]``. Worker ``t`` keeps its own random state and
    scratch. ``words_before`` is how many corpus words earlier epochs and calls covered; the
    learning rate decays linearly with a word's overall position, so it does not depend on which
    thread trains it or when. ``sharing`` names the hot rows that each thread trains on private
    copies, and how often it merges them. ``losses`` (``make_losses``) gets each thread's log loss,
    or is None: a run that does not compute it is compiled without it, so it costs nothing.
    """
    n_blocks = blocks.shape[0] - 1
    threads = rng_states.shape[0]
    n_workers = min(threads, n_blocks)
    decay = (params.alpha - params.min_alpha) / np.float32(params.total_words)
    call_start = sentence_starts[blocks[0]]
    for t in prange(n_workers):
        rng = rng_states[t]
        sentence = scratch.sentence[t]
        ahead = scratch.ahead[t]
        own = thread_rows(weights, sharing, np.int64(t), threads)  # the loop index is sometimes unsigned
        merge_private_rows(weights, own)  # start from the shared rows as the last call left them
        rng = draw_negatives(ahead, params.negative, tables.alias, weights.syn1neg, own[1], rng)
        since_merge = 0
        loss = thread_loss_lanes(losses, t)
        while True:
            b = claim_next(next_block)
            if b >= n_blocks:
                break
            for s in range(blocks[b], blocks[b + 1]):
                start = sentence_starts[s]
                end = sentence_starts[s + 1]
                position = words_before + (start - call_start)
                alpha = max(params.min_alpha, params.alpha - decay * np.float32(position))
                n, rng = subsample(sentence, corpus, start, end, tables.keep_prob, rng)
                rng = train_sentence(weights, sentence, n, tables, params, alpha, scratch.context[t],
                                     scratch.inputs[t], scratch.grads[t], scratch.scores[t],
                                     scratch.out_rows[t], scratch.out_labels[t], ahead, own, loss, rng)
                fold_thread_loss(losses, t)
                block_words[b] += end - start
                since_merge += end - start
                if since_merge >= sharing.merge_words:
                    merge_private_rows(weights, own)
                    since_merge = 0
        merge_private_rows(weights, own)
        rng_states[t] = rng


# The loss helpers choose between a run with the loss and one without when they are typed: a test of
# an array against None is otherwise left to run time, and a thread's lanes are typed as optional.
def thread_loss_lanes(losses, thread):
    """Thread ``thread``'s loss lanes (see ``make_losses``), or None in a run without the loss."""


@overload(thread_loss_lanes, inline="always")
def _thread_loss_lanes(losses, thread):
    if isinstance(losses, types.NoneType):
        return lambda losses, thread: None
    return lambda losses, thread: losses.lanes[thread]


def fold_thread_loss(losses, thread):
    """Add the loss that thread ``thread``'s lanes hold to its total, after a sentence; nothing in a
    run without the loss."""


@overload(fold_thread_loss, inline="always")
def _fold_thread_loss(losses, thread):
    if isinstance(losses, types.NoneType):
        return lambda losses, thread: None

    def fold(losses, thread):
        total = losses.totals[thread]  # through the row: in a parallel loop, totals[thread, 0] += was lost
        total[0] += _fold_loss(losses.lanes[thread])
    return fold


@njit(inline="always")
def subsample(sentence, corpus, start, end, keep_prob, rng):
    """Copy the words of one sentence that survive subsampling into ``sentence``."""
    n = 0
    for p in range(start, end):
        word = corpus[p]
        keep = keep_prob[word]
        if keep < _ONE:
            rng = _next_random(rng)
            if _uniform(rng) >= keep:
                continue
        sentence[n] = word
        n += 1
    return n, rng


@njit(inline="always", fastmath=True)
def train_sentence(weights, sentence, n, tables, params, alpha, context, inputs, grads, scores, rows, labels,
                   ahead, own, loss, rng):
    """Slide the window over the ``n`` (subsampled) words of ``sentence``, with one thread's scratch
    buffers (see ``Scratch``) and its private rows ``own`` (see ``own_rows``). The buffers are passed
    as arrays, not as the thread's own ``Scratch``: reading them out of a tuple in every window cost
    CBOW 3-8%."""
    window = params.window
    for i in range(n):
        rng = _next_random(rng)
        radius = window - np.int64(_below(rng, window))
        lo = max(0, i - radius)
        hi = min(n, i + radius + 1)
        n_context = 0
        for j in range(lo, hi):
            if j != i:
                context[n_context] = own_row(sentence[j], own[0])
                n_context += 1
        if n_context == 0:
            continue
        prefetch_next_window(weights, sentence, n, i, tables, params, own)
        rng = train_window(weights, context, inputs, grads, scores, rows, labels, ahead, sentence[i], n_context,
                           tables, params, alpha, own, loss, rng)
    return rng


@njit(inline="always")
def prefetch_next_window(weights, sentence, n, i, tables, params, own):
    """Start loading the rows the coming windows need: a new context word and the next centre."""
    ahead = i + params.window + 1
    if ahead < n:
        prefetch_row(weights.syn0, own_row(sentence[ahead], own[0]))
    if i + 1 < n:
        centre = sentence[i + 1]
        if params.negative > 0:
            prefetch_row(weights.syn1neg, own_row(centre, own[1]))
        if params.hs:
            for d in range(tables.hs_lengths[centre]):
                prefetch_row(weights.syn1, own_row(tables.hs_points[centre, d], own[2]))


@njit(inline="always", fastmath=True)
def train_window(weights, context, inputs, grads, scores, rows, labels, ahead, centre, n_context, tables, params,
                 alpha, own, loss, rng):
    """Train the window around ``centre`` (its context words in ``context``) with each loss the run
    uses, then add the input gradients to the context rows of ``syn0``. The window's log loss goes
    into this thread's ``loss`` lanes, if not None (see ``train_outputs``)."""
    n_in = gather_inputs(inputs, grads, weights.syn0, context, n_context, params.cbow, params.cbow_mean)
    if params.hs:
        n_out = huffman_outputs(rows, labels, centre, tables.hs_points, tables.hs_codes, tables.hs_lengths, own[2])
        train_outputs(weights.syn1, grads, scores, inputs, n_in, rows, labels, n_out, alpha, loss)
    if params.negative > 0:
        n_out = negative_outputs(rows, labels, own_row(centre, own[1]), params.negative, ahead)
        rng = draw_negatives(ahead, params.negative, tables.alias, weights.syn1neg, own[1], rng)
        train_outputs(weights.syn1neg, grads, scores, inputs, n_in, rows, labels, n_out, alpha, loss)
    scatter_grads(weights.syn0, grads, context, n_context, params.cbow)
    return rng


# ---------------------------------------------------------------------------------------------
# Private copies of the hot rows: a different row index, merged into the shared rows often
# ---------------------------------------------------------------------------------------------

# Compiled apart, not inlined: building the tuple of tuples inside the parallel loop defeats Numba's
# array analysis of that loop.
@njit(cache=True)
def thread_rows(weights, sharing, thread, threads):
    """Where ``thread`` keeps its copies of each matrix's hot rows (see ``own_rows``)."""
    return (own_rows(weights.syn0, sharing.hot[0], thread, threads),
            own_rows(weights.syn1neg, sharing.hot[1], thread, threads),
            own_rows(weights.syn1, sharing.hot[2], thread, threads))


@njit(inline="always")
def own_rows(matrix, hot, thread, threads):
    """Where ``thread`` keeps its copies of ``matrix``'s hot rows ``hot`` (first, count): the hot
    range and the offsets of its private copies and of their last merged values from the shared rows."""
    first, count = hot[0], hot[1]
    shared_rows = matrix.shape[0] - 2 * threads * count
    return (first, count, shared_rows + thread * count - first, shared_rows + (threads + thread) * count - first)


@njit(inline="always")
def own_row(row, own):
    """The row this thread trains for ``row``: its private copy when ``row`` is hot (one unsigned
    comparison covers both ends of the range), else the shared row."""
    first, count, offset, _ = own
    return np.int64(row) + offset if np.uint64(np.int64(row) - first) < np.uint64(count) else np.int64(row)


# Compiled once and called, not inlined at its three call sites: it runs once per merge, and inlined
# its loops made the cold compile of a 2-thread run 41-43 s instead of 31-33 s (26.7 s before the
# private rows).
@njit(fastmath=True, cache=True)
def merge_private_rows(weights, own):
    """Add to the shared hot rows what this thread changed in its copies since they were last merged,
    and start its copies again from the shared rows as they are now."""
    _merge_rows(weights.syn0, own[0])
    _merge_rows(weights.syn1neg, own[1])
    _merge_rows(weights.syn1, own[2])


@njit(inline="always", fastmath=True)
def _merge_rows(matrix, own):
    first, count, offset, merged = own
    dim = matrix.shape[1] & _WHOLE_VECTORS
    for row in range(first, first + count):
        for k in range(dim):
            value = matrix[row, k] + (matrix[row + offset, k] - matrix[row + merged, k])
            matrix[row, k] = value
            matrix[row + offset, k] = value
            matrix[row + merged, k] = value


# ---------------------------------------------------------------------------------------------
# Losses: the output rows a window trains against, and their labels
# ---------------------------------------------------------------------------------------------

@njit(inline="always")
def negative_outputs(rows, labels, centre, negative, ahead):
    """The centre word's row as the positive, then the negatives' rows drawn ahead, skipping the
    centre word's (rows as this thread trains them: see ``own_row``)."""
    rows[0] = centre
    labels[0] = _ONE
    n = np.int64(1)
    for q in range(negative):
        word = ahead[q]
        if word == centre:
            continue
        rows[n] = word
        labels[n] = np.float32(0.0)
        n += 1
    return n


@njit(cache=True)
def draw_negatives(ahead, negative, alias, syn1neg, own, rng):
    """Draw the next window's negatives from the alias table now, and start loading their rows (the
    rows this thread trains: its private copies for hot words, see ``own_row``).

    One random number gives both the word (the high half of 32 random bits times the vocabulary
    size) and the coin (the low half, uniform within that word's share); the coin picks the word or
    its alias without a branch, which a coin of even odds would mispredict half the time.
    """
    vocab_size = np.uint64(alias.shape[0])
    for q in range(negative):
        rng = _next_random(rng)
        pick = (rng >> np.uint64(32)) * vocab_size
        word = np.int64(pick >> np.uint64(32))
        coin = pick & np.uint64(0xFFFFFFFF)
        keep = np.uint64(alias[word, 0])
        other = np.int64(alias[word, 1])
        row = own_row(word if coin <= keep else other, own)
        ahead[q] = row
        prefetch_row(syn1neg, row)
    return rng


@njit(inline="always")
def huffman_outputs(rows, labels, centre, points, codes, lengths, own):
    """The inner nodes on the centre word's Huffman path, labelled 1 - branch code."""
    n = np.int64(lengths[centre])
    for d in range(n):
        rows[d] = own_row(points[centre, d], own)
        labels[d] = _ONE - np.float32(codes[centre, d])
    return n


# ---------------------------------------------------------------------------------------------
# The window update: gather the inputs, three small matrix products, scatter the gradients
# ---------------------------------------------------------------------------------------------

@njit(inline="always", fastmath=True)
def gather_inputs(inputs, grads, syn0, context, n_context, cbow, cbow_mean):
    """Fill the input rows (one per context word, or their CBOW combination) and zero their gradients."""
    dim = syn0.shape[1] & _WHOLE_VECTORS
    if cbow:
        for k in range(dim):
            inputs[0, k] = np.float32(0.0)
            grads[0, k] = np.float32(0.0)
        for c in range(n_context):
            word = context[c]
            for k in range(dim):
                inputs[0, k] += syn0[word, k]
        if cbow_mean:
            scale = _ONE / np.float32(n_context)
            for k in range(dim):
                inputs[0, k] *= scale
        return 1
    for c in range(n_context):
        word = context[c]
        for k in range(dim):
            inputs[c, k] = syn0[word, k]
            grads[c, k] = np.float32(0.0)
    return n_context


@njit(inline="always", fastmath=True)
def scatter_grads(syn0, grads, context, n_context, cbow):
    """Add each input gradient to its context rows (the CBOW gradient goes to every context word)."""
    dim = syn0.shape[1] & _WHOLE_VECTORS
    for c in range(n_context):
        word = context[c]
        g = 0 if cbow else c
        for k in range(dim):
            syn0[word, k] += grads[g, k]


class _NoAliasCompiler(Compiler):
    """Numba's compiler, telling LLVM that a function's array arguments never overlap.

    Without it LLVM guards every vectorised loop that writes one array and reads another with
    run-time overlap checks, and train_outputs has dozens of such loops per window. A function
    built with it must only ever be given distinct arrays.
    """

    def define_pipelines(self):
        self.state.flags.noalias = True
        return super().define_pipelines()


# Compiled once and called, not inlined into its two call sites (the losses): inlining it doubled
# the kernel's cold compile time for no speed. NumPy's error model: the sigmoid's division needs no
# zero check (its divisor is at least 1), and with the check the loop would not vectorise.
@njit(fastmath=True, error_model="numpy", cache=True, pipeline_class=_NoAliasCompiler)
def train_outputs(out, grads, scores, inputs, n_in, rows, labels, n_out, alpha, loss):
    """Logistic update of ``n_in`` input rows against ``n_out`` output rows; gradients into ``grads``.
    ``loss`` is this thread's loss lanes (``make_losses``), where the pairs' log loss before the update
    is added, or None: the two are compiled apart, and without a loss nothing of it is left. With the
    loss, the sigmoids come from the vector code that computes it (``_sigmoids_with_loss``), which
    differs from ``_logistic_all`` by a few units in the last place: a run with the loss trains very
    slightly different weights.

    ``scores`` holds pair (input i, output j) at ``i * n_out + j``: first its dot product, then its
    sigmoid (all pairs in one vectorised pass), then its coefficient (label - sigmoid) * alpha.
    The window's products are done in small 2-D blocks so that each row loaded from L1 serves
    several others: input rows in pairs against four output rows at a time for the dot products
    and the input gradients, output rows in pairs against blocks of inputs for their update (with
    dim 100, one row against four others per pass was bound by its loads). CBOW's single input
    takes four output rows per pass in every product. The arrays must be distinct, their rows padded
    to whole vectors (``padded_width``), and ``scores`` and ``labels`` need room for a vector
    (``VECTOR_FLOATS``) past their last pair and label.
    """
    if n_in == 1:
        _scores_of_one_input(scores, inputs, 0, out, rows, n_out)
        if loss is None:
            _logistic_all(scores, n_out)
        else:
            _sigmoids_with_loss(scores, n_out, labels, n_out, loss)
        _grads_of_one_input(grads, scores, 0, out, rows, labels, n_out, alpha)
        _update_outputs_from_single_input(out, rows, n_out, inputs, scores)
        return
    i = 0
    while i + 2 <= n_in:
        _scores_of_two_inputs(scores, inputs, i, out, rows, n_out)
        i += 2
    if i < n_in:
        _scores_of_one_input(scores, inputs, i, out, rows, n_out)
    if loss is None:
        _logistic_all(scores, n_in * n_out)
    else:
        _sigmoids_with_loss(scores, n_in * n_out, labels, n_out, loss)
    i = 0
    while i + 2 <= n_in:
        _grads_of_two_inputs(grads, scores, i, out, rows, labels, n_out, alpha)
        i += 2
    if i < n_in:
        _grads_of_one_input(grads, scores, i, out, rows, labels, n_out, alpha)
    j = 0
    while j + 2 <= n_out:
        _update_two_outputs(out, rows[j], rows[j + 1], j, inputs, n_in, scores, n_out)
        j += 2
    if j < n_out:
        _update_one_output(out, rows[j], j, inputs, n_in, scores, n_out)


@njit(inline="always", fastmath=True)
def _scores_of_one_input(scores, inputs, i, out, rows, n_out):
    """Dot products of input row ``i`` with every output row, four output rows per pass."""
    dim = inputs.shape[1] & _WHOLE_VECTORS
    at = i * n_out
    j = 0
    while j + 4 <= n_out:
        r0, r1, r2, r3 = _four(rows, j)
        a0 = a1 = a2 = a3 = np.float32(0.0)
        for k in range(dim):
            x = inputs[i, k]
            a0 += x * out[r0, k]
            a1 += x * out[r1, k]
            a2 += x * out[r2, k]
            a3 += x * out[r3, k]
        scores[at + j] = a0
        scores[at + j + 1] = a1
        scores[at + j + 2] = a2
        scores[at + j + 3] = a3
        j += 4
    while j < n_out:
        row = rows[j]
        a0 = np.float32(0.0)
        for k in range(dim):
            a0 += inputs[i, k] * out[row, k]
        scores[at + j] = a0
        j += 1


@njit(inline="always", fastmath=True)
def _scores_of_two_inputs(scores, inputs, i, out, rows, n_out):
    """Dot products of input rows ``i`` and ``i + 1`` with every output row: a pass over four output
    rows makes eight sums from six row loads, where one input row made four from five."""
    dim = inputs.shape[1] & _WHOLE_VECTORS
    at = i * n_out
    nx = at + n_out
    j = 0
    while j + 4 <= n_out:
        r0, r1, r2, r3 = _four(rows, j)
        a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = np.float32(0.0)
        for k in range(dim):
            x = inputs[i, k]
            y = inputs[i + 1, k]
            o0 = out[r0, k]
            o1 = out[r1, k]
            o2 = out[r2, k]
            o3 = out[r3, k]
            a0 += x * o0
            a1 += x * o1
            a2 += x * o2
            a3 += x * o3
            b0 += y * o0
            b1 += y * o1
            b2 += y * o2
            b3 += y * o3
        scores[at + j] = a0
        scores[at + j + 1] = a1
        scores[at + j + 2] = a2
        scores[at + j + 3] = a3
        scores[nx + j] = b0
        scores[nx + j + 1] = b1
        scores[nx + j + 2] = b2
        scores[nx + j + 3] = b3
        j += 4
    while j < n_out:
        row = rows[j]
        a0 = b0 = np.float32(0.0)
        for k in range(dim):
            o0 = out[row, k]
            a0 += inputs[i, k] * o0
            b0 += inputs[i + 1, k] * o0
        scores[at + j] = a0
        scores[nx + j] = b0
        j += 1


@njit(inline="always", fastmath=True)
def _logistic_all(scores, n):
    """Replace the first ``n`` scores by their sigmoids in one vectorised pass."""
    for p in range((n + VECTOR_FLOATS - 1) & _WHOLE_VECTORS):  # whole vectors: no scalar tail
        scores[p] = _logistic(scores[p])


@njit(inline="always", fastmath=True)
def _coefficient(scores, labels, j, at, alpha):
    """Turn the sigmoid at ``scores[at + j]`` into its coefficient (label - sigmoid) * alpha, and keep
    it there for the output update."""
    g = (labels[j] - scores[at + j]) * alpha
    scores[at + j] = g
    return g


@njit(inline="always", fastmath=True)
def _grads_of_one_input(grads, scores, i, out, rows, labels, n_out, alpha):
    """Add to ``grads[i]`` the output rows weighted by their coefficients, four rows per pass."""
    dim = grads.shape[1] & _WHOLE_VECTORS
    at = i * n_out
    j = 0
    while j + 4 <= n_out:
        r0, r1, r2, r3 = _four(rows, j)
        g0 = _coefficient(scores, labels, j, at, alpha)
        g1 = _coefficient(scores, labels, j + 1, at, alpha)
        g2 = _coefficient(scores, labels, j + 2, at, alpha)
        g3 = _coefficient(scores, labels, j + 3, at, alpha)
        for k in range(dim):
            grads[i, k] += (g0 * out[r0, k] + g1 * out[r1, k]) + (g2 * out[r2, k] + g3 * out[r3, k])
        j += 4
    while j < n_out:
        r0 = rows[j]
        g0 = _coefficient(scores, labels, j, at, alpha)
        for k in range(dim):
            grads[i, k] += g0 * out[r0, k]
        j += 1


@njit(inline="always", fastmath=True)
def _grads_of_two_inputs(grads, scores, i, out, rows, labels, n_out, alpha):
    """Gradients of input rows ``i`` and ``i + 1`` together: each loaded output row serves both."""
    dim = grads.shape[1] & _WHOLE_VECTORS
    at = i * n_out
    nx = at + n_out
    j = 0
    while j + 4 <= n_out:
        r0, r1, r2, r3 = _four(rows, j)
        g0 = _coefficient(scores, labels, j, at, alpha)
        g1 = _coefficient(scores, labels, j + 1, at, alpha)
        g2 = _coefficient(scores, labels, j + 2, at, alpha)
        g3 = _coefficient(scores, labels, j + 3, at, alpha)
        h0 = _coefficient(scores, labels, j, nx, alpha)
        h1 = _coefficient(scores, labels, j + 1, nx, alpha)
        h2 = _coefficient(scores, labels, j + 2, nx, alpha)
        h3 = _coefficient(scores, labels, j + 3, nx, alpha)
        for k in range(dim):
            o0 = out[r0, k]
            o1 = out[r1, k]
            o2 = out[r2, k]
            o3 = out[r3, k]
            grads[i, k] += (g0 * o0 + g1 * o1) + (g2 * o2 + g3 * o3)
            grads[i + 1, k] += (h0 * o0 + h1 * o1) + (h2 * o2 + h3 * o3)
        j += 4
    while j < n_out:
        r0 = rows[j]
        g0 = _coefficient(scores, labels, j, at, alpha)
        h0 = _coefficient(scores, labels, j, nx, alpha)
        for k in range(dim):
            o0 = out[r0, k]
            grads[i, k] += g0 * o0
            grads[i + 1, k] += h0 * o0
        j += 1


@njit(inline="always", fastmath=True)
def _update_two_outputs(out, r0, r1, j, inputs, n_in, scores, n_out):
    """Add to output rows ``r0`` and ``r1`` (outputs ``j`` and ``j + 1``) every input row times its
    coefficient, in one pass per block of inputs: each loaded input row serves both outputs."""
    dim = inputs.shape[1] & _WHOLE_VECTORS
    i = 0
    while i + 4 <= n_in:
        at = i * n_out + j
        g0 = scores[at]
        g1 = scores[at + n_out]
        g2 = scores[at + 2 * n_out]
        g3 = scores[at + 3 * n_out]
        h0 = scores[at + 1]
        h1 = scores[at + 1 + n_out]
        h2 = scores[at + 1 + 2 * n_out]
        h3 = scores[at + 1 + 3 * n_out]
        for k in range(dim):
            x0 = inputs[i, k]
            x1 = inputs[i + 1, k]
            x2 = inputs[i + 2, k]
            x3 = inputs[i + 3, k]
            out[r0, k] += (g0 * x0 + g1 * x1) + (g2 * x2 + g3 * x3)
            out[r1, k] += (h0 * x0 + h1 * x1) + (h2 * x2 + h3 * x3)
        i += 4
    if i + 2 <= n_in:
        at = i * n_out + j
        g0 = scores[at]
        g1 = scores[at + n_out]
        h0 = scores[at + 1]
        h1 = scores[at + 1 + n_out]
        for k in range(dim):
            x0 = inputs[i, k]
            x1 = inputs[i + 1, k]
            out[r0, k] += g0 * x0 + g1 * x1
            out[r1, k] += h0 * x0 + h1 * x1
        i += 2
    if i < n_in:
        at = i * n_out + j
        g0 = scores[at]
        h0 = scores[at + 1]
        for k in range(dim):
            x0 = inputs[i, k]
            out[r0, k] += g0 * x0
            out[r1, k] += h0 * x0


@njit(inline="always", fastmath=True)
def _update_one_output(out, row, j, inputs, n_in, scores, n_out):
    """Add to output ``row`` (output ``j``) every input row times its coefficient, blocks of 4, 2, 1."""
    dim = inputs.shape[1] & _WHOLE_VECTORS
    i = 0
    while i + 4 <= n_in:
        at = i * n_out + j
        g0 = scores[at]
        g1 = scores[at + n_out]
        g2 = scores[at + 2 * n_out]
        g3 = scores[at + 3 * n_out]
        for k in range(dim):
            out[row, k] += ((g0 * inputs[i, k] + g1 * inputs[i + 1, k])
                            + (g2 * inputs[i + 2, k] + g3 * inputs[i + 3, k]))
        i += 4
    if i + 2 <= n_in:
        g0 = scores[i * n_out + j]
        g1 = scores[(i + 1) * n_out + j]
        for k in range(dim):
            out[row, k] += g0 * inputs[i, k] + g1 * inputs[i + 1, k]
        i += 2
    if i < n_in:
        g0 = scores[i * n_out + j]
        for k in range(dim):
            out[row, k] += g0 * inputs[i, k]


@njit(inline="always", fastmath=True)
def _update_outputs_from_single_input(out, rows, n_out, inputs, scores):
    """The output update when the window has one input row (CBOW), four output rows per pass."""
    dim = inputs.shape[1] & _WHOLE_VECTORS
    j = 0
    while j + 4 <= n_out:
        r0, r1, r2, r3 = _four(rows, j)
        g0, g1, g2, g3 = _four(scores, j)
        for k in range(dim):
            x = inputs[0, k]
            out[r0, k] += g0 * x
            out[r1, k] += g1 * x
            out[r2, k] += g2 * x
            out[r3, k] += g3 * x
        j += 4
    while j < n_out:
        row = rows[j]
        g0 = scores[j]
        for k in range(dim):
            out[row, k] += g0 * inputs[0, k]
        j += 1


# ---------------------------------------------------------------------------------------------
# The sigmoid pass with the loss, in vector code: a window's scores eight at a time
# ---------------------------------------------------------------------------------------------
# Written as LLVM vector operations, not as a Numba loop: LLVM vectorises a loop over a window's scores
# 64 at a time on an AVX-512 machine and leaves the rest to scalar code, which is every score of a
# window with fewer than 64 pairs (all of CBOW, most of skip-gram with negative sampling); there a
# logarithm per score cost 5-14% more time. The pass without the loss stays ``_logistic_all``: in vector
# code it ranged from 5% faster to 5% slower by model and loss (a vector load of scores that were stored
# one at a time waits for the stores).

_LANES = ir.VectorType(ir.FloatType(), VECTOR_FLOATS)
_INT_LANES = ir.VectorType(ir.IntType(32), VECTOR_FLOATS)
_FAST = ("fast",)
_LN2 = float(np.log(2.0))
_TWO_THIRDS_BITS = 0x3F2AAAAB  # float32 2/3: splits a float into 2**k * m with m in [2/3, 4/3)
_RENORMALISE_EVERY = 64  # vectors: a product of 64 factors in [1, 2] stays within float32
# A thread's loss lanes (``make_losses``), vectors of ``VECTOR_FLOATS``: the product of 1 + e**-|x|,
# split off powers of two (as floats), and the sum of max(x, 0) - label x.
_PRODUCT, _POWERS, _LINEAR = 0, 1, 2
_LOSS_VECTORS = 3


def _log1p_over_r_coefficients(degree: int) -> tuple:
    """Polynomial coefficients (lowest first) for log(1 + r) / r on [-1/3, 1/3], fitted at Chebyshev
    nodes: times r, the logarithm of the m in [2/3, 4/3] that ``_split_exponent`` leaves."""
    nodes = np.cos(np.pi * (np.arange(512) + 0.5) / 512) / 3.0
    fit = np.polynomial.Chebyshev.fit(nodes, np.log1p(nodes) / nodes, degree, domain=[-1 / 3, 1 / 3])
    return tuple(float(np.float32(c)) for c in fit.convert(kind=np.polynomial.Polynomial).coef)


_LOG1P_OVER_R = _log1p_over_r_coefficients(7)  # relative error below 2e-7


def _splat(value, lanes=_LANES):
    return ir.Constant(lanes, [value] * VECTOR_FLOATS)


def _polynomial(builder, x, coefficients):
    value = _splat(float(coefficients[-1]))
    for c in reversed(coefficients[:-1]):
        value = builder.fadd(builder.fmul(value, x, flags=_FAST), _splat(float(c)), flags=_FAST)
    return value


def _call(builder, name, args, result=_LANES):
    function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(result, [a.type for a in args]), name)
    return builder.call(function, args, fastmath=_FAST)


def _split_exponent(builder, value):
    """Positive ``value`` as 2**k * m with m in [2/3, 4/3): k (as floats) and m."""
    bits = builder.bitcast(value, _INT_LANES)
    k = builder.ashr(builder.sub(bits, _splat(_TWO_THIRDS_BITS, _INT_LANES)), _splat(23, _INT_LANES))
    m = builder.bitcast(builder.sub(bits, builder.shl(k, _splat(23, _INT_LANES))), _LANES)
    return builder.sitofp(k, _LANES), m


def _sigmoid(builder, x):
    """Sigmoids of the lanes ``x``, as ``_logistic`` (to a few units in the last place): with
    u = e**-|x|, 1 / (1 + u) for x >= 0 and u / (1 + u) below, so that 1 + u is also the loss's
    log(1 + e**-|x|); within 1e-6 of the exact value, and 0 or 1 beyond +-6. e**-|x| is 2**t with
    t = -|x| log2 e (at least -126): 2**floor(t) from its bits, times a polynomial in the fraction.
    Returns the sigmoids and 1 + u."""
    t = _call(builder, "llvm.maxnum.v8f32", [
        builder.fmul(_call(builder, "llvm.fabs.v8f32", [x]), _splat(-float(_LOG2E)), flags=_FAST), _splat(-126.0)])
    whole = _call(builder, "llvm.floor.v8f32", [t])
    power = builder.bitcast(builder.shl(builder.add(builder.fptosi(whole, _INT_LANES), _splat(127, _INT_LANES)),
                                        _splat(23, _INT_LANES)), _LANES)
    fraction = builder.fsub(t, whole, flags=_FAST)
    u = builder.fmul(_polynomial(builder, fraction, (_C0, _C1, _C2, _C3, _C4)), power, flags=_FAST)
    one_plus_u = builder.fadd(_splat(1.0), u, flags=_FAST)
    sigmoid = builder.fdiv(builder.select(builder.fcmp_ordered(">=", x, _splat(0.0)), _splat(1.0), u), one_plus_u,
                           flags=_FAST)
    sigmoid = builder.select(builder.fcmp_ordered(">=", x, _splat(float(_SATURATION))), _splat(1.0), sigmoid)
    sigmoid = builder.select(builder.fcmp_ordered("<=", x, _splat(-float(_SATURATION))), _splat(0.0), sigmoid)
    return sigmoid, one_plus_u


def _floats(context, builder, array_type, array):
    return context.make_array(array_type)(context, builder, array).data


def _vector_at(builder, floats, index):
    """The vector of floats from ``floats[index]``, any alignment."""
    return builder.bitcast(builder.gep(floats, [index]), _LANES.as_pointer())


def _lanes_below(builder, first, count):
    """Which lanes of the vector from element ``first`` lie below element ``count``."""
    lanes = ir.VectorType(count.type, VECTOR_FLOATS)
    left = builder.insert_element(ir.Constant(lanes, None), builder.sub(count, first), ir.IntType(32)(0))
    left = builder.shuffle_vector(left, left, ir.Constant(_INT_LANES, [0] * VECTOR_FLOATS))
    return builder.icmp_signed(">", left, ir.Constant(lanes, list(range(VECTOR_FLOATS))))


def _loss_lanes(context, builder, array_type, array):
    """Pointers to a thread's loss lanes (see ``make_losses``): the product, the powers, the sum."""
    floats = _floats(context, builder, array_type, array)
    return [_vector_at(builder, floats, context.get_constant(types.intp, k * VECTOR_FLOATS))
            for k in (_PRODUCT, _POWERS, _LINEAR)]


def _whole_vectors(builder, n):
    return builder.udiv(builder.add(n, n.type(VECTOR_FLOATS - 1)), n.type(VECTOR_FLOATS))


@intrinsic
def _sigmoids_with_loss(typingctx, scores, n, labels, n_out, loss):
    """As ``_logistic_all``, and add the pairs' log loss, the sum over the ``n // n_out`` inputs and the
    ``n_out`` outputs of max(x, 0) + log(1 + e**-|x|) - label x, to a thread's ``loss`` lanes.

    No logarithm per score: the factors 1 + e**-|x| (in [1, 2]) are multiplied together and their
    logarithm taken when the lanes are folded (``_fold_loss``). The label term is each label vector
    times the scores of every input. It reads up to a vector past the last score and the last label,
    and masks what it read there, rather than write padding: a vector load of scalars stored just
    before would wait for the stores."""
    if not (isinstance(scores, types.Array) and isinstance(labels, types.Array) and isinstance(loss, types.Array)):
        return None

    def codegen(context, builder, signature, args):
        floats = _floats(context, builder, signature.args[0], args[0])
        n = context.cast(builder, args[1], signature.args[1], types.intp)
        label_floats = _floats(context, builder, signature.args[2], args[2])
        n_out = context.cast(builder, args[3], signature.args[3], types.intp)
        width = n.type(VECTOR_FLOATS)
        lanes = _loss_lanes(context, builder, signature.args[4], args[4])
        product, powers, linear = (cgutils.alloca_once_value(builder, builder.load(lane, align=4)) for lane in lanes)

        def add_to(accumulator, value):
            builder.store(builder.fadd(builder.load(accumulator), value, flags=_FAST), accumulator)

        def renormalise():
            k, m = _split_exponent(builder, builder.load(product))
            builder.store(m, product)
            add_to(powers, k)

        inputs = builder.udiv(n, n_out)
        with cgutils.for_range(builder, _whole_vectors(builder, n_out)) as column:
            first = builder.mul(column.index, width)
            labelled = _lanes_below(builder, first, n_out)
            minus_label = builder.fsub(_splat(0.0), builder.load(_vector_at(builder, label_floats, first), align=4),
                                       flags=_FAST)
            with cgutils.for_range(builder, inputs) as row:
                at = builder.add(builder.mul(row.index, n_out), first)
                x = builder.select(labelled, builder.load(_vector_at(builder, floats, at), align=4), _splat(0.0))
                add_to(linear, builder.fmul(x, minus_label, flags=_FAST))

        def add_vector(first, pairs):
            pointer = _vector_at(builder, floats, first)
            x = builder.load(pointer, align=4)
            sigmoid, one_plus_u = _sigmoid(builder, x)
            builder.store(sigmoid, pointer, align=4)
            positive = _call(builder, "llvm.maxnum.v8f32", [x, _splat(0.0)])
            if pairs is not None:
                one_plus_u = builder.select(pairs, one_plus_u, _splat(1.0))
                positive = builder.select(pairs, positive, _splat(0.0))
            builder.store(builder.fmul(builder.load(product), one_plus_u, flags=_FAST), product)
            add_to(linear, positive)

        full = builder.udiv(n, width)
        with cgutils.for_range(builder, full) as loop:
            add_vector(builder.mul(loop.index, width), None)
            due = builder.icmp_unsigned("==", builder.and_(loop.index, n.type(_RENORMALISE_EVERY - 1)),
                                        n.type(_RENORMALISE_EVERY - 1))
            with builder.if_then(due, likely=False):
                renormalise()
        tail = builder.mul(full, width)
        with builder.if_then(builder.icmp_unsigned("<", tail, n)):
            add_vector(tail, _lanes_below(builder, tail, n))
        renormalise()
        for lane, accumulator in zip(lanes, (product, powers, linear)):
            builder.store(builder.load(accumulator), lane, align=4)
        return context.get_dummy_value()

    return types.void(scores, n, labels, n_out, loss), codegen


@intrinsic
def _fold_loss(typingctx, loss):
    """The log loss held in a thread's ``loss`` lanes (see ``_sigmoids_with_loss``), which start again."""
    if not isinstance(loss, types.Array):
        return None

    def codegen(context, builder, signature, args):
        lanes = _loss_lanes(context, builder, signature.args[0], args[0])
        product, powers, linear = (builder.load(lane, align=4) for lane in lanes)
        k, m = _split_exponent(builder, product)
        r = builder.fsub(m, _splat(1.0), flags=_FAST)
        log_product = builder.fadd(builder.fmul(builder.fadd(powers, k, flags=_FAST), _splat(_LN2), flags=_FAST),
                                   builder.fmul(r, _polynomial(builder, r, _LOG1P_OVER_R), flags=_FAST), flags=_FAST)
        total = _call(builder, "llvm.vector.reduce.fadd.v8f32",
                      [ir.Constant(ir.FloatType(), 0.0), builder.fadd(log_product, linear, flags=_FAST)],
                      result=ir.FloatType())
        for lane, start in zip(lanes, (1.0, 0.0, 0.0)):
            builder.store(_splat(start), lane, align=4)
        return total

    return types.float32(loss), codegen


# ---------------------------------------------------------------------------------------------
# Primitives: the sigmoid, random numbers, prefetching, the shared block counter
# ---------------------------------------------------------------------------------------------

@njit(inline="always", fastmath=True)
def _logistic(x):
    """1 / (1 + e**-x) in straight-line arithmetic that the compiler turns into vector code, within
    1e-6 of the exact value; beyond |x| = 6 it is exactly 0 or 1, as the C tool's table makes it.
    Applied to a whole window's scores in one loop, it costs a fraction of a table read per score
    (the table's own error was 0.0015)."""
    clamped = min(max(x, -_SATURATION), _SATURATION)
    t = -clamped * _LOG2E
    whole = np.int32(t + np.float32(9.0)) - np.int32(9)  # floor: t + 9 > 0, where truncation is floor
    f = t - np.float32(whole)
    fraction = _C0 + f * (_C1 + f * (_C2 + f * (_C3 + f * _C4)))
    power = _float_from_bits((whole + np.int32(127)) << np.int32(23))
    value = _ONE / (_ONE + fraction * power)
    value = _ONE if x >= _SATURATION else value
    return np.float32(0.0) if x <= -_SATURATION else value


def _exp2_fraction_coefficients(degree: int) -> tuple:
    """Polynomial coefficients (lowest first) for 2**f on [0, 1], fitted at Chebyshev nodes."""
    nodes = 0.5 + 0.5 * np.cos(np.pi * (np.arange(256) + 0.5) / 256)
    fit = np.polynomial.Chebyshev.fit(nodes, 2.0 ** nodes, degree, domain=[0, 1])
    return tuple(np.float32(c) for c in fit.convert(kind=np.polynomial.Polynomial).coef)


_SATURATION = np.float32(6.0)
_LOG2E = np.float32(np.log2(np.e))
_C0, _C1, _C2, _C3, _C4 = _exp2_fraction_coefficients(4)  # relative error below 4e-6


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float32 whose IEEE bits are the low 32 of ``bits``: builds 2**n without a library call."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        low = builder.trunc(args[0], ir.IntType(32)) if bits.bitwidth > 32 else args[0]
        return builder.bitcast(low, ir.FloatType())

    return types.float32(bits), codegen


_LCG_MUL = np.uint64(25214903917)
_LCG_ADD = np.uint64(11)


@njit(inline="always")
def _next_random(state):
    return state * _LCG_MUL + _LCG_ADD


@njit(inline="always")
def _uniform(state):
    """A float32 in [0, 1) from the 24 best bits of the LCG state."""
    return np.float32(state >> np.uint64(40)) * np.float32(1.0 / 16777216.0)


@njit(inline="always")
def _below(state, n):
    """An integer in [0, n) by multiply-shift of 32 high bits: no division in the hot loop."""
    return np.int64(((state >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(inline="always")
def _four(values, j):
    return values[j], values[j + 1], values[j + 2], values[j + 3]


@intrinsic
def prefetch_row(typingctx, matrix, row):
    """Start loading the cache lines of ``matrix[row]``: a hint to the CPU, with no effect on results.

    Rows are picked at random (negatives, context words), so the hardware prefetcher cannot guess
    them; asking one window ahead hides most of the memory latency.
    """
    if not isinstance(matrix, types.Array) or matrix.ndim != 2 or not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        matrix_type, row_type = signature.args
        array = context.make_array(matrix_type)(context, builder, args[0])
        index = context.cast(builder, args[1], row_type, types.intp)
        zero = context.get_constant(types.intp, 0)
        start = builder.bitcast(cgutils.get_item_pointer(context, builder, matrix_type, array, [index, zero]),
                                ir.IntType(8).as_pointer())
        columns = cgutils.unpack_tuple(builder, array.shape, 2)[1]
        row_bytes = builder.mul(columns, context.get_constant(types.intp, matrix_type.dtype.bitwidth // 8))
        i32 = ir.IntType(32)
        hint = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer(), i32, i32, i32]),
            "llvm.prefetch.p0")
        line = context.get_constant(types.intp, CACHE_LINE)
        with cgutils.for_range_slice(builder, zero, row_bytes, line) as (offset, _):
            builder.call(hint, [builder.gep(start, [offset]), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(matrix, row), codegen


@intrinsic
def claim_next(typingctx, counter):
    """Take the next index from ``counter[0]`` atomically: threads share out blocks without a lock."""
    if not (isinstance(counter, types.Array) and counter.ndim == 1 and counter.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        counter_type = signature.args[0]
        array = context.make_array(counter_type)(context, builder, args[0])
        first = cgutils.get_item_pointer(context, builder, counter_type, array,
                                         [context.get_constant(types.intp, 0)])
        return builder.atomic_rmw("add", first, context.get_constant(types.int64, 1), "monotonic")

    return types.int64(counter), codegen
