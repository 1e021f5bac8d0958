"""A server under cProfile (its main thread, where the event loop runs): the profile
is written to FILE on SIGUSR1 (in CPU time), and profiling starts afresh.

    python -m bench.profiled FILE -m api.cli serve --port PORT
"""

import cProfile
import runpy
import signal
import sys
import time
from types import FrameType


def main() -> None:
    path = sys.argv[1]
    module = sys.argv[3]
    profile = cProfile.Profile(time.process_time)  # CPU time: a preempted call is not slow

    def dump(_signum: int, _frame: FrameType | None) -> None:
        profile.disable()
        profile.dump_stats(path)
        profile.clear()
        profile.enable()

    signal.signal(signal.SIGUSR1, dump)
    sys.argv = [module, *sys.argv[4:]]
    profile.enable()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
