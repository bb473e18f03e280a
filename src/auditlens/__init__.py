"""auditlens: audit language models for hidden misalignment, offline-first.

The package map is in ``shared/design/ARCHITECTURE.md``; each sub-package owns one stage of the data flow
(``models`` → ``data`` → ``activations`` → ``sae`` → ``evals`` → ``interpret`` → audits).
"""

from auditlens.errors import AuditlensError

__version__ = "0.1.0"
__all__ = ["AuditlensError", "__version__"]
