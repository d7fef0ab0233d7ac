// The reverse of HAS_GENRE, so directed paths can leave a genre towards its films.
UNWIND $rows AS r
MATCH (g:Genre {name: r.genre})
MATCH (i:Item {id: r.item})
MERGE (g)-[:GENRE_OF]->(i);
