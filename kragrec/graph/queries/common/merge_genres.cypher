UNWIND $rows AS r
MERGE (g:Genre {name: r.name})
SET g.degree = r.degree;
