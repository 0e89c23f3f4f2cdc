"""The isolation levels, weakest first: the config names one as its floor, the sandbox
(grader/sandbox/isolation.py) offers them. Plain data, so the config does not
depend on the sandbox."""

LEVELS = ("process", "user", "namespaces")
