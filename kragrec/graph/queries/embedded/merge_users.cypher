// Embedded dialect: a batch whose values are all null is typed STRING by the engine, so typed columns are cast.
UNWIND $rows AS r
MERGE (u:User {id: r.id})
SET u.age = CAST(r.age AS INT64), u.gender = r.gender, u.occupation = r.occupation;
