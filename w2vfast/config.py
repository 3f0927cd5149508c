"""Training options and every default of a run, the C tool's where it has one; values are checked up front.

The command line takes its defaults (and the ones ``--help`` shows) from here, so there is one source.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os

from .errors import InvalidArgument, WrongType, is_switch

MODELS = ("sg", "cbow")
DEFAULT_ALPHA = {"sg": 0.025, "cbow": 0.05}
MIN_ALPHA_FRACTION = 1e-4  # the final learning rate, by default: alpha times this
CHECKPOINT_MINUTES = 30.0  # between checkpoints, by default
MAX_SENTENCE_WORDS = 10_000
# ``w2vfast phrases``: word2phrase's defaults, and gensim's documented example threshold for npmi.
PHRASE_SCORINGS = ("default", "npmi")
PHRASE_MIN_COUNT = 5
PHRASE_THRESHOLD = {"default": 100.0, "npmi": 0.5}
PHRASE_DELIMITER = b"_"
RESTRICT_VOCAB = 300_000  # gensim's default: the words known to an evaluation
MOST_INT32 = 2**31 - 1  # the kernels index rows and buffers in int32
MOST_WORDS = 1 << 62  # words counted in int64, with room to add them up
MOST_EPOCHS = 1_000_000  # epochs times the corpus's words count in int64
FLOAT32_LEAST, FLOAT32_MOST = 1.401298464324817e-45, 3.4028234663852886e38  # the kernels' learning rate
MOST_THREADS = 1024  # each thread has rows (and, in phrases, a pair table) of its own
_INTEGERS = ("dim", "window", "negative", "min_count", "max_vocab", "epochs", "threads", "seed")
_NUMBERS = ("alpha", "min_alpha", "sample")
_MAY_BE_NONE = ("max_vocab", "alpha", "min_alpha", "threads")
_SWITCHES = ("hs", "cbow_mean")


@dataclasses.dataclass
class TrainConfig:
    """Every knob that shapes a training run. ``None`` for ``alpha`` and ``min_alpha`` means the model's
    default (``DEFAULT_ALPHA``, alpha times ``MIN_ALPHA_FRACTION``), for ``threads`` every core."""

    model: str = "sg"
    dim: int = 100
    window: int = 5
    negative: int = 5
    hs: bool = False
    sample: float = 1e-3
    min_count: int = 5
    max_vocab: int | None = None
    alpha: float | None = None
    min_alpha: float | None = None
    epochs: int = 5
    threads: int | None = None
    cbow_mean: bool = True
    seed: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.model, str):  # a NumPy array of one string passed ``in`` and failed the JSON header
            raise WrongType(f"--model must be {' or '.join(map(repr, MODELS))}, not {self.model!r:.40}")
        if self.model not in MODELS:
            raise InvalidArgument(f"--model must be {' or '.join(map(repr, MODELS))}, not {self.model!r}")
        self.model = str(self.model)  # NumPy's str too
        for name in _NUMBERS:
            value = getattr(self, name)
            if (value is None and name not in _MAY_BE_NONE) or value is not None and (
                    isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise WrongType(f"--{name.replace('_', '-')} must be a number, not {value!r:.40}")
            if value is not None:  # NumPy's too, which a checkpoint's header (JSON) cannot hold
                setattr(self, name, float(value))
        if self.alpha is None:
            self.alpha = DEFAULT_ALPHA[self.model]
        if self.min_alpha is None:
            self.min_alpha = self.alpha * MIN_ALPHA_FRACTION
        if self.threads is None:
            self.threads = os.cpu_count() or 1
        for name in _INTEGERS:
            value = getattr(self, name)
            if (value is None and name not in _MAY_BE_NONE) or value is not None and (
                    isinstance(value, bool) or not isinstance(value, numbers.Integral)):
                raise WrongType(f"--{name.replace('_', '-')} must be an integer, not {value!r:.40}")
            if value is not None:
                setattr(self, name, int(value))
        for name in _SWITCHES:  # "false" would count as true; 0 and 1 are gensim's
            value = getattr(self, name)
            if not is_switch(value):
                raise WrongType(f"--{name.replace('_', '-')} must be True or False, not {value!r:.40}")
            setattr(self, name, bool(value))
        for name in ("dim", "window", "epochs", "threads"):
            if getattr(self, name) <= 0:
                raise InvalidArgument(f"--{name} must be a positive integer, not {getattr(self, name)}")
        for name, most in (("dim", MOST_INT32), ("window", MOST_INT32), ("negative", MOST_INT32),
                           ("epochs", MOST_EPOCHS), ("threads", MOST_THREADS)):
            if getattr(self, name) > most:
                raise InvalidArgument(f"--{name} must be at most {most:,}, not {getattr(self, name):,}")
        if self.min_count < 1:
            raise InvalidArgument(f"--min-count must be at least 1, not {self.min_count}")
        if self.max_vocab is not None and self.max_vocab <= 0:
            raise InvalidArgument(f"--max-vocab must be positive, not {self.max_vocab}")
        if self.negative < 0:
            raise InvalidArgument(f"--negative must be 0 or more, not {self.negative}")
        if self.negative == 0 and not self.hs:
            raise InvalidArgument("nothing to train: --negative 0 needs --hs (hierarchical softmax)")
        if not FLOAT32_LEAST <= self.alpha <= FLOAT32_MOST:  # NaN fails too
            raise InvalidArgument(f"--alpha must be a positive number that float32 holds, not {self.alpha}")
        if not 0 <= self.min_alpha <= self.alpha:
            raise InvalidArgument(f"--min-alpha must lie between 0 and --alpha ({self.alpha}), not {self.min_alpha}")
        if not 0 <= self.sample < math.inf:
            raise InvalidArgument(f"--sample must be a finite number, 0 or more, not {self.sample}")
        if not 0 <= self.seed < 2**63:
            raise InvalidArgument(f"--seed must be between 0 and 2**63-1, not {self.seed}")


DEFAULTS = {field.name: field.default for field in dataclasses.fields(TrainConfig)}
