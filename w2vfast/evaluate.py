"""How good vectors are: analogy accuracy and correlation with human word-pair similarity scores.

Both count questions the way gensim's ``evaluate_word_analogies`` and ``evaluate_word_pairs`` do, so
figures can be compared with published ones: only the first ``restrict_vocab`` words are known,
words are compared upper-cased unless ``case_insensitive=False`` (the first, most frequent, spelling
wins), and a question with an unknown word is skipped and counted, not scored; with
``dummy4unknown``, as in gensim, it is scored instead as a wrong answer or a pair of similarity 0.
"""

from __future__ import annotations

import codecs
import math
import re
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .config import RESTRICT_VOCAB
from .errors import DamagedFile, InvalidArgument, WrongType, check_count
from .sources import read_decompressed

ANALOGY_CANDIDATES = 5  # gensim looks this far down the 3CosAdd ranking for a word not in the question
_SCORES_PER_BLOCK = 1 << 22


@dataclass
class AnalogySection:
    """One ``: section`` of an analogy file: questions answered right and wrong, and skipped."""

    name: str
    correct: list[tuple[str, str, str, str]] = field(default_factory=list)
    incorrect: list[tuple[str, str, str, str]] = field(default_factory=list)
    skipped: int = 0

    @property
    def answered(self) -> int:
        return len(self.correct) + len(self.incorrect)

    @property
    def accuracy(self) -> float | None:
        return len(self.correct) / self.answered if self.answered else None


@dataclass
class AnalogyResult:
    """Every section of an analogy file, and how many lines were not questions (not four words)."""

    sections: list[AnalogySection]
    invalid_lines: int

    @property
    def total(self) -> AnalogySection:
        return AnalogySection("Total accuracy", [q for s in self.sections for q in s.correct],
                              [q for s in self.sections for q in s.incorrect],
                              sum(s.skipped for s in self.sections))


@dataclass
class PairsResult:
    """Correlations over the pairs of known words, and how many pairs and lines were left out."""

    pearson: float
    spearman: float
    pairs: int
    out_of_vocabulary: int
    invalid_lines: int

    @property
    def oov_percent(self) -> float:
        return 100.0 * self.out_of_vocabulary / (self.pairs + self.out_of_vocabulary)


def _known_words(vectors, restrict_vocab: int | None, case_insensitive: bool) -> dict[str, int]:
    """Each (upper-cased) word among the first ``restrict_vocab`` to the index of its first spelling."""
    check_count("restrict_vocab", restrict_vocab)
    fold = str.upper if case_insensitive else str
    known: dict[str, int] = {}
    for index, key in enumerate(vectors.index_to_key[:restrict_vocab]):
        known.setdefault(fold(key), index)
    return known


def _read_lines(path: str, encoding: str = "utf-8", any_newline: bool = False) -> list[str]:
    """The file's lines, gzip, bzip2 or xz decompressed (as gensim reads them), without the byte order
    mark an editor may have put first (it would hide the first line's ': section'). Lines end at
    ``\n``, or with ``any_newline`` at ``\r`` too, as in a file gensim opens as text (its pairs; its
    questions it splits at ``\n`` alone, so a file of ``\r`` line ends was one ': section' line)."""
    if not isinstance(encoding, str):
        raise WrongType(f"encoding must be the name of one, such as 'utf-8', not {encoding!r:.40}")
    text = read_decompressed(path, path)
    try:
        text = text.removeprefix(codecs.BOM_UTF8).decode(encoding, "surrogateescape")
        return re.split("\r\n|\r|\n", text) if any_newline else text.split("\n")
    except LookupError:
        raise InvalidArgument(f"unknown encoding {encoding!r}") from None


def evaluate_analogies(vectors, path: str, restrict_vocab: int | None = RESTRICT_VOCAB,
                       case_insensitive: bool = True, dummy4unknown: bool = False) -> AnalogyResult:
    """Answer every "a is to b as c is to ?" question of a ``questions-words.txt`` style file.

    The answer is the best 3CosAdd word among the first ``restrict_vocab``, other than a, b and c;
    like gensim, the first of the top five candidates whose folded spelling is not a, b or c.
    """
    fold = str.upper if case_insensitive else str
    known = _known_words(vectors, restrict_vocab, case_insensitive)
    sections: list[AnalogySection] = []
    questions, triples, invalid = [], [], 0
    for number, line in enumerate(_read_lines(path, any_newline=True), 1):  # old Mac's line ends too
        if line.startswith(": "):
            sections.append(AnalogySection(line.lstrip(": ").strip()))
            continue
        words = line.split()
        if len(words) != 4:
            invalid += bool(line.strip())
            continue
        if not sections:
            raise DamagedFile(f"{path}:{number}: a question comes before the first ': section' line")
        question = tuple(fold(w) for w in words)
        answerable = all(w in known for w in question)
        if answerable:
            triples.append([known[w] for w in question[:3]])
        if answerable or dummy4unknown:  # in file order: gensim lists the wrong answers so
            questions.append((sections[-1], question, answerable))
        else:
            sections[-1].skipped += 1
    searched = len(vectors.index_to_key[:restrict_vocab])
    candidates = _analogy_candidates(vectors, np.array(triples, dtype=np.int64).reshape(-1, 3), searched)
    answers = iter(candidates)
    for section, question, answerable in questions:
        ranked = next(answers) if answerable else np.empty(0, dtype=np.int64)  # scored as wrong
        predicted = None
        for index in ranked[ranked >= 0]:
            predicted = fold(vectors.index_to_key[index])
            if predicted not in question[:3]:
                break
        (section.correct if predicted == question[3] else section.incorrect).append(question)
    return AnalogyResult(sections, invalid)


def _analogy_candidates(vectors, triples: np.ndarray, searched: int) -> np.ndarray:
    """For each (a, b, c) row, the indices below ``searched`` of the ``ANALOGY_CANDIDATES`` words
    nearest to b - a + c, best first, leaving out a, b and c (-1 pads when too few are left)."""
    keep = min(ANALOGY_CANDIDATES, searched)
    ranked = np.full((len(triples), keep), -1, dtype=np.int64)
    norms = np.maximum(vectors.norms[:searched], np.finfo(np.float32).tiny)
    block = max(1, _SCORES_PER_BLOCK // max(searched, 1))
    for start in range(0, len(triples) if keep else 0, block):
        part = triples[start:start + block]
        units = vectors.unit_rows(part.ravel()).reshape(len(part), 3, -1)
        queries = units[:, 1] + units[:, 2] - units[:, 0]
        queries /= np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-30)
        cosines = queries.astype(np.float32) @ vectors.vectors[:searched].T
        cosines /= norms
        np.put_along_axis(cosines, part, -np.inf, axis=1)
        _best_columns(cosines, ranked[start:start + block])
    return ranked


@njit(cache=True)
def _best_columns(scores, best):
    """Fill each row of ``best`` with the columns of that row's highest scores, best first; -inf
    scores are left out and a tie keeps the lower column first."""
    keep = best.shape[1]
    top = np.empty(keep, dtype=scores.dtype)
    for row in range(scores.shape[0]):
        filled = 0
        lowest = -np.inf
        for column in range(scores.shape[1]):
            score = scores[row, column]
            if not score > lowest:
                continue
            at = filled if filled < keep else keep - 1
            while at > 0 and score > top[at - 1]:
                top[at] = top[at - 1]
                best[row, at] = best[row, at - 1]
                at -= 1
            top[at] = score
            best[row, at] = column
            filled = min(filled + 1, keep)
            if filled == keep:
                lowest = top[keep - 1]


def evaluate_word_pairs(vectors, path: str, delimiter: str = "\t", restrict_vocab: int | None = RESTRICT_VOCAB,
                        case_insensitive: bool = True, dummy4unknown: bool = False,
                        encoding: str = "utf-8") -> PairsResult:
    """Pearson and Spearman correlation between human scores (``word1 TAB word2 TAB score`` lines,
    ``#`` comments) and the words' cosines, over the pairs whose two words are known (and the others
    at cosine 0 with ``dummy4unknown``); a line whose score is not a finite number is counted
    invalid, as NaN would give a rank to anything."""
    if delimiter is not None and not isinstance(delimiter, str):
        raise WrongType(f"delimiter must be a string or None (whitespace), not {delimiter!r:.40}")
    if delimiter == "":
        raise InvalidArgument("delimiter must not be empty: it is what separates a line's fields")
    fold = str.upper if case_insensitive else str
    known = _known_words(vectors, restrict_vocab, case_insensitive)
    pairs, gold, unknown_gold, out_of_vocabulary, invalid = [], [], [], 0, 0
    for line in _read_lines(path, encoding, any_newline=True):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(delimiter)
        try:
            first, second, score = fold(fields[0].strip()), fold(fields[1].strip()), float(fields[2])
        except (IndexError, ValueError):
            invalid += 1
            continue
        if len(fields) != 3 or not math.isfinite(score):
            invalid += 1
        elif first in known and second in known:
            pairs.append((known[first], known[second]))
            gold.append(score)
        else:
            out_of_vocabulary += 1
            unknown_gold.append(score)
    if len(pairs) + (len(unknown_gold) if dummy4unknown else 0) < 2:  # no correlation; gensim's ValueError too
        shape = "word1 word2 score" if delimiter is None else f"word1{delimiter}word2{delimiter}score"
        known_pairs = "no pair of known words" if not pairs else "one pair of known words alone"
        raise InvalidArgument(f"{path}: {known_pairs} (out of vocabulary: {out_of_vocabulary}, "
                              f"lines not {shape!r}: {invalid})")
    index = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    model = np.einsum("ij,ij->i", vectors.unit_rows(index[:, 0]), vectors.unit_rows(index[:, 1]))
    if dummy4unknown:  # the order of the pairs does not change a correlation
        model, gold = np.r_[model, np.zeros(len(unknown_gold))], gold + unknown_gold
    gold = np.array(gold, dtype=np.float64)
    return PairsResult(pearson(gold, model), spearman(gold, model), len(pairs), out_of_vocabulary, invalid)


def average_ranks(values) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of the ranks they span."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts_group = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(starts_group) - 1
    first = np.flatnonzero(starts_group)
    last = np.r_[first[1:], len(values)] - 1
    ranks = np.empty(len(values))
    ranks[order] = ((first + last) / 2 + 1)[group]
    return ranks


def pearson(x, y) -> float:
    """Pearson's r; NaN when either side is constant."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    y = np.asarray(y, dtype=np.float64) - np.mean(y)
    scale = np.linalg.norm(x) * np.linalg.norm(y)
    return float(np.clip(x @ y / scale, -1.0, 1.0)) if scale > 0 else float("nan")


def spearman(x, y) -> float:
    """Spearman's rho: Pearson's r of the average ranks."""
    return pearson(average_ranks(x), average_ranks(y))
