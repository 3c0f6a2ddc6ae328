"""Starts `borgerbot run` many times over for the crash test: imports once, forks per start.

A fresh interpreter spends over a second importing the bot; forked from this warmed
process, each start is still the real `borgerbot run` (the same CLI entry, settings from
the environment) in a process of its own, so a run can afford a hundred SIGKILLs.
Protocol: one line on stdin starts a bot; its pid comes back as one line on stdout.
"""

from __future__ import annotations

import os
import signal
import sys


def main(log_path: str) -> None:
    import apscheduler.schedulers.background  # noqa: F401  (warm the imports the bot needs)

    import bot.cli
    import bot.service
    import handlers.app  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # a killed bot vanishes at once, no zombie
    for _line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            sys.argv = ["borgerbot", "run"]
            try:
                bot.cli.main()
            finally:
                os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
