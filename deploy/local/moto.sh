# moto in server mode: the DynamoDB, DynamoDB Streams and S3 APIs. Sourced by deploy/local/stack.sh, which sets
# LOCAL and MOTO_PORT.

MOTO_VERSION=5.2.1

# moto_install installs moto with its server extra through pip when the machine lacks it.
moto_install() {
  python3 -c 'import moto.server, flask, flask_cors' 2>/dev/null && command -v moto_server >/dev/null && return 0
  echo "stack: installing moto[server]==$MOTO_VERSION (pip)"
  python3 -m pip install -q "moto[server]==$MOTO_VERSION" || return 1
  hash -r
}

# moto_start starts the server; its state lives in memory and is gone when it stops. It runs moto's application
# through deploy/local/moto/serialized_server.py, one request at a time, because moto's conditional writes are not
# atomic under concurrent requests and DynamoDB's are (see that file).
moto_start() {
  spawn moto python3 "$HERE/moto/serialized_server.py" 127.0.0.1 "$MOTO_PORT"
}

# moto_ready succeeds when the DynamoDB API answers ListTables.
moto_ready() {
  curl -fsS -m 2 -X POST "http://127.0.0.1:$MOTO_PORT/" \
    -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' | grep -q TableNames
}
