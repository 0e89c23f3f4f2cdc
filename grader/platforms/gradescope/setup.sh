#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image
# (its base images are Ubuntu; 22.04 by default). It installs a Python that the
# pinned TensorFlow supports, bubblewrap, a virtual environment with
# requirements.txt, and MNIST in Keras's cache, so that grading needs no network.
#
# GRADESCOPE_AUTOGRADER_ROOT replaces /autograder (for a local trial).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="${GRADESCOPE_AUTOGRADER_ROOT:-/autograder}"
venv="$root/venv"

supported() {
  "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null
}

python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && supported "$candidate"; then
    python="$(command -v "$candidate")"
    break
  fi
done

if [ -z "$python" ]; then
  # Ubuntu 22.04 ships Python 3.10; its universe archive has python3.11.
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv
  python="$(command -v python3.11)"
fi
echo "setup.sh: using $python ($("$python" --version))"

# bubblewrap isolates the student's code at the "namespaces" level where the
# container lets it make namespaces; elsewhere run.py grades at "user" (the
# worker as another uid, with setpriv from util-linux, in every Ubuntu image).
if ! command -v bwrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends bubblewrap
fi
echo "setup.sh: isolation tools: $(command -v bwrap || echo 'no bwrap'), $(command -v setpriv || echo 'no setpriv')"

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

# MNIST into Keras's cache (~/.keras/datasets), read again at grading time;
# not needed when MNIST_NPZ names a local copy (a trial without network).
if [ -z "${MNIST_NPZ:-}" ]; then
  TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -c "import keras; keras.datasets.mnist.load_data()"
fi
echo "setup.sh: done"
