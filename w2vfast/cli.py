"""The ``w2vfast`` command line: a thin layer over the library that turns errors into one line."""

from __future__ import annotations

import functools
import os
import sys
from importlib import resources

import click

from .errors import W2VError

DEMO_WORDS = ("king", "france", "computer", "music", "war")


def _fail(message: str, code: int = 1):
    click.echo(f"w2vfast: error: {message}", err=True)
    sys.exit(code)


def friendly_errors(command):
    """Report ``W2VError`` and Ctrl-C as one line with a non-zero exit status, never a traceback."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except W2VError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except MemoryError:
            _fail("out of memory: try a larger --min-count, a smaller --max-vocab or a smaller --dim")
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="w2vfast")
def main() -> None:
    """Train word2vec embeddings fast on CPUs, and query and evaluate them."""


def training_options(command):
    """The options shared by ``train`` and ``demo``, named as in the C tool where it has one."""
    options = [
        click.option("-o", "--output", default="vectors.bin", show_default=True,
                     help="Vectors file to write (.bin: binary format, else text)."),
        click.option("--binary/--text", "binary", default=None,
                     help="Output format; default from the output file's extension."),
        click.option("--model", type=click.Choice(["sg", "cbow"]), default="sg", show_default=True,
                     help="Skip-gram or continuous bag of words."),
        click.option("--size", "--dim", "dim", type=int, default=100, show_default=True,
                     help="Dimension of the word vectors."),
        click.option("--window", type=int, default=5, show_default=True,
                     help="Largest distance between the centre and a context word."),
        click.option("--negative", type=int, default=5, show_default=True,
                     help="Negative samples per window; 0 turns negative sampling off."),
        click.option("--hs/--no-hs", default=False, help="Use hierarchical softmax."),
        click.option("--sample", type=float, default=1e-3, show_default=True,
                     help="Threshold for subsampling frequent words; 0 turns it off."),
        click.option("--min-count", type=int, default=5, show_default=True,
                     help="Drop words seen fewer times."),
        click.option("--max-vocab", type=int, default=None, help="Keep only the most frequent words."),
        click.option("--alpha", type=float, default=None,
                     help="Starting learning rate [default: 0.025 for sg, 0.05 for cbow]."),
        click.option("--min-alpha", type=float, default=None,
                     help="Final learning rate, reached linearly [default: alpha * 1e-4]."),
        click.option("--epochs", "--iter", "epochs", type=int, default=5, show_default=True,
                     help="Passes over the corpus."),
        click.option("--threads", type=int, default=None, help="Worker threads [default: all cores]."),
        click.option("--cbow-mean/--cbow-sum", default=True,
                     help="CBOW input: mean (default) or sum of the context vectors."),
        click.option("--seed", type=int, default=1, show_default=True, help="Random seed."),
        click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _check_output(output: str) -> None:
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise W2VError(f"output directory does not exist: {directory}")


def _run_training(corpus, output, binary, quiet, read_vocab=None, save_vocab=None, disk_corpus=None,
                  **options):
    from .train import train

    _check_output(output)
    if binary is None:
        binary = output.endswith(".bin")
    vectors = train(corpus, read_vocab=read_vocab, save_vocab=save_vocab, disk_corpus=disk_corpus,
                    quiet=quiet, **options)
    vectors.save(output, binary=binary)
    if not quiet:
        click.echo(f"wrote {len(vectors):,} x {vectors.vector_size} vectors to {output}", err=True)
    return vectors


@main.command()
@click.argument("corpus", nargs=-1, required=True)
@training_options
@click.option("--save-vocab", type=click.Path(dir_okay=False), help="Write 'word count' lines here.")
@click.option("--read-vocab", type=click.Path(dir_okay=False),
              help="Take the vocabulary (and counts) from this 'word count' file.")
@click.option("--disk-corpus", metavar="DIR",
              help="Keep the encoded corpus in a memory-mapped file in DIR, not in RAM.")
@friendly_errors
def train(corpus, **options):
    """Train vectors on CORPUS: files, directories, or - for standard input (.gz/.bz2/.xz allowed)."""
    _run_training(list(corpus), **options)


@main.command()
@training_options
@friendly_errors
def demo(**options):
    """Train on the bundled Wikipedia sample and show the nearest neighbours of a few words."""
    source = resources.files("w2vfast") / "data" / "wiki-slice.txt.xz"
    with resources.as_file(source) as path:
        vectors = _run_training(str(path), **options)
    for word in DEMO_WORDS:
        if word in vectors:
            neighbours = ", ".join(w for w, _ in vectors.most_similar(word, topn=6))
            click.echo(f"{word}: {neighbours}")


if __name__ == "__main__":
    main()
