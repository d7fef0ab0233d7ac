"""Recommenders without an LLM: random and popularity (untrained.py) and SASRec with its training loop.

May import: training and everything below it.
"""
