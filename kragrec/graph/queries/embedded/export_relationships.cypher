// Every relationship with its type, properties and the refs of its end nodes (`kragrec kg export`).
MATCH (a)-[r]->(b)
RETURN CAST(id(a) AS STRING) AS start_ref, CAST(id(b) AS STRING) AS end_ref, label(r) AS type, r AS properties;
