// Embedded dialect: a batch whose values are all null is typed STRING by the engine, so typed columns are cast.
UNWIND $rows AS r
MERGE (i:Item {id: r.id})
SET i.title = r.title, i.year = CAST(r.year AS INT64), i.popularity = r.popularity, i.pop_pct = r.pop_pct;
