"""Running untrusted student code: a worker process and its supervisor.

The worker (``worker.py``) imports the student's module and runs its steps,
reporting what it observed over a private pipe. The supervisor
(``supervisor.py``) runs in the grader's own process: it enforces time and
memory limits, restarts the worker past a step that killed it, and keeps
everything the grader writes out of the student's reach. ``isolation.py``
chooses how far the operating system separates the two (bubblewrap
namespaces where available, a plain process elsewhere); ``memory.py`` adds
a cgroup memory limit where one can be made.
"""
