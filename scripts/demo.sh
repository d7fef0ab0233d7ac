#!/usr/bin/env bash
# The main job end to end on the embedded defaults: fetch ML-100K + KG offline, prepare splits and
# candidates, load the graph store (verified by read-back), index the KG in qdrant-edge (embedded), and
# show the evidence K-RagRec retrieves for one user; then a short K-RagRec training run, scored on test users
# against popularity and chance.
set -euo pipefail
kragrec data fetch ml-100k
kragrec data prepare
kragrec load-kg
kragrec kg stats
kragrec kg query --param 'title="Toy Story"' \
  'MATCH (i:Item {title: $title})-[:LINKS_TO]->(:Entity)-[:REL]->(p:Entity)<-[:REL]-(:Entity)<-[:LINKS_TO]-(j:Item)
   WHERE j.id <> i.id
   RETURN j.title AS film, count(DISTINCT p) AS shared_kg_entities ORDER BY shared_kg_entities DESC, film LIMIT 5'
kragrec index
kragrec retrieve --user 1 --html .kragrec/user-1-evidence.html
# SASRec, the collaborative prior the LLM re-ranks on top of (1 epoch here; the quality benchmark early-stops).
kragrec train --run-dir .kragrec/runs/sasrec --method sasrec --epochs 1
# A short K-RagRec (LoRA) training run on a small subset: validation metrics next to popularity and chance.
kragrec train --run-dir .kragrec/runs/demo --method k-ragrec-lora --max-train 32 --max-valid 32 --epochs 1 \
  --batch-size 4 --lr 1e-4 --graph-lr 1e-3 --bf16 --checkpoint-every 6
kragrec recommend .kragrec/runs/demo --user 1 --top 5
# The test split (a seeded 100 users), mixed with SASRec at the share that ranks the run's validation samples best:
# metrics with 95 % intervals next to popularity and chance.
kragrec eval .kragrec/runs/demo --max-samples 100 --prior .kragrec/runs/sasrec
