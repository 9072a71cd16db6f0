"""What people read: Indonesian labels (one table per fact) and rendered views."""
