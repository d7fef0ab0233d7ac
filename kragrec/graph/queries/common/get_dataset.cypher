MATCH (d:Dataset)
RETURN d.name AS name, d.fingerprint AS fingerprint, d.phases AS phases, d.complete AS complete;
