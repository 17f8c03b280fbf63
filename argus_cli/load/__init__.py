"""The load step: trace files resolved (inputs), checked by the one rule (validation),
staged and typed in DuckDB (staging), in a work database (workdb), into the hops, intents and
outcomes relations (loading)."""
