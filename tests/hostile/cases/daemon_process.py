"""Hostile case daemon_process: history_frame starts two daemons (a new session and a double fork) that would write a fake score.json later.

Appended to the reference solution (solutions/mnist_dense.py) by
tests/test_hostile.py; later definitions replace the reference's.
"""

import os
from pathlib import Path

# Paso 8: historial ----------------------------------------------------------
def history_frame(history: keras.callbacks.History) -> pd.DataFrame:
    # history.history es un diccionario {métrica: [valor por época]}.
    import subprocess
    import sys

    out = _out_dir()
    later = "import sys, time, pathlib; time.sleep(30); pathlib.Path(sys.argv[1], 'score.json').write_text('100/100')"
    subprocess.Popen([sys.executable, "-c", later, str(out), "hostile-marker-daemon_process"], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            import time

            time.sleep(30)
            (out / "score.json").write_text("100/100")
        os._exit(0)
    os.wait()
    return pd.DataFrame(history.history)
