"""The console's widgets, grouped by what they serve: the request form, the response, the history."""
