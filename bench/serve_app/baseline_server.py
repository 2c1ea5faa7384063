"""Run baseline.py's bare ASGI app under uvicorn with N workers on a pre-bound socket.

    python bench/serve_app/baseline_server.py PORT WORKERS

The socket is made as `wasmbridge serve` makes its own (a TCP socket from
getaddrinfo, so asyncio turns Nagle off on each connection). `uvicorn
--workers N` itself binds a socket with protocol 0, on which asyncio leaves
Nagle on: every response then waits ~40 ms for a delayed ACK, which would
make the baseline ten times slower than it is.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess


def main() -> None:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    family, kind, proto, _, address = socket.getaddrinfo(
        "127.0.0.1", port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.set_inheritable(True)
    sys.path.insert(0, str(Path(__file__).parent))  # spawned workers inherit it (PYTHONPATH)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [sys.path[0], os.environ.get("PYTHONPATH")])
    )
    config = uvicorn.Config(
        "baseline:app",
        workers=workers,
        access_log=False,
        log_level="warning",
        lifespan="off",
    )
    Multiprocess(config, sockets=[sock]).run()


if __name__ == "__main__":
    main()
