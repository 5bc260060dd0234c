"""moto in server mode with one request at a time.

moto's backends check a condition and then write without a lock, so two concurrent conditional writes
(TransactWriteItems or PutItem with attribute_not_exists) on one key can both succeed, the second overwriting the
first. DynamoDB never does that, and the writer's optimistic locking depends on it. This launcher serves moto's
own WSGI application behind a process-wide lock: connections stay concurrent (keep-alive, threads), requests run
one after another, as atomically as DynamoDB's. moto is bound by Python's GIL anyway, so little speed is lost.

moto 5 also backs up every table a TransactWriteItems touches with a deep copy, so that it can roll back: each
append cost a copy of the whole journal, and the local stack slowed down as its tables grew (an append took 27 ms
with 250 items in the table, 468 ms with 1,500). Since requests run one at a time here, light_transactions backs up
only the items a transaction names and the length of their tables' streams, and puts them back when moto cancels
the transaction: the same outcome, at the cost of the transaction's own items.

moto ignores TransactWriteItems' ClientRequestToken, which DynamoDB uses to make a retried call idempotent (for
10 minutes): the AWS SDKs fill it in once per call and send it again on their own retries. Without it, an SDK retry
after a lost answer (a connection closed under load) ran the transaction a second time, failed its conditions,
and the writer answered a committed command with 409. client_request_tokens remembers the tokens of committed
transactions and answers their repeats with success, as DynamoDB does.

moto 5 answers a Query on a table's key by listing and sorting every item of the table, then keeping the
partition asked for: each aggregate load cost a sort of the whole journal, under the lock above, and the local
stack slowed down run after run as the journal grew (a PostMessage took 35 ms at the first end-to-end benchmark,
146 ms at the third). keyed_queries hands that Query the asked partition's items only, which is what it keeps
anyway; queries on an index keep moto's own path.

Usage: python3 serialized_server.py HOST PORT
"""

import collections
import copy
import hashlib
import io
import json
import logging
import os
import signal
import sys
import threading
import time
import types

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class Serialized:
    """A WSGI middleware that runs each request under one lock, its body read before the lock is taken: a client
    slow to send its body (a starved process on a busy machine) must not hold every other request up."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        read_body(environ)
        with self.lock:
            body = self.app(environ, start_response)
            try:
                chunks = list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        return chunks


def read_body(environ):
    """Reads the request's whole body now and hands the application an in-memory copy of it."""
    length = environ.get("CONTENT_LENGTH") or ""
    if not length.isdigit():
        return
    stream = environ["wsgi.input"]
    chunks, left = [], int(length)
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    environ["wsgi.input"] = io.BytesIO(b"".join(chunks))


def light_transactions():
    """Makes moto's TransactWriteItems back up the items it names instead of whole tables (see the docstring)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    real_deepcopy = copy.deepcopy
    light = threading.local()

    def deepcopy(x, memo=None):
        # moto's own backup of a whole table becomes a no-op while a light transaction runs.
        if getattr(light, "on", False) and isinstance(x, Table):
            return x
        return real_deepcopy(x, memo)

    # The models module uses copy.deepcopy only; the copy module itself is left alone.
    models.copy = types.SimpleNamespace(deepcopy=deepcopy)
    original = models.DynamoDBBackend.transact_write_items

    def targets(backend, transact_items):
        """The (table, hash key, range key) of every item the transaction names."""
        out = []
        for item in transact_items:
            op_type, op = next(iter(item.items()))
            table = backend.get_table(op["TableName"])
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            out.append((table, hash_key, range_key))
        return out

    def restore(saved, streams):
        for table, hash_key, range_key, item in reversed(saved):
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
            elif item is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
        for table, length in streams:
            del table.stream_shard.items[length:]

    def transact_write_items(self, transact_items):
        try:
            named = targets(self, transact_items)
        except Exception:
            # A malformed request: moto's own path raises its own error.
            return original(self, transact_items)
        saved = [(t, h, r, real_deepcopy(t.get_item(h, r))) for t, h, r in named]
        streams = {id(t): (t, len(t.stream_shard.items)) for t, _, _ in named if t.stream_shard is not None}
        light.on = True
        try:
            return original(self, transact_items)
        except BaseException:
            restore(saved, streams.values())
            raise
        finally:
            light.on = False

    models.DynamoDBBackend.transact_write_items = transact_write_items


def client_request_tokens():
    """Makes TransactWriteItems idempotent per ClientRequestToken for 10 minutes (see the docstring)."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    class IdempotentParameterMismatch(DynamodbException):
        error_type = "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException"

        def __init__(self):
            super().__init__(self.error_type, message="the client token was used with other parameters")

    window = 600.0
    committed = collections.OrderedDict()  # token -> (digest of the items, expiry)
    original = DynamoHandler.transact_write_items

    def transact_write_items(self):
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        # Binary attributes arrive as bytes.
        items = json.dumps(self.body.get("TransactItems"), sort_keys=True, default=lambda b: bytes(b).hex())
        digest = hashlib.sha256(items.encode()).hexdigest()
        now = time.monotonic()
        while committed and next(iter(committed.values()))[1] < now:
            committed.popitem(last=False)
        prior = committed.get(token)
        if prior is not None:
            if prior[0] != digest:
                raise IdempotentParameterMismatch()
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        result = original(self)
        committed[token] = (digest, now + window)
        return result

    DynamoHandler.transact_write_items = transact_write_items


def keyed_queries():
    """Makes a Query on a table's own key read its partition instead of sorting the whole table (see the docstring)."""
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_all_items = Table.all_items
    asked = threading.local()

    def all_items(self):
        # Within a keyed query, the only caller is the scan for the asked partition, whose items it filters and
        # sorts by range key itself.
        if getattr(asked, "table", None) is self:
            found = self.items.get(asked.hash_key)
            if found is None:
                return []
            return list(found.values()) if self.range_key_attr else [found]
        return original_all_items(self)

    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        asked.table, asked.hash_key = self, hash_key
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            asked.table = None

    Table.query = query
    Table.all_items = all_items


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    # Request threads would keep the process alive after SystemExit; moto keeps nothing worth flushing.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    light_transactions()
    client_request_tokens()
    keyed_queries()
    # One log line per request cost moto an eighth of its time under load; errors are still logged.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, Serialized(app), threaded=True)


if __name__ == "__main__":
    main()
