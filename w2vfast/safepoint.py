"""What a training run does between kernel calls, where its state is consistent: check, save, stop."""

from __future__ import annotations

from typing import Callable

from .checkpoint import Checkpointer
from .corpus import EncodedCorpus
from .errors import Interrupted, W2VError
from .interrupt import StopRequest
from .progress import Progress


class SafePoint:
    """Called with each position a run reaches: refuses diverged weights, saves when due, stops when
    asked, and at each epoch's end calls ``on_epoch_end`` with the epoch.

    Weights are checked for NaN or infinity at the end of every epoch and before every save, so a
    checkpoint never keeps a diverged run. A save fails the run only when it was the last chance
    (a stop was asked for); otherwise the previous checkpoint stays and training goes on. What
    ``on_epoch_end`` raises stops the run there, after the save that was due.
    """

    def __init__(self, trainer, encoded: EncodedCorpus, keeper: Checkpointer | None, stop: StopRequest,
                 progress: Progress, on_epoch_end: Callable[[int], None] | None = None) -> None:
        self.trainer = trainer
        self.encoded = encoded
        self.keeper = keeper
        self.stop = stop
        self.progress = progress
        self.on_epoch_end = on_epoch_end

    def __call__(self, position: tuple[int, int]) -> None:
        epoch, sentence = position
        epoch_end = sentence == self.encoded.n_sentences
        last = epoch_end and epoch == self.trainer.config.epochs - 1
        stopping = self.stop.signum is not None
        save = self.keeper is not None and (stopping or last or self.keeper.due())
        if epoch_end or save:
            self.trainer.check_finite(epoch, self.progress)
        if save:
            try:
                self.keeper.save(self.trainer, self.encoded, position)
            except Interrupted as again:  # a second signal gives the save up: the checkpoint is the last one
                self.stop.signum = again.signum
                self._stop(unsaved=f"a second {again.name} gave the save up")
            except W2VError as exc:
                if stopping:
                    self._stop(unsaved=str(exc))
                self.progress.say(self.keeper.failed(exc), even_if_quiet=True)
        if stopping:
            self._stop()
        if epoch_end and self.on_epoch_end is not None:
            try:
                self.on_epoch_end(epoch)
            except BaseException:
                self.progress.close()
                raise

    def after_training(self) -> None:
        """Stop for a signal that came after the last call's check (while its checkpoint was being
        saved, say): the run was asked to stop, and its checkpoint, if kept, holds the finished run."""
        if self.stop.signum is not None:
            self._stop()

    def _stop(self, unsaved: str | None = None) -> None:
        """Raise the stop; ``unsaved`` says why its save failed, and the checkpoint is named only if
        one is there (from an earlier save)."""
        self.progress.close()
        kept = self.keeper is not None and (unsaved is None or self.keeper.kept)
        raise Interrupted(self.stop.signum, self.keeper.path if kept else None, unsaved)
