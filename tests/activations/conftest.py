from __future__ import annotations

import random
from pathlib import Path

import pytest

from auditlens.models.tiny import tiny_model

WORDS = [
    "the",
    "model",
    "reads",
    "a",
    "token",
    "and",
    "writes",
    "its",
    "residual",
    "stream",
    "while",
    "features",
    "fire",
    "sparsely",
    "across",
    "layers",
    "def",
    "return",
    "import",
    "class",
    "self",
    "value",
    "none",
    "true",
    "false",
    "for",
    "in",
    "if",
    "else",
    "while",
    "print",
]


def write_corpus(folder: Path, n_docs: int = 24, seed: int = 0) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_docs):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120)))
        (folder / f"doc{i:03d}.txt").write_text(text + "\n")
    return folder


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-llama")
    hm = tiny_model("llama", n_layers=3)
    hm.model.save_pretrained(folder)
    hm.tokenizer.save_pretrained(folder)
    return folder
