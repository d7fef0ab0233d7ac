"""LlamaRec-LKG-RAG's relation paths between history items and candidates: finding them in the graph store and
writing them as text (the preference module that chooses among them is a model: models/path_preference.py).

May import: graph, data and the bottom modules; not retrieval or loading (its siblings).
"""
