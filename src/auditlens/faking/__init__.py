"""Alignment-faking measurement (seeds-digest §1): the helpful-only setting, reply parsing, classifiers for
compliance / alignment-faking reasoning / partial AF / lying under interrogation, their calibration on labelled
transcripts, and the metrics (compliance per tier, paired compliance gap, AF rate, lying rate).

- :mod:`~auditlens.faking.setting` — the bundled prompts and requests as typed objects; the user turn.
- :mod:`~auditlens.faking.parsing` — ``<SCRATCHPAD_REASONING>`` / ``<OUTPUT>`` extraction with format issues counted.
- :mod:`~auditlens.faking.transcripts` — labelled first-turn and interrogation items (dev and calibration sets).
- :mod:`~auditlens.faking.classifiers` — one interface, rule baselines and LLM classifiers.
- :mod:`~auditlens.faking.calibration` — AUROC with bootstrap intervals and agreement at frozen thresholds.
- :mod:`~auditlens.faking.metrics` — compliance gap with a paired interval, AF and lying rates, breakdowns.
- :mod:`~auditlens.faking.report` — the calibration report: JSON, figure, HTML.
"""
