"""`kragrec bench quality`: every method trained and evaluated under one budget on the same test lists, resumably
(quality.py), the session around it (session.py) and its report and chart (report.py).

May import: evaluation, recommenders and everything below them.
"""
