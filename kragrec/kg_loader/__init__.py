"""kg_loader."""
