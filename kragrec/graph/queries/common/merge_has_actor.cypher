UNWIND $rows AS r
MATCH (i:Item {id: r.item})
MATCH (p:Person {id: r.person})
MERGE (i)-[:HAS_ACTOR]->(p)
MERGE (p)-[:ACTED_IN]->(i);
