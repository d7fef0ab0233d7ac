MATCH ()-[r:REL]->() RETURN r.type AS type, count(*) AS total ORDER BY total DESC, type;
