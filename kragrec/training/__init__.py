"""Training: the loop every trainer runs its steps in (validation, early stopping, best and last checkpoints,
metrics log, exact resume) and the run folder; for the LLM methods, run options (TrainConfig), prompt samples built
from retrieval or paths, the data set and epoch order, and the Fabric trainer.

May import: models and everything below it.
"""
