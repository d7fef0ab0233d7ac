"""Training the LLM methods: run options (TrainConfig), prompt samples built from retrieval or paths, the data set
and epoch order, the Fabric training loop with validation, early stopping, checkpoints and resume.

May import: models and everything below it.
"""
