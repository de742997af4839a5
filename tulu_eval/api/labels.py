"""The suites a task belongs to and the skills the report groups tasks by."""

SUITES = ("dev", "unseen")
SKILLS = ("math", "instruction following", "knowledge", "reasoning", "code", "safety", "chat")
