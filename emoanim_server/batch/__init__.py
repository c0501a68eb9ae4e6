"""Batch baking at scale: manifests, content-hash resume, worker processes or Ray (docs/batch.md).

An edge like the CLI: it reads manifests and writes files; stages never import it.
"""
from .manifest import COLUMNS, Line, assign_outputs, lines_from_inputs, read_manifest

__all__ = ["COLUMNS", "Line", "assign_outputs", "lines_from_inputs", "read_manifest"]
