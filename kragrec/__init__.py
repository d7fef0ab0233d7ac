"""kragrec: knowledge-graph retrieval-augmented LLM recommendation."""

__version__ = "0.1.0"
