#!/usr/bin/env python3
"""Run a Wharf function from Python: produce an Event, read its JobResult.

Uses confluent-kafka (on librdkafka) and the avro package. The schemas come from the registry, as a client on a fresh
installation would take them: nothing from Wharf's repository is needed.

    python3 invoke.py BOOTSTRAP REGISTRY_URL FUNCTION PAYLOAD [TIMEOUT_SECONDS]

Prints the result as one JSON line; exits 0 only if the job SUCCEEDED.
"""
import io
import json
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

import avro.io
import avro.schema
from confluent_kafka import Consumer, Producer


def latest(registry, subject):
    """The latest version of a subject: its id and parsed schema."""
    with urllib.request.urlopen(f"{registry}/subjects/{subject}/versions/latest") as response:
        version = json.load(response)
    return version["id"], avro.schema.parse(version["schema"])


def schema_by_id(registry, schema_id, cache={}):
    if schema_id not in cache:
        with urllib.request.urlopen(f"{registry}/schemas/ids/{schema_id}") as response:
            cache[schema_id] = avro.schema.parse(json.load(response)["schema"])
    return cache[schema_id]


def encode(schema_id, schema, record):
    """Confluent wire format: magic byte 0, the schema id as 4 bytes big-endian, then Avro binary."""
    out = io.BytesIO()
    out.write(struct.pack(">bI", 0, schema_id))
    avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(out))
    return out.getvalue()


def decode(registry, data):
    magic, schema_id = struct.unpack(">bI", data[:5])
    if magic != 0:
        raise ValueError(f"not the Confluent wire format (first byte {magic})")
    writer = schema_by_id(registry, schema_id)
    return avro.io.DatumReader(writer).read(avro.io.BinaryDecoder(io.BytesIO(data[5:])))


def main(bootstrap, registry, function, payload, timeout=60.0):
    event_id, event_schema = latest(registry, "wharf.events-value")
    job_id = str(uuid.uuid4())
    event = {
        "id": job_id, "tenant": "default", "function": function, "source": "MANUAL", "key": None,
        "payload": payload.encode(), "contentType": "text/plain", "headers": {}, "idempotencyKey": None,
        "createdAt": datetime.now(timezone.utc), "runAt": None, "callback": None, "priority": None, "fanOut": False,
    }
    # Results are keyed by job id; start reading before producing so none is missed.
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"python-{job_id}", "auto.offset.reset": "latest",
        "isolation.level": "read_committed",  # only results whose transaction committed: exactly one per job
        "enable.auto.commit": False,
    })
    assigned = []
    consumer.subscribe(["wharf.results"], on_assign=lambda c, partitions: assigned.extend(partitions))
    deadline = time.time() + timeout
    while not assigned and time.time() < deadline:
        consumer.poll(0.2)

    # murmur2_random puts the event on the partition Java's producer would, its function's. Any other partitioner
    # works too; the dispatcher then moves the event there first, which costs one more trip through Kafka.
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "partitioner": "murmur2_random"})
    producer.produce("wharf.events", key=function.encode(), value=encode(event_id, event_schema, event))
    producer.flush(10)

    try:
        while time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() or message.key() != job_id.encode():
                continue
            try:
                result = decode(registry, message.value())
            except urllib.error.URLError:
                raise  # the registry is away: the result is sound, so stop rather than skip it (a service would retry)
            except Exception as e:  # bytes that are not a result: report where they are and read on
                print(f"undecodable result at {message.topic()}-{message.partition()}@{message.offset()}: {e}", file=sys.stderr)
                continue
            body = result.get("body")
            print(json.dumps({"jobId": result["jobId"], "status": result["status"], "exitCode": result.get("exitCode"),
                              "body": body.decode(errors="replace") if body is not None else None, "error": result.get("error")}))
            return 0 if result["status"] == "SUCCEEDED" else 1
        print(json.dumps({"jobId": job_id, "status": "NO_RESULT", "error": f"no result within {timeout} s"}))
        return 3
    finally:
        consumer.close()


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4], *map(float, sys.argv[5:6])))
