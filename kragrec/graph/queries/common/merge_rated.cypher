UNWIND $rows AS r
MATCH (u:User {id: r.user})
MATCH (i:Item {id: r.item})
MERGE (u)-[x:RATED]->(i)
SET x.rating = r.rating, x.ts = r.ts, x.split = r.split;
