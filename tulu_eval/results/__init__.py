"""The run folder: predictions, results.json, the INCOMPLETE marker, the printed table."""
