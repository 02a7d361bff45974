"""Orchestration: papermill runs of the notebooks, run folders, manifests, the audit archive,
the scheduler and the go-live gate.

Import the modules directly (``from catalyst.runs.archive import verify_archive``); this package
keeps its ``__init__`` empty so importing one piece never drags in papermill or nbconvert.
"""
