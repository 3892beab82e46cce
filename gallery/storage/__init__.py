"""Storage: the contract (`protocols.py`), the two backends (`local/`, `aws/`) and the one place that picks one
(`backends.py`). Nothing is imported here, so a module that needs the contract loads no backend and no settings."""
