"""The main pipeline on the embedded default: harvest → train → evaluate → report (``auditlens pipeline``)."""

from auditlens.pipeline.default import PipelineConfig, PipelineSummary, run_pipeline

__all__ = ["PipelineConfig", "PipelineSummary", "run_pipeline"]
