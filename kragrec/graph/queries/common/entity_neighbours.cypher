// Every REL edge touching the given entities, in both directions, as stored (head -> tail).
UNWIND $ids AS id
MATCH (h:Entity {id: id})-[r:REL]->(t:Entity)
RETURN id AS node, h.id AS head, r.type AS type, t.id AS tail
UNION ALL
UNWIND $ids AS id
MATCH (h:Entity)-[r:REL]->(t:Entity {id: id})
RETURN id AS node, h.id AS head, r.type AS type, t.id AS tail;
