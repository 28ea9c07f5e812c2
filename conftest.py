"""Test-session environment for every package: no hub, no real home, no user caches.

This runs before any test module imports ``datasets`` or ``transformers``, so their cache
locations and offline switches are read from here.
"""

from __future__ import annotations

import os
import tempfile

_TMP = tempfile.mkdtemp(prefix="forge-tests-")
os.environ["HF_HOME"] = os.path.join(_TMP, "hf")
os.environ["HF_DATASETS_CACHE"] = os.path.join(_TMP, "hf", "datasets")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["WANDB_DISABLED"] = "true"
os.environ.setdefault("SCENARIO_FORGE_REVIEWER", "tester")
# The converted bundled model is cached across sessions on purpose (conversion takes ~25 s);
# tests that check the conversion itself point MODEL_FORGE_CACHE at a temp folder.
os.environ.pop("SCENARIO_FORGE_DB", None)
