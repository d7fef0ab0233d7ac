// Every node with its labels and properties (`kragrec kg export`); ref identifies it within this export only.
MATCH (n)
RETURN elementId(n) AS ref, labels(n) AS labels, properties(n) AS properties;
