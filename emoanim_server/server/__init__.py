"""Live server: protobuf over WebSocket (see docs/protocol.md and proto/emoanim.proto).

``emoanim_pb2`` (generated from proto/emoanim.proto), ``protocol`` (message helpers),
``limits`` (every limit, named), ``session`` (sans-I/O Session: messages in -> messages out),
``streaming`` (live lip-sync: the offline stage functions run incrementally),
``live_eyes_head`` (the eye/head stages' streaming models), ``app`` (the thin asyncio/websockets
layer: health, timeouts, shutdown), ``client`` (reference client), ``cli`` (serve/client).
"""
