"""What the checkers of a QEMU or LAVA run share: failed checks collected by `check`, the JSON
records among a serial line's console lines, and the summary line that ends every checker."""
import json
import sys

failures = []


def check(ok, what):
    """Records `what` as failed unless `ok`."""
    if not ok:
        failures.append(what)


def records_of(text):
    """The records among console lines: every line that starts as a record does."""
    return [json.loads(l) for l in text.splitlines() if l.startswith('{"type":')]


def records_in(path):
    """The records of a file (a serial log or a results file), bad bytes replaced."""
    return records_of(open(path, errors="replace").read())


def finish(summary):
    """Prints the summary line with the failed checks; exits 1 if a check failed."""
    if failures:
        print(summary + "; FAILED: " + "; ".join(failures))
        sys.exit(1)
    print(summary + "; all checks passed")
