"""Live server: protobuf over WebSocket (see docs/protocol.md and proto/emoanim.proto).

``emoanim_pb2`` (generated from proto/emoanim.proto), ``protocol`` (message helpers),
``limits`` (every limit, named), ``session`` (sans-I/O Session: messages in -> messages out;
LIVE sessions feed ``pipeline.LiveGraph``, the stage graph run incrementally), ``app`` (the thin asyncio/websockets
layer: health, timeouts, shutdown), ``client`` (reference client), ``cli`` (serve/client).
"""
