"""Fingerprints of code cells: a normalized Python token stream, winnowed as in MOSS.

A cell's code becomes a stream of tokens in which every identifier is one
token, every number one token and every string one token, with comments,
line breaks and indentation dropped: renaming variables and reformatting
change nothing. Its k-grams (``K`` tokens in a row) are hashed and winnowed
(the robust winnowing of Schleimer, Wilkerson and Aiken, 2003, as in MOSS)
with copydetect's implementation; the fingerprints of a submission are a
set, so the order of functions and cells does not matter either.

Why copydetect's functions and not its ``CopyDetector``: the detector
compares files on disk pairwise in a Python loop, tokenizes characters with
pygments (so a keyword weighs its length and numbers stay as written) and
hashes with Python's ``hash``, which changes from one process to the next.
Here the documents are notebook cells, tokens come from Python's own
``tokenize``, hashes are reproducible, and the pairs are compared at once by
``autograder.similarity``. The part worth reusing, the winnowing, is reused.
"""
from __future__ import annotations

import functools
import keyword
import tokenize
import zlib
from dataclasses import dataclass

import numpy as np
from copydetect.utils import winnow

# A match must span K tokens (shorter runs are noise: `V = V . V ( V )` is everywhere), and
# winnowing keeps one k-gram per WINDOW, so any run of K + WINDOW - 1 shared tokens is found.
K = 10
WINDOW = 5
_MASK = (1 << 52) - 1  # hashes exact as float64, which copydetect's winnowing compares them as
_BASE = np.uint64(1_000_003)
_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
_STRINGS = {tokenize.STRING} | {getattr(tokenize, name) for name in ("FSTRING_START", "FSTRING_MIDDLE",
                                                                      "FSTRING_END") if hasattr(tokenize, name)}


@dataclass(frozen=True)
class CellPrint:
    """The fingerprints of one cell's code.

    ``spans[t]`` is (start, end), the characters of ``source`` that token t
    covers; ``kgrams[t]`` the hash of the ``k`` tokens from token t on;
    ``hashes[f]`` is a fingerprint, the winnowed k-gram that starts at token
    ``positions[f]``.
    """

    source: str
    k: int
    spans: np.ndarray
    kgrams: np.ndarray
    hashes: np.ndarray
    positions: np.ndarray

    def __repr__(self):
        return f"CellPrint({len(self.spans)} tokens, {len(self.hashes)} fingerprints)"


@functools.lru_cache(maxsize=None)  # few distinct keywords and operators, many tokens
def _token_id(kind, text):
    """A reproducible 32-bit code of a normalized token."""
    return zlib.crc32(f"{kind}\0{text}".encode())


_NAME, _NUMBER, _STRING = _token_id("name", ""), _token_id("number", ""), _token_id("string", "")


def _python_lines(source):
    """``source`` with IPython magics and shell escapes blanked, so that line numbers still match the cell."""
    if source.lstrip().startswith("%%"):
        return ""
    return "".join("\n" if line.lstrip().startswith(("%", "!")) else line for line in _lines(source))


def _lines(source):
    """The lines of ``source``, each with its end, split at "\\n" only, as ``tokenize`` reads them."""
    lines = [line + "\n" for line in source.split("\n")]
    lines[-1] = lines[-1][:-1]
    return [line for line in lines if line]


def tokens(source):
    """The normalized tokens of a cell and where each stands in it.

    Code that does not tokenize to the end (a syntax error, an unclosed
    bracket) keeps the tokens read before the fault.

    Parameters
    ----------
    source : str

    Returns
    -------
    ids : ndarray of uint64, shape (T,)
        One code per token: identifiers, numbers and strings each share one.
    spans : ndarray of int64, shape (T, 2)
        The (start, end) character offsets of each token in ``source``.
    """
    line_starts = [0]
    for line in _lines(source):
        line_starts.append(line_starts[-1] + len(line))
    ids, spans = [], []
    reader = iter(_lines(_python_lines(source))).__next__
    try:
        for tok in tokenize.generate_tokens(reader):
            if tok.type in _DROPPED:
                continue
            if tok.type == tokenize.NAME:
                ids.append(_token_id("keyword", tok.string) if keyword.iskeyword(tok.string) else _NAME)
            elif tok.type == tokenize.NUMBER:
                ids.append(_NUMBER)
            elif tok.type in _STRINGS:
                if ids and ids[-1] == _STRING:  # "a" "b", and an f-string's parts, are one string
                    spans[-1][1] = line_starts[tok.end[0] - 1] + tok.end[1]
                    continue
                ids.append(_STRING)
            else:
                ids.append(_token_id("op", tok.string))
            spans.append([line_starts[tok.start[0] - 1] + tok.start[1], line_starts[tok.end[0] - 1] + tok.end[1]])
    except (tokenize.TokenError, SyntaxError):
        pass  # the tokens before the fault still count
    return np.array(ids, dtype=np.uint64), np.array(spans, dtype=np.int64).reshape(-1, 2)


def _kgram_hashes(ids, k):
    """A polynomial hash of each run of ``k`` tokens, shape (T - k + 1,), reproducible across runs."""
    count = len(ids) - k + 1
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        for offset in range(k):
            hashes = hashes * _BASE + ids[offset:offset + count]
    return (hashes & np.uint64(_MASK)).astype(np.int64)


@functools.lru_cache(maxsize=65536)  # a class hands in many identical cells (untouched starters, shared code)
def fingerprint(source, k=K, window=WINDOW):
    """The fingerprints of one cell.

    Parameters
    ----------
    source : str
        The cell's code as written.
    k : int
        Tokens per k-gram.
    window : int
        Winnowing window, in k-grams.

    Returns
    -------
    CellPrint
    """
    ids, spans = tokens(source)
    kgrams = _kgram_hashes(ids, k)
    if len(kgrams) == 0:
        hashes, positions = kgrams, np.zeros(0, dtype=np.int64)
    else:
        hashes, positions = winnow(kgrams, window, remove_duplicates=False)
    return CellPrint(source, k, spans, kgrams, np.asarray(hashes, dtype=np.int64),
                     np.asarray(positions, dtype=np.int64))


def _covered(count, starts, k):
    """A boolean mask of ``count`` tokens: those in a k-gram that starts at one of ``starts``."""
    steps = np.zeros(count + 1, dtype=np.int64)
    np.add.at(steps, np.minimum(starts, count), 1)
    np.add.at(steps, np.minimum(np.asarray(starts) + k, count), -1)
    return np.cumsum(steps)[:count] > 0


def highlight(cell, shared, given_lines=frozenset()):
    """A cell's source cut into (text, is_shared) pieces: the code of its fingerprints in ``shared`` marked.

    A token is marked when a fingerprint in ``shared`` covers it and its line
    is not one the release gave (``given_lines``); comments between marked
    tokens are not marked: what is marked is code that both sides wrote.

    Parameters
    ----------
    cell : CellPrint
    shared : ndarray of int64
        Fingerprints found in the other document too.
    given_lines : set of str
        Lines of the release's code, stripped of surrounding blanks.

    Returns
    -------
    list of (str, bool)
        Concatenated, the texts are ``cell.source``.
    """
    marked = _covered(len(cell.spans), cell.positions[np.isin(cell.hashes, shared)], cell.k)
    lines = _lines(cell.source)
    line_starts = np.cumsum([0] + [len(line) for line in lines])
    pieces, done, run_start, run_end, previous = [], 0, None, None, None
    for t in np.flatnonzero(marked):
        start, end = (int(x) for x in cell.spans[t])
        if lines[np.searchsorted(line_starts, start, side="right") - 1].strip() in given_lines:
            continue
        # A run of marked tokens ends at a token left unmarked, or at a comment.
        if run_start is not None and (previous != t - 1 or "#" in cell.source[run_end:start]):
            pieces += [(cell.source[done:run_start], False), (cell.source[run_start:run_end], True)]
            done, run_start = run_end, None
        if run_start is None:
            run_start = start
        run_end, previous = end, t
    if run_start is not None:
        pieces += [(cell.source[done:run_start], False), (cell.source[run_start:run_end], True)]
        done = run_end
    pieces.append((cell.source[done:], False))
    return [(text, shared_text) for text, shared_text in pieces if text]
