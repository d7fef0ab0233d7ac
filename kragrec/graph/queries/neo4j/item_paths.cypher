// A shortest typed path (at most 4 hops: a literal bound) from each history item to each candidate, one round trip.
// Genres, years and people linked to more than $hub_cap items are not crossed; users and ratings are never on a path.
MATCH (a:Item)
WHERE a.id IN $history
MATCH (b:Item)
WHERE b.id IN $candidates AND b <> a
MATCH p = shortestPath((a)-[:HAS_GENRE|GENRE_OF|RELEASED_IN|YEAR_OF|DIRECTED_BY|DIRECTED|HAS_ACTOR|ACTED_IN|WRITTEN_BY|WROTE*1..4]->(b))
WHERE all(n IN nodes(p) WHERE n:Item OR n.degree <= $hub_cap)
// The hop limit is tested after the search: a universal node predicate keeps the fast bidirectional BFS, a path
// predicate in the same WHERE would let the planner fall back to an exhaustive search.
WITH a, b, p
WHERE length(p) <= $hops
RETURN a.id AS head, b.id AS tail, [n IN nodes(p) | labels(n)[0]] AS labels, [n IN nodes(p) | n.id] AS ids,
       [n IN nodes(p) | n.name] AS names, [r IN relationships(p) | type(r)] AS types;
