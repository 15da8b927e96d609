"""Teacher pairing: encode teachers and policy as arrays, solve exactly, decode with reasons."""
