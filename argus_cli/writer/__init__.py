"""The writer library agents use: a tracer with hop(), validation contracts, the write-once intent
store, the record sinks, and the reports it hands back. Public names are exported by argus_cli."""
