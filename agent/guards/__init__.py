"""Checks on every answer: grounding of its numbers and disclosure of what a tool changed."""
