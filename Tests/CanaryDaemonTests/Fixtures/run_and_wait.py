#!/usr/bin/env python3
"""Runs a command as a child and waits for it: run_and_wait.py PIDFILE COMMAND ARGS...

The tests start socket-activated canaryd through this instead of starting systemd-socket-activate
themselves. systemd-socket-activate closes every descriptor it does not pass on, the one Foundation's
Process watches a child by included; Foundation would then block its single monitoring thread in
waitpid() until canaryd exits, and no other child of the test process would be seen to exit
meanwhile. This parent keeps that descriptor open until the command ends. The child's pid (canaryd's,
as systemd-socket-activate execs it) goes to PIDFILE, for signals. The signal mask the test process
handed down (its threads block most signals) is cleared for the command, as systemd would start it.
Exit status: the command's, or 128 + the signal that ended it.
"""
import os
import signal
import sys

signal.pthread_sigmask(signal.SIG_SETMASK, [])
pid_file, command = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(command[0], command)
with open(pid_file + ".tmp", "w") as f:
    f.write(str(pid))
os.rename(pid_file + ".tmp", pid_file)
_, status = os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
