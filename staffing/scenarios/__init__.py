"""Scenarios: draft the next organization apart from the live one, compare, then apply.

``read`` reads a draft, ``drafts`` makes and edits one, ``compare`` tells what it changes,
``apply`` replays it on the live tree, ``from_plan`` drafts what a capacity plan asks for.
"""
