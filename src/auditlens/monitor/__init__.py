"""Side-task monitoring: the code-backdoor setting (problems, sandbox, scoring) and its fixtures.

Submodules (import what you need; this package imports nothing heavy):

- :mod:`auditlens.monitor.problems` — HumanEval (bundled) and APPS-format problems;
- :mod:`auditlens.monitor.sandbox` — confined execution of untrusted code;
- :mod:`auditlens.monitor.execution` — tests, outputs and backdoor-input validity on a problem;
- :mod:`auditlens.monitor.scoring` — §2.3 success metrics and the §2.6 staged reward;
- :mod:`auditlens.monitor.taxonomy` — the backdoor taxonomy labels;
- :mod:`auditlens.monitor.records` — the sample record monitors read;
- :mod:`auditlens.monitor.fixtures` — labelled clean/backdoored fixtures (built by ``fixtures_build``).
"""
