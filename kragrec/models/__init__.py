"""Neural parts: the LLM and its prompts, the graph encoder and projector, GraphLLM (soft tokens, title and letter
heads), PathLLM with the user-preference module, collation and checkpoint files.

May import: retrieval, paths, graph, data and the bottom modules.
"""
