"""What the API does, without HTTP: store datasets, run pairings as jobs, and re-match one school."""
