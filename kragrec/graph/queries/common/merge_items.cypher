UNWIND $rows AS r
MERGE (i:Item {id: r.id})
SET i.title = r.title, i.year = r.year, i.popularity = r.popularity, i.pop_pct = r.pop_pct;
