"""Small shared kernel: database base, actor, errors, clock, ids, field encryption."""
