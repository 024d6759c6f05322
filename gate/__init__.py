"""llm-gate: gate pull requests of LLM applications on honest, paired evaluations."""

__version__ = "0.1.0"
