"""LlamaRec-LKG-RAG: typed relation paths between history items and candidates, and their learned selection."""
