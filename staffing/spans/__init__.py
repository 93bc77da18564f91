"""Span of control: the engine that judges the rules (engine) and the findings kept up to date
after edits (marks)."""
