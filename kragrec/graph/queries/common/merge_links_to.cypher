UNWIND $rows AS r
MATCH (i:Item {id: r.item})
MATCH (e:Entity {id: r.entity})
MERGE (i)-[:LINKS_TO]->(e);
