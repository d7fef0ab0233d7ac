// Every relationship with its type, properties and the refs of its end nodes (`kragrec kg export`).
MATCH (a)-[r]->(b)
RETURN elementId(a) AS start_ref, elementId(b) AS end_ref, type(r) AS type, properties(r) AS properties;
