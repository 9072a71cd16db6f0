"""Detection: observations -> device states -> fault events (pure; time from the data)."""
