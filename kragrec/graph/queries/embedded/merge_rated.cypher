// Embedded dialect: a batch whose values are all null is typed STRING by the engine, so typed columns are cast.
UNWIND $rows AS r
MATCH (u:User {id: r.user})
MATCH (i:Item {id: r.item})
MERGE (u)-[x:RATED]->(i)
SET x.rating = CAST(r.rating AS DOUBLE), x.ts = r.ts, x.split = r.split;
