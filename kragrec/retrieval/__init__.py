"""K-RagRec's retrieval: the sentence encoder, hop-field sub-graph indexing into the vector store (kragrec.vectors),
popularity-adaptive and semantic retrieval with re-ranking, and views of what was retrieved.

May import: graph, vectors, data and the bottom modules; not paths or loading (its siblings).
"""
