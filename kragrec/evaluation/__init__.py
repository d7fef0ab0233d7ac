"""Scoring runs and baselines on the prepared lists: metrics with bootstrap intervals, the cold-start subset, the
hallucination test, the collaborative prior, the full-ranking protocol, and the quality benchmark and its report.

May import: baselines, training and everything below them.
"""
