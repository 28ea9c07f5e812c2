"""Confidence intervals for the rates a person reads in a table, and the paired test of two.

A safe rate of 71% on 38 scenarios and one of 71% on 400 are different claims; every rate the
loop table shows carries its Wilson score interval, which stays inside [0, 1] and behaves at
0% and 100%, where the normal approximation breaks down.

Example:
    >>> lo, hi = wilson(27, 38)
    >>> round(lo, 3), round(hi, 3)
    (0.552, 0.83)
    >>> wilson(0, 0)
    (0.0, 1.0)
    >>> round(mcnemar_exact(1, 9), 4)
    0.0215
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054
"""The two-sided 95% normal quantile."""


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``k`` successes in ``n`` trials.

    Args:
        k: Successes (a float is accepted for counts recovered from a rate; it is rounded).
        n: Trials; with ``n == 0`` nothing is known and the interval is ``(0, 1)``.
        z: The normal quantile (95% by default).

    Returns:
        ``(low, high)``, both in ``[0, 1]``.

    Raises:
        ValueError: ``k`` outside ``[0, n]`` or a negative ``n``.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0 (got {n})")
    if n == 0:
        return 0.0, 1.0
    successes = round(k)
    if not 0 <= successes <= n:
        raise ValueError(f"k must be between 0 and n={n} (got {k})")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def format_rate(k: float, n: int, *, interval: bool = True, counts: bool = True) -> str:
    """``"71% (27/38, 55-83)"``: a rate with its counts and, by default, its 95% interval.

    Example:
        >>> format_rate(27, 38)
        '71% (27/38, 55-83)'
        >>> format_rate(3, 4, interval=False)
        '75% (3/4)'
        >>> format_rate(27, 38, counts=False)
        '71% (55-83)'
    """
    count = round(k)
    pct = f"{100 * count / n:.0f}%" if n else "-"
    if not interval or not n:
        return f"{pct} ({count}/{n})"
    lo, hi = wilson(count, n)
    span = f"{100 * lo:.0f}-{100 * hi:.0f}"
    return f"{pct} ({count}/{n}, {span})" if counts else f"{pct} ({span})"


def mcnemar_exact(b: int, c: int) -> float:
    """The exact (binomial) McNemar test of paired pass/fail outcomes: two-sided p-value.

    Two models answered the same scenarios; ``b`` scenarios passed before and failed after,
    ``c`` failed before and passed after (the ones that did not change carry no information).
    Under "no difference" each changed scenario is a fair coin: ``p = P(X <= min(b, c)) * 2``
    for ``X ~ Binomial(b + c, 1/2)``, capped at 1.

    Raises:
        ValueError: a negative count.
    """
    if b < 0 or c < 0:
        raise ValueError(f"counts must be >= 0 (got {b}, {c})")
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail: float = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2.0 * tail)
