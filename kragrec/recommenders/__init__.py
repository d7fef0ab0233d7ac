"""Every method behind one contract: a Recommender scores candidate lists (contract.py), and the registry
(registry.py) names each method — how it is built or trained, and how a trained run reopens. `kragrec train`,
`eval`, `recommend` and the quality benchmark look methods up there; adding a method is one module here plus one
registry line.

May import: baselines, training and everything below them.
"""
