"""Run SecantusDB (MongoDB's wire protocol, not mongod) on loopback until told to stop.

`python -m bench.secantus_server --storage DIR --port-file FILE` starts the server on a free
127.0.0.1 port, writes the port to FILE, and runs until SIGTERM/SIGINT or until its parent
process dies. It runs apart from the harness so that it does not share the load generator's
or the harness's GIL.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path


def main() -> None:
    """Serve until SIGTERM, SIGINT or the parent's death."""
    parser = argparse.ArgumentParser(prog="python -m bench.secantus_server")
    parser.add_argument("--storage", required=True, type=Path)
    parser.add_argument("--port-file", required=True, type=Path)
    args = parser.parse_args()

    from secantus import SecantusDBServer

    parent = os.getppid()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server = SecantusDBServer(host="127.0.0.1", port=0, storage_path=str(args.storage))
    server.start()
    try:
        _host, port = server.address
        partial = args.port_file.with_suffix(".partial")
        partial.write_text(str(port))
        partial.replace(args.port_file)  # the harness never reads half a port number
        while not stop.wait(0.5):
            if os.getppid() != parent:  # orphaned: the harness is gone
                break
    finally:
        server.stop()


if __name__ == "__main__":
    main()
