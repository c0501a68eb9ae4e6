"""Live server: protobuf over WebSocket (see docs/protocol.md and proto/emoanim.proto).

``protocol`` (message helpers), ``session`` (sans-I/O Session: messages in -> messages out),
``app`` (the asyncio/websockets layer), ``client`` (reference client).
"""
