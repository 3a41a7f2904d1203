"""``pyrtap`` command line: ``pyrtap compare`` and ``pyrtap stats IFACE``."""
from __future__ import annotations

import argparse
import sys
import time


def _stats(args) -> int:
    """Watch an interface's kernel counters, refreshed every ``--interval`` seconds.

    A port's own queue counters live in the process that runs it (``Port.stats()``);
    this view reads the kernel's side of the TAP interface over netlink, so it works
    from any process, for either driver.
    """
    from rich.live import Live
    from rich.table import Table

    from . import netlink

    ifindex = netlink.ifindex_of(args.iface)
    if ifindex is None:
        print("pyrtap stats: no interface %r" % args.iface, file=sys.stderr)
        return 1
    keys = ("rx_packets", "rx_bytes", "rx_dropped", "tx_packets", "tx_bytes", "tx_dropped")

    def table(prev, cur, dt):
        t = Table(title="%s (ifindex %d): kernel counters; port Rx = kernel tx" % (args.iface, ifindex))
        t.add_column("counter")
        t.add_column("total", justify="right")
        t.add_column("per second", justify="right")
        for k in keys:
            rate = (cur[k] - prev[k]) / dt if prev and dt > 0 else 0
            t.add_row(k, f"{cur[k]:,}", f"{rate:,.0f}")
        return t

    prev, last = None, time.monotonic()
    try:
        with Live(refresh_per_second=4) as live:
            for _ in range(args.count) if args.count else iter(int, 1):
                cur, now = netlink.link_stats64(ifindex), time.monotonic()
                live.update(table(prev, cur, now - last))
                prev, last = cur, now
                time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    except OSError as e:
        print("pyrtap stats: %s" % e, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="pyrtap", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("compare", help="net_rtap vs net_tap vs raw write(): see python -m pyrtap.compare -h",
                   add_help=False)
    s = sub.add_parser("stats", help="watch an interface's counters")
    s.add_argument("iface")
    s.add_argument("--interval", type=float, default=1.0)
    s.add_argument("--count", type=int, default=0, help="refreshes before exiting (0: until Ctrl-C)")
    args, rest = p.parse_known_args(argv)
    if args.cmd == "compare":
        from . import compare
        return compare.main(rest)
    if rest:
        p.error("unrecognized arguments: %s" % " ".join(rest))
    return _stats(args)


if __name__ == "__main__":
    sys.exit(main())
