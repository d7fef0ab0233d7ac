UNWIND $rows AS r
MERGE (e:Entity {id: r.id})
SET e.text = r.text;
