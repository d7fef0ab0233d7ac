"""The knowledge graph: the GraphStore protocol, its embedded and Neo4j backends, loading a dataset into a store
idempotently, browsing and read-only Cypher.

May import: data and the bottom modules.
"""
