"""The data contract: vocabularies, fields, units, readers, validation and configuration schemas.

This is the ground floor of rheumetrics: every other package reads its concepts from here and none
declares them again.
"""
