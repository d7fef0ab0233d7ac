UNWIND $rows AS r
MATCH (i:Item {id: r.item})
MATCH (g:Genre {name: r.genre})
MERGE (i)-[:HAS_GENRE]->(g);
