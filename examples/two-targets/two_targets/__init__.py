"""Print which build this is; used to show that only one target opts in."""
