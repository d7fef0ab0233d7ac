"""Scoring runs and baselines on the prepared lists: what `kragrec eval` is asked (checked as one request), metrics
with bootstrap intervals, the cold-start subset, the hallucination test, the collaborative prior and the
full-ranking protocol (the quality benchmark is its own package above).

May import: recommenders and everything below them.
"""
