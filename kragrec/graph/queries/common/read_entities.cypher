MATCH (e:Entity)
OPTIONAL MATCH (i:Item)-[:LINKS_TO]->(e)
RETURN e.id AS id, e.text AS text, i.id AS item_id, i.pop_pct AS pop_pct
ORDER BY id, item_id;
