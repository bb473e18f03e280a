"""Side-task monitoring: the code-backdoor setting (problems, sandbox, scoring), monitors, calibration, the report.

Submodules (import what you need; this package imports nothing heavy):

- :mod:`auditlens.monitor.problems` — HumanEval (bundled) and APPS-format problems;
- :mod:`auditlens.monitor.sandbox` — confined execution of untrusted code (process isolation, the test harness);
- :mod:`auditlens.monitor.execution` — tests, outputs and backdoor-input validity on a problem;
- :mod:`auditlens.monitor.scoring` — §2.3 success metrics and the §2.6 staged reward;
- :mod:`auditlens.monitor.taxonomy` — the backdoor taxonomy labels;
- :mod:`auditlens.monitor.records` — the sample record monitors read;
- :mod:`auditlens.monitor.fixtures` — labelled clean/backdoored fixtures, built by
  :mod:`~auditlens.monitor.fixtures_build` (variants in :mod:`~auditlens.monitor.fixture_variants`, reasoning
  templates in :mod:`~auditlens.monitor.fixture_reasoning`; command: ``scripts/build_monitor_fixtures.py``);
- :mod:`auditlens.monitor.monitors`, :mod:`~auditlens.monitor.rules`, :mod:`~auditlens.monitor.probe` — the monitors
  behind one interface; :mod:`~auditlens.monitor.views` — what each reads;
- :mod:`auditlens.monitor.metrics`, :mod:`~auditlens.monitor.calibration` — metrics and thresholds at a fixed FPR;
- :mod:`auditlens.monitor.report` — the report (typed JSON, plots, one HTML page);
- :mod:`auditlens.monitor.evaluate` — ``auditlens monitor evaluate``: score, calibrate, report in a run folder;
- :mod:`auditlens.monitor.inspect_tasks` — the setting as Inspect AI tasks (scorers in
  :mod:`~auditlens.monitor.inspect_scorers`, reply parsing in :mod:`~auditlens.monitor.inspect_submission`, logs
  back to samples in :mod:`~auditlens.monitor.inspect_logs`).
"""
