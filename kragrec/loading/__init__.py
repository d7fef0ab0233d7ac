"""`kragrec load-kg`: the rows a dataset becomes (load_plan.py, with the heterogeneous KG's metadata), written
into a graph store idempotently and resumably, then checked by reading the counts back.

May import: graph, data and the bottom modules; not retrieval or paths (its siblings).
"""
