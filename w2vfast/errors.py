"""The exceptions the CLI turns into one line and a non-zero exit status."""

import signal


class W2VError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class OutputFailed(W2VError):
    """The vectors could not be written, but the run is kept whole in ``checkpoint``; the caller may set
    ``resume_command`` to say how to write them once the cause is mended."""

    def __init__(self, reason: str, checkpoint: str) -> None:
        super().__init__(reason, checkpoint)
        self.reason = reason
        self.checkpoint = checkpoint
        self.resume_command: str | None = None

    def __str__(self) -> str:
        how = self.resume_command or "resuming it"
        return (f"{self.reason}; the run is kept in {self.checkpoint}, "
                f"and once that is mended {how} writes the vectors")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the tool; ``checkpoint`` is where the run was saved, if it was, and
    the caller may set ``resume_command`` to say how to go on.

    A ``KeyboardInterrupt``, so callers that already handle Ctrl-C handle this too.
    """

    def __init__(self, signum: int, checkpoint: str | None = None) -> None:
        super().__init__(signum, checkpoint)
        self.signum = signum
        self.checkpoint = checkpoint
        self.resume_command: str | None = None

    @property
    def exit_status(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum

    def __str__(self) -> str:
        name = signal.Signals(self.signum).name
        if self.checkpoint is None:
            return f"stopped by {name}"
        saved = f"stopped by {name}; the run so far is saved in {self.checkpoint}"
        return saved if self.resume_command is None else f"{saved}; go on with: {self.resume_command}"
