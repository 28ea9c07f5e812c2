"""Human review: claims with a lease, the interactive flow, batch queues, agreement.

Public pieces (the CLI in :mod:`scenario_forge.cli.review` is built on them):

* :class:`~scenario_forge.review.claims.ReviewQueue` / ``QueueFilter`` — who gets which
  scenario, atomically, with a lease;
* :func:`~scenario_forge.review.decisions.apply_answer` / ``undo_answer`` — one answer in one
  transaction, and its exact undo;
* :class:`~scenario_forge.review.flow.ReviewSession` — the interactive terminal flow;
* :func:`~scenario_forge.review.batch.export_queue` / ``import_answers`` — batch review;
* :func:`~scenario_forge.review.agreement.review_stats` — per-reviewer counts and
  Krippendorff's alpha.

See ``docs/review.md``.
"""

from __future__ import annotations

from scenario_forge.review.claims import QueueFilter, ReviewQueue
from scenario_forge.review.decisions import Answer, AppliedAnswer, apply_answer, undo_answer

__all__ = ["Answer", "AppliedAnswer", "QueueFilter", "ReviewQueue", "apply_answer", "undo_answer"]
