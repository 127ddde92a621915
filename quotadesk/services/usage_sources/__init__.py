"""Usage from the platforms agencies run (SPEC §11): formats, mappings, client identifiers."""
