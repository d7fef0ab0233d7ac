"""Interaction data: fetching the offline packages, reading atomic files, leave-one-out splits, candidate lists and
the prepared samples every later layer shares (records.py: Record, Titles, Scored).

May import: the bottom modules (config, files, errors, metrics, progress, memory, wheels, writer_lock) only.
"""
