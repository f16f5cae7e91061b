"""Many rooms at once: the checked input of a batch (`source`), and what runs it.

Headless: the command line and the console both build on it, so nothing here
imports Textual, Rich or either front end.
"""
