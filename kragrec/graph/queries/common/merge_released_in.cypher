UNWIND $rows AS r
MATCH (i:Item {id: r.item})
MATCH (y:Year {id: r.year})
MERGE (i)-[:RELEASED_IN]->(y)
MERGE (y)-[:YEAR_OF]->(i);
