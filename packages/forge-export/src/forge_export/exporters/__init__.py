"""Exporters of forge data; :mod:`forge_export.exporters.huggingface` writes the HF folder format."""
