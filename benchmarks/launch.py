"""Run one command and write its wall time, peak RSS and exit status as JSON to a file.

Usage: ``python benchmarks/launch.py RESULT_JSON COMMAND...``

The harness runs every measured command through this small, fresh process instead of spawning it
directly: on Linux a child's peak RSS (``ru_maxrss``) starts from the peak of the process that
spawned it, so a harness grown to hundreds of MB (it loads and judges vectors) would be reported as
the peak of every small child. From here that floor is this launcher's own few MB.
"""

import json
import os
import subprocess
import sys
import time

# ru_maxrss is in kilobytes on Linux and in bytes on macOS.
RSS_BYTES_PER_UNIT = 1 if sys.platform == "darwin" else 1024
COMMAND_NOT_RUN = 127


def main(result_path: str, argv: list[str]) -> None:
    start = time.perf_counter()
    try:
        process = subprocess.Popen(argv)
    except OSError as exc:
        print(f"cannot run {argv[0]}: {exc}", file=sys.stderr)
        figures = {"wall_seconds": 0.0, "peak_rss_bytes": 0, "exit_code": COMMAND_NOT_RUN}
    else:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        figures = {"wall_seconds": time.perf_counter() - start,
                   "peak_rss_bytes": usage.ru_maxrss * RSS_BYTES_PER_UNIT, "exit_code": process.returncode}
    with open(result_path, "w") as out:
        json.dump(figures, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
