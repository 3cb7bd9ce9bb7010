#!/usr/bin/python3
"""Interoperability check: a POS client in Python built from loyalty.proto alone.

It proves that the protocol is usable without any of this repository's
TypeScript: a vendor runs protoc on the .proto and talks to the daemon.

    protoc --python_out=OUT -I protocol protocol/loyalty.proto
    /usr/bin/python3 protocol/interop/pos_client.py --pb-dir OUT \
        --url ws://127.0.0.1:7700/pos --terminal-id ID --secret SECRET [--card NUMBER]

Needs Debian's python3-protobuf and python3-websockets (`.ci/run` installs
them). It sends Hello and checks HelloResult, sends Ping and checks the Pong
nonce, then, when --card is given, sends Identify for that card number. Every
answer must carry the request_id of its request.

Prints one JSON summary on stdout (messages in the proto3 JSON mapping with
the .proto's field names, so int64 values are strings). Exit status: 0 when
every check passed, 1 when one failed (an Error answer, a wrong answer, a
timeout, a dropped connection), 2 on bad usage or missing modules.
"""

import argparse
import asyncio
import json
import random
import sys

REQUIRED = "Debian packages python3-protobuf and python3-websockets (run .ci/run, or: apt-get install -y protobuf-compiler python3-protobuf python3-websockets)"

try:
    import websockets
    from google.protobuf import __version__ as protobuf_version, json_format
except ImportError as error:  # the test reports this message verbatim
    print(f"missing Python module ({error}); install the {REQUIRED}", file=sys.stderr)
    sys.exit(2)


class CheckFailed(Exception):
    """A check failed; the message says which and why."""


def as_dict(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


class Session:
    """One connection; sends a Request and reads its Response, checking request_id."""

    def __init__(self, socket, pb, timeout_s):
        self.socket = socket
        self.pb = pb
        self.timeout_s = timeout_s
        self.last_request_id = 0

    async def call(self, name, request):
        self.last_request_id += 1
        request.request_id = self.last_request_id
        await self.socket.send(request.SerializeToString())
        frame = await asyncio.wait_for(self.socket.recv(), self.timeout_s)
        if not isinstance(frame, bytes):
            raise CheckFailed(f"{name}: the daemon sent a text frame")
        response = self.pb.Response.FromString(frame)
        if response.request_id != request.request_id:
            raise CheckFailed(f"{name}: answer carries request_id {response.request_id}, expected {request.request_id}")
        return response


def error_summary(pb, response):
    error = response.error
    return {"code": pb.ErrorCode.Name(error.code), "message": error.message,
            "details": dict(error.details), "retry_after_ms": error.retry_after_ms}


async def run(args, pb, summary):
    async with websockets.connect(args.url, max_size=256 * 1024, compression=None,
                                  open_timeout=args.timeout_s, close_timeout=args.timeout_s) as socket:
        session = Session(socket, pb, args.timeout_s)

        request = pb.Request()
        request.hello.protocol_version = 1
        request.hello.terminal_id = args.terminal_id
        request.hello.secret = args.secret
        request.hello.client_name = "interop-python"
        request.hello.client_version = f"protobuf-{protobuf_version}/websockets-{websockets.__version__}"
        response = await session.call("hello", request)
        if response.WhichOneof("body") == "error":
            summary["error"] = error_summary(pb, response)
            raise CheckFailed("hello: answered with an error")
        if response.WhichOneof("body") != "hello":
            raise CheckFailed(f"hello: answered with {response.WhichOneof('body')}")
        summary["hello"] = as_dict(response.hello)
        if response.hello.protocol_version != 1:
            raise CheckFailed(f"hello: protocol_version {response.hello.protocol_version}")
        if response.hello.terminal_id != args.terminal_id:
            raise CheckFailed(f"hello: terminal_id {response.hello.terminal_id!r}")

        # Above 2^32 so a 32-bit mistake anywhere shows; below 2^53 because the
        # daemon decodes 64-bit fields to JS numbers.
        nonce = random.randrange(2**40, 2**52)
        request = pb.Request()
        request.ping.nonce = nonce
        response = await session.call("ping", request)
        if response.WhichOneof("body") != "pong":
            raise CheckFailed(f"ping: answered with {response.WhichOneof('body')}")
        summary["pong"] = {"nonce": response.pong.nonce, "sent_nonce": nonce, "server_time_at_ms": response.pong.server_time_at_ms}
        if response.pong.nonce != nonce:
            raise CheckFailed(f"ping: pong nonce {response.pong.nonce}, sent {nonce}")

        if args.card:
            request = pb.Request()
            request.cashier_id = args.cashier
            request.identify.card.card_number = args.card
            response = await session.call("identify", request)
            body = response.WhichOneof("body")
            if body == "error":
                summary["error"] = error_summary(pb, response)
                raise CheckFailed("identify: answered with an error")
            if body != "identify":
                raise CheckFailed(f"identify: answered with {body}")
            summary["identify"] = as_dict(response.identify)
            if response.identify.card_number != args.card:
                raise CheckFailed(f"identify: card_number {response.identify.card_number!r}, asked for {args.card!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pb-dir", required=True, help="directory holding loyalty_pb2.py generated by protoc")
    parser.add_argument("--url", required=True)
    parser.add_argument("--terminal-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--card", help="a card number to identify")
    parser.add_argument("--cashier", default="interop")
    parser.add_argument("--timeout-s", type=float, default=5.0)
    args = parser.parse_args()

    sys.path.insert(0, args.pb_dir)
    try:
        import loyalty_pb2 as pb
    except ImportError as error:
        print(f"cannot import loyalty_pb2 from {args.pb_dir} ({error}); run protoc --python_out first", file=sys.stderr)
        sys.exit(2)

    summary = {"ok": False, "url": args.url}
    try:
        asyncio.run(run(args, pb, summary))
        summary["ok"] = True
    except CheckFailed as failure:
        summary["failure"] = str(failure)
    except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as failure:
        summary["failure"] = f"{type(failure).__name__}: {failure}"
    print(json.dumps(summary, indent=2, sort_keys=True))
    sys.exit(0 if summary["ok"] else 1)


if __name__ == "__main__":
    main()
