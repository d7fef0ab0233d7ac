// Needs Neo4j 5.23+ (variable scope clause); runs as an implicit transaction with batched inner commits.
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS;
