"""K-RagRec's retrieval: the sentence encoder, hop-field sub-graph indexing into the vector store (Qdrant or its
local mode), popularity-adaptive and semantic retrieval with re-ranking, and views of what was retrieved.

May import: graph, data and the bottom modules; not paths or loading (its siblings).
"""
