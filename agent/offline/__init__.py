"""The keyless brain: planner, intent and entity rules, and the composer that writes answers."""
