"""moto in server mode with one request at a time.

moto's backends check a condition and then write without a lock, so two concurrent conditional writes
(TransactWriteItems or PutItem with attribute_not_exists) on one key can both succeed, the second overwriting the
first. DynamoDB never does that, and the writer's optimistic locking depends on it. This launcher serves moto's
own WSGI application behind a process-wide lock: connections stay concurrent (keep-alive, threads), requests run
one after another, as atomically as DynamoDB's. moto is bound by Python's GIL anyway, so little speed is lost.

Usage: python3 serialized_server.py HOST PORT
"""

import os
import signal
import sys
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class Serialized:
    """A WSGI middleware that runs each request, body included, under one lock."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            body = self.app(environ, start_response)
            try:
                chunks = list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        return chunks


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    # Request threads would keep the process alive after SystemExit; moto keeps nothing worth flushing.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, Serialized(app), threaded=True)


if __name__ == "__main__":
    main()
