"""The knowledge graph as stored: the GraphStore protocol, its embedded and Neo4j backends, the Cypher files they
run (queries/), read-back counts, browsing and the read-only guard of `kragrec kg query`, `kragrec kg export` (the
store read into spools, its three formats, the Cypher literals it writes), readable entity texts.

May import: data and the bottom modules.
"""
