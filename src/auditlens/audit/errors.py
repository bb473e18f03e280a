"""Errors of the audit: bad input named, with what to do."""

from auditlens.errors import AuditlensError

__all__ = ["AuditError"]


class AuditError(AuditlensError):
    """An audit cannot run as asked (a folder that is not a finished organism, a dictionary of another model...)."""
