"""Built-in architectures, one file each. Nothing is listed here: :mod:`auditlens.sae.registry` imports every module
of this package (each registers itself with ``@register``), so a new architecture is one new file."""
