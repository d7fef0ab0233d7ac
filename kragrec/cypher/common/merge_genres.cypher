UNWIND $rows AS r
MERGE (g:Genre {name: r.name});
