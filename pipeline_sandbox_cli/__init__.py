"""``pipeline-sandbox``: list, inspect, pause and reclaim every sandbox stack of the project."""
