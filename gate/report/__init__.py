"""The report: a comparison rendered as the PR comment, the job summary, the JSON results and
terminal tables, one module per concern; `render.render_report` puts them together.

Nothing is imported here, so that a stage needing one limit (gate/artifact.py) does not load
the templates' and tables' libraries with it.
"""
