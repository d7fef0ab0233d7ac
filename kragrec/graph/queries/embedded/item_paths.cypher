// A shortest typed path (at most 4 hops: a literal bound) from each history item to each candidate, one round trip.
// Genres, years and people linked to more than $hub_cap items are not crossed; users and ratings are never on a path.
MATCH (a:Item)
WHERE a.id IN $history
MATCH p = (a)-[:HAS_GENRE|GENRE_OF|RELEASED_IN|YEAR_OF|DIRECTED_BY|DIRECTED|HAS_ACTOR|ACTED_IN|WRITTEN_BY|WROTE* SHORTEST 1..4 (r, n | WHERE label(n) = 'Item' OR n.degree <= $hub_cap)]->(b:Item)
WHERE b.id IN $candidates AND length(p) <= $hops
RETURN a.id AS head, b.id AS tail, properties(nodes(p), '_label') AS labels, properties(nodes(p), 'id') AS ids,
       properties(nodes(p), 'name') AS names, properties(rels(p), '_label') AS types;
