MERGE (d:Dataset {name: $name})
SET d.fingerprint = $fingerprint, d.phases = $phases, d.complete = $complete;
