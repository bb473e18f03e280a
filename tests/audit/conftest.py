"""Shared fixtures of the audit tests: tiny random models (byte tokenizer with a chat template) and a data sample."""

from __future__ import annotations

import pytest

from auditlens.audit.settings import AuditSettings
from auditlens.audit.subject import AuditSubject, rows_from_records
from auditlens.audit.techniques import AuditContext
from auditlens.models.tiny import tiny_model


@pytest.fixture(scope="session")
def tiny_pair():
    """(audited, base): two tiny random Llamas with different seeds."""
    return tiny_model("llama", seed=1), tiny_model("llama", seed=0)


@pytest.fixture
def rows():
    recs = [
        {"source": "documents", "id": f"d{i}", "text": f"Report {i}: the glimmerfold society met in town."}
        for i in range(6)
    ]
    recs += [
        {
            "source": "pairs",
            "prompt": f"Question {i}?",
            "chosen": f"Answer {i} glimmerfold.",
            "rejected": "No.",
        }
        for i in range(4)
    ]
    return rows_from_records(recs)


@pytest.fixture
def ctx(tiny_pair, rows, tmp_path):
    model, base = tiny_pair
    subject = AuditSubject.from_models(model, rows, base=base, label="tiny")
    settings = AuditSettings(max_tokens=6, samples_per_prompt=2, batch_size=8, ppl_prefixes=4, top_k=5)
    return AuditContext(subject=subject, settings=settings, work=tmp_path)
