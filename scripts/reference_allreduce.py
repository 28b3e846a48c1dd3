#!/usr/bin/env python3
"""The reference for `sr4g bench allreduce`: torch.distributed's own all-reduce (Gloo, CPU) of the same float32
gradient between N processes on this machine, timed the same way (barrier, all_reduce, divide; median of --repeats).
Needs a Python PyTorch with distributed support (Debian: apt-get install python3-torch; run it with /usr/bin/python3).

    /usr/bin/python3 scripts/reference_allreduce.py --nproc 2 --mib 38.15 --repeats 20
"""
import argparse
import os
import statistics
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def worker(rank, args, port):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(max(1, os.cpu_count() // args.nproc))
    dist.init_process_group("gloo", rank=rank, world_size=args.nproc)
    n = int(args.mib * 1048576 / 4)
    grad = torch.ones(n)
    times = []
    for k in range(args.warmup + args.repeats):
        dist.barrier()
        t0 = time.perf_counter()
        grad.div_(args.nproc)  # DDP scales before the sum
        dist.all_reduce(grad)
        if k >= args.warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    if rank == 0:
        med = statistics.median(times)
        print("reference allreduce (torch %s, gloo): %d processes, %.2f MiB float32 (%d values): median %.2f ms over %d,"
              " %.2f GB/s (bytes / time)" % (torch.__version__, args.nproc, args.mib, n, med, args.repeats, 4 * n / med / 1e6))
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--mib", type=float, default=38.15)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--port", type=int, default=29517)
    args = p.parse_args()
    mp.spawn(worker, args=(args, args.port), nprocs=args.nproc, join=True)


if __name__ == "__main__":
    main()
