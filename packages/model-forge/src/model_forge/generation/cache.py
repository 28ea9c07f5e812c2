"""An opt-in cache of greedy generations of local models, shared across runs.

Greedy decoding of the same weights on the same prompt, device and dtype gives the same answer,
so a run that evaluates the base model on a test set a previous run already answered can read
the answers back instead of generating them again (the loop's round 0 is the same in every run
that shares a test set; comparing training mixes repeats it each time). Off by default: set
``MODEL_FORGE_GENERATION_CACHE`` to a folder (or pass ``cache=`` to a backend).

The key is a SHA-256 over the model's *weights fingerprint* (the bytes of its weight files, not
only their names), the exact prompt string the model sees (chat template applied), the most
new tokens, the device and the dtype. Sampled (non-greedy) requests are never cached. The
store is one SQLite file (WAL), safe for several processes at once.

Example:
    >>> import os
    >>> os.environ["MODEL_FORGE_GENERATION_CACHE"] = "/tmp/gen-cache"  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CACHE_ENV = "MODEL_FORGE_GENERATION_CACHE"
"""Environment variable naming the cache folder (unset or empty: no cache)."""
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


@dataclass(frozen=True)
class CachedGeneration:
    """What the cache keeps of one answer."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


def weights_fingerprint(folder: str | Path) -> str:
    """SHA-256 over the names and bytes of a model folder's weight files (and adapter)."""
    h = hashlib.sha256()
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    for f in files:
        h.update(str(f.relative_to(root)).encode() + b"\0")
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def cache_from_env() -> GenerationCache | None:
    """The cache named by :data:`CACHE_ENV`, or ``None``."""
    folder = os.environ.get(CACHE_ENV, "").strip()
    return GenerationCache(folder) if folder else None


class GenerationCache:
    """Greedy answers by key, in ``FOLDER/generations.sqlite``.

    Args:
        folder: Created if missing.
    """

    def __init__(self, folder: str | Path) -> None:
        from forge_export.errors import ForgeError

        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ForgeError(
                f"{CACHE_ENV}={self.folder}: that is a file; the cache is a folder (it holds "
                f"generations.sqlite): set {CACHE_ENV}={self.folder.parent}"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "generations.sqlite"
        self.hits = 0
        self.misses = 0
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, text TEXT NOT NULL,"
                " prompt_tokens INTEGER, completion_tokens INTEGER, finish_reason TEXT,"
                " created REAL)"
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    @staticmethod
    def key(model: str, prompt: str, max_new_tokens: int, device: str, dtype: str) -> str:
        """The cache key of one greedy request."""
        raw = json.dumps([model, prompt, int(max_new_tokens), device, dtype], ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def get_many(self, keys: Iterable[str]) -> dict[str, CachedGeneration]:
        """The cached answers among ``keys``."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, CachedGeneration] = {}
        with self._connect() as db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for k, text, pt, ct, fr in db.execute(
                    "SELECT key, text, prompt_tokens, completion_tokens, finish_reason "
                    f"FROM generations WHERE key IN ({marks})",
                    chunk,
                ):
                    found[k] = CachedGeneration(text, int(pt), int(ct), str(fr))
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def put_many(self, items: dict[str, CachedGeneration]) -> None:
        """Store answers (an existing key keeps its first answer)."""
        if not items:
            return
        now = time.time()
        with self._connect() as db:
            db.executemany(
                "INSERT OR IGNORE INTO generations VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (k, g.text, g.prompt_tokens, g.completion_tokens, g.finish_reason, now)
                    for k, g in items.items()
                ],
            )
