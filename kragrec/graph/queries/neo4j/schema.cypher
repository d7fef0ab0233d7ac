// Neo4j 5 schema: one uniqueness constraint per node key (each also backs an index), plus relationship property indexes.
CREATE CONSTRAINT dataset_name IF NOT EXISTS FOR (n:Dataset) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT user_id IF NOT EXISTS FOR (n:User) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT item_id IF NOT EXISTS FOR (n:Item) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT genre_name IF NOT EXISTS FOR (n:Genre) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT year_id IF NOT EXISTS FOR (n:Year) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT person_id IF NOT EXISTS FOR (n:Person) REQUIRE n.id IS UNIQUE;
CREATE INDEX rated_split IF NOT EXISTS FOR ()-[r:RATED]-() ON (r.split);
CREATE INDEX rel_type IF NOT EXISTS FOR ()-[r:REL]-() ON (r.type);
