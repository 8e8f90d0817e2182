#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image from the
# uploaded zip (unpacked in /autograder/source). Written by `autograder gradescope-bundle`
# for @ASSIGNMENT@: it installs the kit's dependencies, pinned to the versions the kit was
# tested with, in a virtual environment of their own, and bubblewrap (the sandbox of the
# student's code) where the image allows it.
set -uo pipefail

SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KIT="$SOURCE/kit"
VENV="@VENV@"
TESTED_PYTHON="@PYTHON@"  # the Python the pins of requirements.txt were taken from

log() { echo "setup.sh: $*"; }
have() { command -v "$1" >/dev/null 2>&1; }

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=""
apt_install() {  # apt_install PACKAGE...: true if they are installed; never stops the set-up itself
    have apt-get || return 1
    if [ -z "$APT_UPDATED" ]; then
        apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed; trying the package lists the image has"
        APT_UPDATED=1
    fi
    apt-get install -y -qq "$@" >/dev/null 2>&1
}

# 1. bubblewrap: the strongest sandbox. Without it (or where Docker forbids namespaces) the
#    grader falls back to Landlock and seccomp, or resource limits; the selftest below says which.
if have bwrap || apt_install bubblewrap; then
    log "bubblewrap: $(command -v bwrap)"
else
    log "bubblewrap could not be installed here; the grader uses the strongest isolation left (see the selftest)"
fi

# 2. Python: the tested version if the image has it or apt can install it, else the image's python3.
have "python$TESTED_PYTHON" || apt_install "python$TESTED_PYTHON" "python$TESTED_PYTHON-venv" || true
PYTHON="$(command -v "python$TESTED_PYTHON" || command -v python3 || true)"
if [ -z "$PYTHON" ]; then
    log "error: no python3 in this image; choose a Gradescope base image with Python $TESTED_PYTHON"
    exit 1
fi
VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
log "Python $VERSION ($PYTHON); the kit was tested with Python $TESTED_PYTHON"
if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    apt_install "python$VERSION-venv" || true  # Debian and Ubuntu ship venv apart
    "$PYTHON" -m venv "$VENV" || { log "error: cannot create a virtual environment in $VENV"; exit 1; }
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip || log "pip could not be upgraded; using the image's"

# 3. The dependencies: the tested pins, else the ranges of the kit's pyproject.toml (said loudly,
#    since other versions could in principle move a grade).
if "$VENV/bin/python" -m pip install --quiet -r "$SOURCE/requirements.txt"; then
    log "installed the pinned versions the kit was tested with (requirements.txt)"
else
    log "WARNING: the pinned versions do not install on Python $VERSION (they were taken on Python" \
        "$TESTED_PYTHON); installing the ranges of pyproject.toml instead (requirements-ranges.txt)"
    "$VENV/bin/python" -m pip install --quiet -r "$SOURCE/requirements-ranges.txt" \
        || { log "error: the kit's dependencies do not install"; exit 1; }
fi

# 4. The kit runs from $KIT (run_autograder puts it on PYTHONPATH). Student code may run as
#    another user: it may read the Python installation, never the kit (the reference, the suites).
chmod -R a+rX "$VENV"
chmod -R go-rwx "$SOURCE"
chmod u+x "$SOURCE/run_autograder"
[ -f /autograder/run_autograder ] && chmod u+x /autograder/run_autograder

# 5. What this image offers, in the build log: how student code will be isolated.
(cd "$KIT" && PYTHONPATH="$KIT" "$VENV/bin/python" -m autograder selftest) \
    || log "note: the selftest did not pass; grading still works, with the isolation it reports above"
log "done"
