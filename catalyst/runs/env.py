"""Environment variables through which the runner tells the notebook's kernel which run it is.

A module of its own so the kernel's first cell imports nothing heavy (nbformat, papermill).
"""

ENV_RUN_ID = "CATALYST_RUN_ID"
ENV_RUN_DIR = "CATALYST_RUN_DIR"
ENV_MODE = "CATALYST_MODE"
