"""The audit's techniques, one module each, one contract (:mod:`.base`). Importing this package registers them."""

from importlib import import_module
from pkgutil import iter_modules

from auditlens.audit.techniques.base import TECHNIQUES, AuditContext, Hypothesis, Technique, register

for _m in iter_modules(__path__):
    if _m.name != "base" and not _m.name.startswith("_"):
        import_module(f"{__name__}.{_m.name}")

__all__ = ["TECHNIQUES", "AuditContext", "Hypothesis", "Technique", "register"]
