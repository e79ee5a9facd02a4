"""Request values of the EnKash operations: one set of validators and vocabularies (this round),
one declarative request model per operation."""
