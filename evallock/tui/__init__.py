"""The terminal UI, built with Textual; only ``evallock tui`` imports it."""
