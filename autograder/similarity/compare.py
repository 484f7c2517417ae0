"""Every pair of students of one assignment, compared with copydetect's winnowing fingerprints.

copydetect tokenises Python with Pygments and replaces names by ``V``/``F``/``O`` and every
string (docstrings included) by ``S``, drops comments and white space, then hashes each run of
``NOISE`` tokens: renaming variables, rewording comments or docstrings changes nothing, and a
match shorter than ``NOISE`` tokens (``return x @ w + b``, which anyone writes) never counts.
Fingerprints found in the boilerplate (the stubs) are dropped before comparing.

The window is 1 (guarantee threshold = noise threshold, as copydetect 0.5's defaults are):
every fingerprint is kept, so the result does not depend on Python's per-process string hashing,
which winnowing with a larger window would (it keeps the smallest hash of each window).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from copydetect import CodeFingerprint, compare_files, defaults

from autograder.grading.ids import printable
from autograder.similarity.code import Code

NOISE = defaults.NOISE_THRESHOLD  # 25 tokens, copydetect's default
WINDOW = 1  # keep every fingerprint: deterministic, and every match of NOISE tokens is found


@dataclass(frozen=True)
class Pair:
    a: Code  # a.student < b.student
    b: Code
    similarity: float  # matched tokens of both over the tokens of both (after the boilerplate)
    share_a: float  # the part of a's own code found in b
    share_b: float
    matched_tokens: int  # tokens of a's code that match b's
    slices_a: list[tuple[int, int]]  # matched character ranges of a.text
    slices_b: list[tuple[int, int]]


def fingerprint(text: str, boilerplate_hashes: np.ndarray | None = None, label: str = "code.py") -> CodeFingerprint:
    return CodeFingerprint(label, NOISE, WINDOW, boilerplate=boilerplate_hashes, language="python",
                           fp=io.StringIO(text))


def boilerplate_hashes(texts: list[str]) -> np.ndarray:
    """Every fingerprint of the boilerplate (as copydetect's own ``boilerplate_dirs`` gathers them)."""
    hashes: list[int] = []
    for text in texts:
        hashes.extend(fingerprint(text).hashes)
    return np.unique(np.array(hashes, dtype=np.int64))


def compare_assignment(codes: list[Code], boilerplate: list[str]) -> tuple[list[Pair], list[str]]:
    """The pairs that share code, most similar first (ties by the students' ids), and a note for
    each code the library could not fingerprint (left out, the others compared)."""
    ignored = boilerplate_hashes(boilerplate)
    prints, notes = [], []
    for code in sorted(codes, key=lambda c: c.student):
        try:
            prints.append((code, fingerprint(code.text, ignored)))
        except Exception as exc:  # noqa: BLE001 - one odd file never stops the class's report
            notes.append(f"{printable(code.student)}: {code.assignment.folder}: `{code.origin}` could not be "
                         f"fingerprinted ({type(exc).__name__})")
    pairs = []
    for (a, print_a), (b, print_b) in combinations(prints, 2):
        pair = compare(a, b, print_a, print_b)
        if pair is not None:
            pairs.append(pair)
    return sorted(pairs, key=lambda p: (-p.similarity, p.a.student, p.b.student)), notes


def compare(a: Code, b: Code, print_a: CodeFingerprint, print_b: CodeFingerprint) -> Pair | None:
    matched, (share_a, share_b), (slices_a, slices_b) = compare_files(print_a, print_b)
    if matched == 0:
        return None
    tokens_a, tokens_b = float(print_a.token_coverage), float(print_b.token_coverage)
    both = share_a * tokens_a + share_b * tokens_b
    similarity = both / (tokens_a + tokens_b) if tokens_a + tokens_b else 0.0
    return Pair(a, b, clip(similarity), clip(share_a), clip(share_b), int(matched),
                ranges(slices_a, len(a.text)), ranges(slices_b, len(b.text)))


def clip(value: float) -> float:
    return float(min(max(value, 0.0), 1.0))


def ranges(slices: np.ndarray, length: int) -> list[tuple[int, int]]:
    """copydetect's 2 x N array of (start, end) offsets, as sorted, merged, in-bounds ranges."""
    if slices.size == 0:
        return []
    merged: list[tuple[int, int]] = []
    for start, end in sorted(zip(slices[0].tolist(), slices[1].tolist())):
        start, end = max(0, int(start)), min(length, int(end))
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
