"""Batch sizes per device, each written once: a CPU keeps small batches, a GPU gets large ones.

On two CPU cores a batch of 8 answers costs what its rows cost; on a GPU the same batch leaves
the device idle most of the time (a decoding step of the 135M model costs about as much at 8
rows as at 128). So each batch size is a :class:`~forge_export.settings.PerDevice`: the CPU
value is the one measured on the project's machine, the CUDA value fills a GPU. The settings
classes take these as their defaults (``GenerateOptions.batch_size``,
``TrainOptions.per_device_train_batch_size`` ...), and a job resolves them once it knows its
device (:meth:`forge_export.settings.Settings.for_device`). A light module: nothing of torch.

Example:
    >>> GENERATE_BATCH.on("cpu"), GENERATE_BATCH.on("cuda")
    (8, 64)
    >>> TRAIN_BATCH.on("cuda") * TRAIN_ACCUMULATION.on("cuda") == (
    ...     TRAIN_BATCH.on("cpu") * TRAIN_ACCUMULATION.on("cpu"))
    True
"""

from __future__ import annotations

from forge_export.settings import PerDevice

GENERATE_BATCH = PerDevice(cpu=8, cuda=64)
"""Requests per batch of a local model (``generate``, ``evaluate``, the generator)."""

LOOP_EVAL_BATCH = PerDevice(cpu=16, cuda=128)
"""Requests per batch of the loop's evaluations (answers of at most 64 tokens)."""

TRAIN_BATCH = PerDevice(cpu=2, cuda=8)
"""Training rows per forward pass. On a CPU 2 x 4 accumulation steps pads less and needs far
less memory; on a GPU the 8 rows of an optimizer step go in one pass."""

TRAIN_ACCUMULATION = PerDevice(cpu=4, cuda=1)
"""Forward passes per optimizer step: rows per step (8) are the same on every device, so the
measured learning rates hold."""

JUDGE_BATCH = PerDevice(cpu=64, cuda=256)
"""Texts per forward pass of the judge's sentence model (all-MiniLM-L6-v2)."""
