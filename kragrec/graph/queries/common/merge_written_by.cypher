UNWIND $rows AS r
MATCH (i:Item {id: r.item})
MATCH (p:Person {id: r.person})
MERGE (i)-[:WRITTEN_BY]->(p)
MERGE (p)-[:WROTE]->(i);
