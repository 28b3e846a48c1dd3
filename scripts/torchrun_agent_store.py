#!/usr/bin/env python3
"""Runs a command as torchrun's static rendezvous runs its workers, for checking that sr4g workers join a rendezvous
store hosted by the launcher's agent: a TCPStore server in this process (as torchrun's local agent creates it), and
2 worker processes with torchrun's variables, TORCHELASTIC_USE_AGENT_STORE=True and TORCHELASTIC_RESTART_COUNT=0
(every rank is then a store client and the keys go under /worker/attempt_0). Useful where torchrun itself does not
run (Debian's torch 1.13 torchrun fails on Python 3.11 with "'NoneType' object has no attribute 'get'").

    /usr/bin/python3 scripts/torchrun_agent_store.py ./sr4g train --model m --data d --images i --out o …
"""
import os, subprocess, sys, datetime
import torch.distributed as dist
port = 29581
store = dist.TCPStore("127.0.0.1", port, 2, True, datetime.timedelta(seconds=120), multi_tenant=True)
procs = []
for r in range(2):
    env = dict(os.environ, RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2", GROUP_RANK="0",
               MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), TORCHELASTIC_RESTART_COUNT="0",
               TORCHELASTIC_MAX_RESTARTS="0", TORCHELASTIC_USE_AGENT_STORE="True", OMP_NUM_THREADS="1")
    procs.append(subprocess.Popen(sys.argv[1:], env=env))
print("exit codes", [p.wait() for p in procs])
print("keys under the attempt prefix:", store.num_keys())
