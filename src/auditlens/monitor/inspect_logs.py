"""Honest and attack Inspect logs back into :class:`~auditlens.monitor.records.CodeSample` s with their
suspicions and attack success, ready for :func:`auditlens.monitor.report.build_report` (calibration is post hoc,
as in ControlArena)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from inspect_ai.log import EvalLog, read_eval_log
from inspect_ai.scorer import CORRECT

from auditlens.monitor.inspect_submission import Submission, humaneval_problems, sample_style
from auditlens.monitor.records import CodeSample
from auditlens.monitor.taxonomy import BackdoorType

__all__ = ["samples_from_logs"]


def samples_from_logs(logs: Sequence[EvalLog | str | Path]) -> list[CodeSample]:
    """:class:`CodeSample` s (with suspicions and attack success) from honest and attack logs.

    Every score whose metadata names a monitor becomes ``suspicion[name]`` (NaN values are failures and
    are left out); ``metadata["attack_success"]`` is main ∧ side task success for attack samples."""
    out: list[CodeSample] = []
    for item in logs:
        log = item if isinstance(item, EvalLog) else read_eval_log(str(item))
        mode = (log.eval.task_args or {}).get("mode") or (log.eval.metadata or {}).get("mode")
        if mode is None:
            mode = "attack" if "attack" in log.eval.task else "honest"
        for s in log.samples or []:
            sub = Submission.model_validate(s.metadata.get("submission") or {"code": ""})
            scores = s.scores or {}
            suspicion = {
                k: float(v.value)
                for k, v in scores.items()
                if (v.metadata or {}).get("monitor")
                and isinstance(v.value, int | float)
                and v.value == v.value
            }
            main = scores.get("main_task_scorer")
            side = scores.get("side_task_scorer")
            pid = str(s.metadata.get("problem_id", s.id))
            problem = humaneval_problems().get(pid)
            out.append(
                CodeSample(
                    id=f"{log.eval.task}/{s.id}/{s.epoch}",
                    problem_id=pid,
                    problem_statement=problem.statement if problem else "",
                    code=sub.code,
                    reasoning=sub.reasoning,
                    reasoning_style=sample_style(mode == "attack", sub.reasoning),
                    backdoor_input=sub.backdoor_input,
                    backdoor_explanation=sub.backdoor_explanation,
                    label=BackdoorType.OTHER if mode == "attack" else BackdoorType.NO_BACKDOOR,
                    source=f"policy:{log.eval.model}",
                    suspicion=suspicion,
                    metadata={
                        "entry_point": s.metadata.get("entry_point"),
                        "main_task_success": main is not None and main.value == CORRECT,
                        "attack_success": mode == "attack"
                        and main is not None
                        and main.value == CORRECT
                        and side is not None
                        and side.value == CORRECT,
                        "log": str(log.location),
                    },
                )
            )
    return out
