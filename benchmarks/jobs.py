"""What one training run is asked to do, and how runner scripts hand their own figures back.

Kept free of heavy imports: the runner scripts import it before they import their tool.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

RESULT_PREFIX = "benchmark: "


@dataclass(frozen=True)
class Combo:
    """A model/loss pair: skip-gram or CBOW, trained by negative sampling or hierarchical softmax."""

    name: str
    label: str
    model: str
    hs: bool


COMBOS = {combo.name: combo for combo in (
    Combo("sg-ns", "SG+NS", "sg", False),
    Combo("cbow-ns", "CBOW+NS", "cbow", False),
    Combo("sg-hs", "SG+HS", "sg", True),
    Combo("cbow-hs", "CBOW+HS", "cbow", True),
)}


@dataclass(frozen=True)
class Job:
    """The settings of one run; the defaults are those of ``../shared/data/README.md``'s figures."""

    combo: str = "sg-ns"
    epochs: int = 1
    threads: int = 2
    dim: int = 100
    window: int = 5
    sample: float = 1e-4
    min_count: int = 5

    @property
    def model(self) -> str:
        return COMBOS[self.combo].model

    @property
    def hs(self) -> bool:
        return COMBOS[self.combo].hs

    @property
    def negative(self) -> int:
        """5 negative samples, or none where hierarchical softmax alone does the training."""
        return 0 if self.hs else 5

    @property
    def alpha(self) -> float:
        """The C tool's starting learning rates, given to every tool explicitly."""
        return 0.025 if self.model == "sg" else 0.05

    def train_config(self, **overrides):
        """The job as w2vfast's ``TrainConfig`` (imported here: runners of other tools never need it)."""
        from w2vfast.config import TrainConfig

        settings = dict(model=self.model, hs=self.hs, negative=self.negative, alpha=self.alpha, dim=self.dim,
                        window=self.window, sample=self.sample, min_count=self.min_count, epochs=self.epochs,
                        threads=self.threads)
        return TrainConfig(**{**settings, **overrides})

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Job":
        return cls(**json.loads(text))


def print_result(**figures) -> None:
    """A runner's own measurements, as one line the harness finds in the run's log."""
    print(RESULT_PREFIX + json.dumps(figures), flush=True)


def read_result(log_text: str) -> dict:
    """The figures a runner printed with ``print_result``; empty when it printed none."""
    for line in reversed(log_text.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    return {}


def failed(run: dict) -> bool:
    """Whether a measured run failed: a non-zero exit, or what the harness found wrong with it."""
    return run["exit_code"] != 0 or "failure" in run
