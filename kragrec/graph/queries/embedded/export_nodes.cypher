// Every node with its labels and properties (`kragrec kg export`); ref identifies it within this export only.
MATCH (n)
RETURN CAST(id(n) AS STRING) AS ref, [label(n)] AS labels, n AS properties;
