"""Running untrusted student code: an answerer process, observed from outside.

The answerer (``answerer.py``) is the only process that imports the
student's module; it answers calls with bounded data (``wire.py``). The
observer (``observer.py``) runs in the grader's own process and never
imports student code: it runs the steps, enforces time and memory limits
with the supervisor's mechanism (``supervisor.py``), restarts an answerer
that died, decides every status, fact and stand-in (``fallbacks.py``) and
keeps the checkpoint. ``isolation.py`` chooses how far the operating system
separates the two (bubblewrap namespaces where available, another uid, a
plain process elsewhere); ``limits.py`` counts a step's CPU time with a wall
backstop; ``tree.py`` walks and bounds what the student's code left on disk;
``memory.py`` adds a cgroup memory limit where one can be made.
"""
