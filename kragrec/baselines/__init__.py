"""SASRec, the sequential baseline the LLM methods are measured against and mix in as a collaborative prior: the
model and its trainer, run in the shared training loop (random and popularity need no model:
recommenders/untrained.py, data/popularity.py).

May import: training and everything below it.
"""
