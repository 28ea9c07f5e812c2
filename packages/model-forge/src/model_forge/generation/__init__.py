"""The completion-generation API (see :mod:`model_forge.generation.api`).

Example:
    >>> from model_forge.generation import load_backend, GenerationRequest
    >>> backend = load_backend("tiny", batch_size=4)
    >>> backend.model_id
    'forge/tiny-random-llama'
"""

from model_forge.generation.api import backends, load_backend
from model_forge.generation.types import (
    Backend,
    Generation,
    GenerationRequest,
    ProgressCallback,
    SamplingParams,
    model_revision,
)

__all__ = [
    "backends",
    "Backend",
    "Generation",
    "GenerationRequest",
    "ProgressCallback",
    "SamplingParams",
    "load_backend",
    "model_revision",
]
