"""The exceptions the CLI turns into one line and a non-zero exit status, and the check that refuses
the gensim arguments w2vfast does not implement."""

import numbers
import signal


class W2VError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class InvalidArgument(W2VError, ValueError):
    """A Python argument with a value w2vfast cannot use; a ``ValueError`` too, as gensim raises for those."""


class WrongType(W2VError, TypeError):
    """A Python argument of the wrong kind; a ``TypeError`` too, as gensim (and Python) raise for those."""


class NotTrainedFor(W2VError, RuntimeError):
    """A query the model's settings did not train it for; a ``RuntimeError`` too, as gensim raises for those."""


class NotReady(W2VError, RuntimeError):
    """A call before what it needs (training before a vocabulary); a ``RuntimeError`` too, as gensim raises."""


class UnreadableFile(W2VError, OSError):
    """A file that could not be opened or read; an ``OSError`` too, as Python (and gensim) raise for those."""


class MissingFile(UnreadableFile, FileNotFoundError):
    """A file that is not there; a ``FileNotFoundError`` too, which gensim users catch."""


class DamagedFile(W2VError, ValueError):
    """A file whose bytes are not the format asked for; a ``ValueError`` too, as gensim raises for those."""


class UndecodableWord(DamagedFile, UnicodeDecodeError):
    """A word that is not UTF-8 where only UTF-8 is taken; a ``UnicodeDecodeError`` too, as gensim's
    reader raises, which its users catch to read the file again with ``unicode_errors='ignore'``."""

    def __init__(self, message: str, cause: UnicodeDecodeError) -> None:
        UnicodeDecodeError.__init__(self, cause.encoding, cause.object, cause.start, cause.end, cause.reason)
        self.message = message

    def __str__(self) -> str:
        return self.message


def unreadable(message: str, error: OSError) -> UnreadableFile:
    """``message`` (which names the file and says why) as the kind of ``error``: missing or not."""
    return (MissingFile if isinstance(error, FileNotFoundError) else UnreadableFile)(message)


def is_switch(value) -> bool:
    """Whether ``value`` is True or False: a bool, NumPy's (a scalar or a 0-d array), or gensim's 0 or 1
    ('false' would be true)."""
    numpy_bool = getattr(value, "dtype", None) == bool and getattr(value, "shape", None) == ()
    return isinstance(value, bool) or numpy_bool or (isinstance(value, numbers.Integral) and value in (0, 1))


def check_count(name: str, value) -> None:
    """Refuse, naming it, a ``value`` that is neither None nor a whole number 0 or more (a row count,
    a limit): a bool is no number here, and a negative one would slice from the end."""
    if value is None:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise WrongType(f"{name} must be a whole number or None, not {value!r:.40}")
    if value < 0:
        raise InvalidArgument(f"{name} must be 0 or more, not {value}")


def check_defaults(method: str, **given: tuple) -> None:
    """Refuse, naming it, an argument of gensim's that w2vfast does not implement when it is given another
    value than gensim's default: ``given`` maps each name to ``(value, default)`` or ``(value, default, why)``."""
    for name, (value, default, *why) in given.items():
        if not _same(value, default):
            reason = f": {why[0]}" if why else ""
            raise InvalidArgument(f"{method}: {name}={value!r:.60} is not supported, only {default!r}{reason}")


def _same(value, default) -> bool:
    try:
        return value is default or bool(value == default)
    except (TypeError, ValueError):  # an array, say, whose comparison has no single truth value
        return False


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


class WorkerLost(W2VError):
    """A worker of a run on a cluster (its address ``worker``, when one is to blame) was lost, or stopped
    answering; ``checkpoint`` is where the run so far was saved, if it could be, and the caller may set
    ``resume_command`` to say how to go on."""

    def __init__(self, reason: str, checkpoint: str | None = None, worker: str | None = None) -> None:
        super().__init__(reason, checkpoint, worker)
        self.reason = reason
        self.checkpoint = checkpoint
        self.worker = worker
        self.resume_command: str | None = None

    def __str__(self) -> str:
        if self.checkpoint is None:
            return f"{self.reason}; no checkpoint was kept"  # none before training, or none could be written
        saved = f"{self.reason}; the run so far is saved in {self.checkpoint}"
        return saved if self.resume_command is None else f"{saved}; go on with: {self.resume_command}"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the tool; ``checkpoint`` is where the run was saved, if it was, and
    the caller may set ``resume_command`` to say how to go on. ``unsaved`` says why the save at the
    stop failed, if it did: ``checkpoint`` then keeps the run as of its last save, if there was one.
    The caller sets ``written`` to the output of a run that had ended and written it, when the stop
    came while the tool closed (a local Dask cluster, say).

    A ``KeyboardInterrupt``, so callers that already handle Ctrl-C handle this too.
    """

    def __init__(self, signum: int, checkpoint: str | None = None, unsaved: str | None = None) -> None:
        super().__init__(signum, checkpoint)
        self.signum = signum
        self.checkpoint = checkpoint
        self.unsaved = unsaved
        self.resume_command: str | None = None
        self.written: str | None = None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum

    def __str__(self) -> str:
        stopped = f"stopped by {self.name}"
        if self.written is not None:
            return f"{stopped} once the run had ended: {self.written} is complete"
        if self.unsaved is not None:
            stopped += f", but the run could not be saved ({self.unsaved})"
        if self.checkpoint is None:
            return stopped
        if self.unsaved is None:
            saved = f"{stopped}; the run so far is saved in {self.checkpoint}"
        else:
            saved = f"{stopped}; {self.checkpoint} keeps it as of its last save"
        return saved if self.resume_command is None else f"{saved}; go on with: {self.resume_command}"
