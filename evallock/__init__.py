"""evallock: pin, run cold and compare LLM evaluations."""

__version__ = "0.1.0"
