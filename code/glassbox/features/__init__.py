"""Part VI (chapters 13–15): features — superposition in a toy model, sparse autoencoders, linear probes."""
