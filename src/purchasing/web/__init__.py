"""Controllers: parse input, call one verb, pick a template."""
