UNWIND $rows AS r
MATCH (i:Item {id: r.item})
MATCH (p:Person {id: r.person})
MERGE (i)-[:DIRECTED_BY]->(p)
MERGE (p)-[:DIRECTED]->(i);
