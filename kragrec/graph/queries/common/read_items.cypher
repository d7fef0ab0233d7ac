MATCH (i:Item)
OPTIONAL MATCH (i)-[:LINKS_TO]->(e:Entity)
RETURN i.id AS id, i.title AS title, i.year AS year, i.popularity AS popularity, i.pop_pct AS pop_pct, e.id AS entity_id
ORDER BY id;
