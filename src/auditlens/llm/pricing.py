"""Prices per model, to turn token counts into dollars. Configurable; unknown models cost 0 and are flagged.

The default table holds list prices in USD per million tokens as published by the providers (checked
2025); prices change, so pass your own :class:`PriceTable` when the figure matters.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from auditlens.llm.types import Usage


class Price(BaseModel):
    """Price of one model."""

    input_usd_per_mtok: float = Field(ge=0.0, description="USD per million input (prompt) tokens.")
    output_usd_per_mtok: float = Field(ge=0.0, description="USD per million output tokens.")


DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(input_usd_per_mtok=0.15, output_usd_per_mtok=0.60),
    "gpt-4o": Price(input_usd_per_mtok=2.50, output_usd_per_mtok=10.00),
    "gpt-4.1-nano": Price(input_usd_per_mtok=0.10, output_usd_per_mtok=0.40),
    "gpt-4.1-mini": Price(input_usd_per_mtok=0.40, output_usd_per_mtok=1.60),
    "gpt-4.1": Price(input_usd_per_mtok=2.00, output_usd_per_mtok=8.00),
    "claude-3-haiku": Price(input_usd_per_mtok=0.25, output_usd_per_mtok=1.25),
    "claude-3-5-haiku": Price(input_usd_per_mtok=0.80, output_usd_per_mtok=4.00),
    "claude-3-5-sonnet": Price(input_usd_per_mtok=3.00, output_usd_per_mtok=15.00),
    "claude-3-7-sonnet": Price(input_usd_per_mtok=3.00, output_usd_per_mtok=15.00),
    "claude-sonnet-4": Price(input_usd_per_mtok=3.00, output_usd_per_mtok=15.00),
    "claude-opus-4": Price(input_usd_per_mtok=15.00, output_usd_per_mtok=75.00),
}


class PriceTable(BaseModel):
    """Model name (or a prefix of it: the longest matching prefix wins, so dated snapshots such as
    ``gpt-4o-mini-2024-07-18`` find ``gpt-4o-mini``) to :class:`Price`."""

    prices: dict[str, Price] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    def lookup(self, model: str) -> Price | None:
        """The price of ``model``, or None when no entry matches."""
        name = model.rsplit("/", 1)[-1]  # "openai/gpt-4o" on routers
        best = max((k for k in self.prices if name.startswith(k)), key=len, default=None)
        return None if best is None else self.prices[best]

    def cost(self, model: str, usage: Usage) -> float | None:
        """USD for ``usage`` on ``model``; None when the model has no price."""
        price = self.lookup(model)
        if price is None:
            return None
        return (
            usage.input_tokens * price.input_usd_per_mtok + usage.output_tokens * price.output_usd_per_mtok
        ) / 1e6
