MATCH (h:Entity)-[r:REL]->(t:Entity)
RETURN h.id AS head, r.type AS type, t.id AS tail;
