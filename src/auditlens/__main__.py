"""``python -m auditlens`` is the ``auditlens`` command."""

from auditlens.cli import main

main()
