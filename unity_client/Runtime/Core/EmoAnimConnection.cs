// Plain C# (no UnityEngine): WebSocket transport with a background receive loop, a send loop,
// reconnect with backoff, and main-thread dispatch through Poll().
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net.WebSockets;
using System.Threading;
using System.Threading.Tasks;

namespace EmoAnim
{
    public enum ConnectionState { Disconnected, Connecting, Connected, Closed }

    /// <summary>
    /// One WebSocket to the EmoAnim server carrying one <see cref="ProtocolClient"/>.
    /// <para>Threads: connect/receive/send run on the thread pool; received messages and state changes
    /// are queued and delivered when the owner calls <see cref="Poll"/> (EmoAnimClient does it every
    /// Update on Unity's main thread), so all events and all <see cref="Protocol"/> state live on that thread.</para>
    /// <para>Reconnect: after a failed connect or a dropped connection the next attempt waits
    /// <see cref="Backoff"/> (0.5 s doubling to 10 s, jittered). A dropped connection ends the current
    /// session (reason "disconnected"); a new session starts on the new connection.</para>
    /// <para>Shutdown: <see cref="Dispose"/> sends a WebSocket close (1000) and waits at most
    /// <see cref="CloseTimeout"/> before aborting; Unity calls it from OnDisable / play-mode exit.</para>
    /// WebGL: System.Net.WebSockets is not available in WebGL players; not supported yet (needs a JS bridge).
    /// </summary>
    public sealed class EmoAnimConnection : IDisposable
    {
        public readonly Uri Url;
        public readonly ProtocolClient Protocol = new ProtocolClient();
        public readonly Backoff Backoff = new Backoff();
        public bool AutoReconnect = true;
        public TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
        public TimeSpan CloseTimeout = TimeSpan.FromSeconds(1);
        /// <summary>Largest server message accepted (bytes); larger closes the connection (1009).</summary>
        public int MaxMessageBytes = 16 * 1024 * 1024;
        public string SubProtocol = "emoanim.v1";

        public ConnectionState State { get { return (ConnectionState)Volatile.Read(ref m_State); } }
        public long BytesReceived { get { return Interlocked.Read(ref m_BytesReceived); } }
        public long BytesSent { get { return Interlocked.Read(ref m_BytesSent); } }
        public string LastFailure { get; private set; }
        /// <summary>Connection attempts so far (successful or not).</summary>
        public int ConnectAttempts { get { return Volatile.Read(ref m_Attempts); } }
        /// <summary>Successful connections so far (reconnects = this - 1).</summary>
        public int Connections { get { return Volatile.Read(ref m_Connections); } }

        /// <summary>Raised in Poll() (main thread).</summary>
        public event Action Connected;
        public event Action<string> Disconnected;

        enum EvKind { Connected, Message, Disconnected }
        struct Ev { public EvKind Kind; public byte[] Data; public string Reason; }

        readonly ConcurrentQueue<Ev> m_Events = new ConcurrentQueue<Ev>();
        readonly ConcurrentQueue<byte[]> m_Send = new ConcurrentQueue<byte[]>();
        readonly SemaphoreSlim m_SendSignal = new SemaphoreSlim(0);
        readonly CancellationTokenSource m_Cts = new CancellationTokenSource();
        ClientWebSocket m_Socket;
        Task m_Supervisor;
        int m_State;
        long m_BytesReceived, m_BytesSent;
        int m_Attempts, m_Connections;
        bool m_Disposed;

        public EmoAnimConnection(string url) : this(new Uri(url)) { }
        public EmoAnimConnection(Uri url) { Url = url; }

        /// <summary>Start connecting (and reconnecting) in the background.</summary>
        public void Start()
        {
            if (m_Supervisor != null) return;
            m_Supervisor = Task.Run(() => Supervise(m_Cts.Token));
        }

        /// <summary>
        /// Main thread: push queued protocol messages to the sender, deliver received messages to
        /// <see cref="Protocol"/> and raise events. Returns the number of events handled.
        /// </summary>
        public int Poll()
        {
            int n = 0;
            Ev ev;
            while (m_Events.TryDequeue(out ev))
            {
                n++;
                switch (ev.Kind)
                {
                    case EvKind.Connected: { var h = Connected; if (h != null) h(); break; }
                    case EvKind.Message: Protocol.HandleMessage(ev.Data); break;
                    case EvKind.Disconnected:
                        Protocol.ConnectionLost(ev.Reason);
                        { var h = Disconnected; if (h != null) h(ev.Reason); }
                        break;
                }
            }
            Flush();
            return n;
        }

        /// <summary>Hand the protocol's outgoing messages to the send loop (Poll does this too).</summary>
        public void Flush()
        {
            byte[] b;
            while ((b = Protocol.DequeueOutgoing()) != null)
            {
                if (State != ConnectionState.Connected) { continue; } // dropped: the session cannot survive a reconnect anyway
                m_Send.Enqueue(b);
                m_SendSignal.Release();
            }
        }

        async Task Supervise(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                Volatile.Write(ref m_State, (int)ConnectionState.Connecting);
                var ws = new ClientWebSocket();
                if (!string.IsNullOrEmpty(SubProtocol)) ws.Options.AddSubProtocol(SubProtocol);
                ws.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
                m_Socket = ws;
                Interlocked.Increment(ref m_Attempts);
                string reason = null;
                bool wasConnected = false;
                try
                {
                    using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
                    {
                        timeout.CancelAfter(ConnectTimeout);
                        await ws.ConnectAsync(Url, timeout.Token).ConfigureAwait(false);
                    }
                    wasConnected = true;
                    Interlocked.Increment(ref m_Connections);
                    Backoff.Reset();
                    // drain stale sends from a previous connection
                    byte[] stale; while (m_Send.TryDequeue(out stale)) { }
                    Volatile.Write(ref m_State, (int)ConnectionState.Connected);
                    m_Events.Enqueue(new Ev { Kind = EvKind.Connected });
                    using (var linked = CancellationTokenSource.CreateLinkedTokenSource(ct))
                    {
                        var recv = ReceiveLoop(ws, linked.Token);
                        var send = SendLoop(ws, linked.Token);
                        var first = await Task.WhenAny(recv, send).ConfigureAwait(false);
                        linked.Cancel();
                        try { await first.ConfigureAwait(false); } catch (Exception e) { reason = Describe(e); }
                        if (reason == null) reason = ws.CloseStatus.HasValue
                            ? "closed by server (" + (int)ws.CloseStatus.Value + " " + ws.CloseStatusDescription + ")"
                            : "connection closed";
                    }
                }
                catch (Exception e)
                {
                    reason = Describe(e);
                }
                LastFailure = reason;
                if (ct.IsCancellationRequested) { try { ws.Abort(); } catch { } ws.Dispose(); break; }
                try { ws.Abort(); } catch { }
                ws.Dispose();
                Volatile.Write(ref m_State, (int)ConnectionState.Disconnected);
                if (wasConnected) m_Events.Enqueue(new Ev { Kind = EvKind.Disconnected, Reason = reason });
                if (!AutoReconnect) break;
                try { await Task.Delay(TimeSpan.FromSeconds(Backoff.NextDelay()), ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
            }
            if (State != ConnectionState.Closed) Volatile.Write(ref m_State, (int)ConnectionState.Disconnected);
        }

        static string Describe(Exception e)
        {
            while (e is AggregateException && e.InnerException != null) e = e.InnerException;
            var s = e.GetType().Name + ": " + e.Message;
            if (e.InnerException != null) s += " (" + e.InnerException.Message + ")";
            return s;
        }

        async Task ReceiveLoop(ClientWebSocket ws, CancellationToken ct)
        {
            var buf = new ArraySegment<byte>(new byte[64 * 1024]);
            var ms = new MemoryStream();
            while (!ct.IsCancellationRequested)
            {
                var r = await ws.ReceiveAsync(buf, ct).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close) return;
                Interlocked.Add(ref m_BytesReceived, r.Count);
                ms.Write(buf.Array, 0, r.Count);
                if (ms.Length > MaxMessageBytes)
                {
                    await CloseQuietly(ws, WebSocketCloseStatus.MessageTooBig, "message too big").ConfigureAwait(false);
                    throw new InvalidDataException("server message larger than " + MaxMessageBytes + " bytes");
                }
                if (!r.EndOfMessage) continue;
                if (r.MessageType == WebSocketMessageType.Binary)
                    m_Events.Enqueue(new Ev { Kind = EvKind.Message, Data = ms.ToArray() });
                // text messages are not part of the protocol: ignored
                ms.SetLength(0);
            }
        }

        async Task SendLoop(ClientWebSocket ws, CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                await m_SendSignal.WaitAsync(ct).ConfigureAwait(false);
                byte[] b;
                if (!m_Send.TryDequeue(out b)) continue;
                await ws.SendAsync(new ArraySegment<byte>(b), WebSocketMessageType.Binary, true, ct).ConfigureAwait(false);
                Interlocked.Add(ref m_BytesSent, b.Length);
            }
        }

        async Task CloseQuietly(ClientWebSocket ws, WebSocketCloseStatus status, string text)
        {
            try
            {
                using (var t = new CancellationTokenSource(CloseTimeout))
                    await ws.CloseOutputAsync(status, text, t.Token).ConfigureAwait(false);
            }
            catch { }
        }

        /// <summary>Number of messages waiting to be written to the socket.</summary>
        public int PendingSends { get { return m_Send.Count; } }

        /// <summary>Wait (blocking, for tools and tests) until queued sends are written or the timeout passes.</summary>
        public bool WaitForSends(TimeSpan timeout)
        {
            var end = DateTime.UtcNow + timeout;
            while (m_Send.Count > 0 && DateTime.UtcNow < end) Thread.Sleep(1);
            return m_Send.Count == 0;
        }

        /// <summary>Close cleanly (WebSocket close 1000, bounded by <see cref="CloseTimeout"/>) and stop reconnecting.</summary>
        public void Dispose()
        {
            if (m_Disposed) return;
            m_Disposed = true;
            AutoReconnect = false;
            var ws = m_Socket;
            if (ws != null && ws.State == WebSocketState.Open)
            {
                try { CloseQuietly(ws, WebSocketCloseStatus.NormalClosure, "bye").Wait(CloseTimeout); } catch { }
            }
            m_Cts.Cancel();
            bool ended = true;
            try { if (m_Supervisor != null) ended = m_Supervisor.Wait(CloseTimeout); } catch { }
            if (!ended)
            {
                // a receive the cancellation did not reach (seen on Mono: the process then never exits
                // after Main returns, CI 2026-12-03): abort the socket, which fails every pending I/O
                try { var s = m_Socket; if (s != null) s.Abort(); } catch { }
                try { m_Supervisor.Wait(CloseTimeout); } catch { }
            }
            Volatile.Write(ref m_State, (int)ConnectionState.Closed);
        }
    }
}
