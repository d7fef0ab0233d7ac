UNWIND $rows AS r
MATCH (h:Entity {id: r.head})
MATCH (t:Entity {id: r.tail})
MERGE (h)-[:REL {type: r.type}]->(t);
