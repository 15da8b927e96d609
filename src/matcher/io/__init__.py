"""Reading and writing the project's files: validation at the edge, atomic outputs."""
