"""HTML leaderboard report (templates live in the repo's reports/templates folder)."""
