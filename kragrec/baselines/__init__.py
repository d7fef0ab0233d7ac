"""Recommenders trained in-project as baselines for the LLM methods."""
