UNWIND $rows AS r
MERGE (p:Person {id: r.id})
SET p.degree = r.degree;
