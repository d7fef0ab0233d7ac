"""Vectors as stored: the VectorStore protocol and its backends, qdrant-edge (embedded, HNSW; the default) and
qdrant-client (Qdrant's local mode, or a server by URL); backends.py is the one place that chooses between them.

May import: the bottom modules (config, files, progress, errors); not graph (its sibling).
"""
