UNWIND $rows AS r
MERGE (u:User {id: r.id})
SET u.age = r.age, u.gender = r.gender, u.occupation = r.occupation;
