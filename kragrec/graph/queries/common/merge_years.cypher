UNWIND $rows AS r
MERGE (y:Year {id: r.id})
SET y.degree = r.degree;
