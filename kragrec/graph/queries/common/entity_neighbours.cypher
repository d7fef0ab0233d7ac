// Every REL edge touching the given entities, as stored (head -> tail): the edges out of them, then the edges into
// them (an edge between two of them comes twice). `WHERE id IN $ids` lets the embedded engine look the ids up in its
// primary-key index (an UNWIND joined on {id: id} scans instead: 25 ms against 6 ms for five ids on ML-100K). The
// rows carry no column saying which entity they belong to: the embedded engine's UNION ALL mixes up columns that
// repeat an expression of another column, so the caller attributes each edge to whichever endpoint it asked for.
MATCH (h:Entity)-[r:REL]->(t:Entity)
WHERE h.id IN $ids
RETURN h.id AS head, r.type AS type, t.id AS tail
UNION ALL
MATCH (h:Entity)-[r:REL]->(t:Entity)
WHERE t.id IN $ids
RETURN h.id AS head, r.type AS type, t.id AS tail;
