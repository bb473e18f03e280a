"""Evaluation metrics; every result is a typed pydantic schema (see the modules in this package)."""
