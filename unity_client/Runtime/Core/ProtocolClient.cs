// Plain C# (no UnityEngine): the client side of the EmoAnim protocol as a sans-I/O state machine.
// Bytes in (HandleMessage) -> events out; outgoing messages are queued for the transport to send.
// Testable without sockets; EmoAnimConnection puts it on a WebSocket.
using System;
using System.Collections.Generic;
using EmoAnim.Protocol;

namespace EmoAnim
{
    /// <summary>What to ask the server for (maps to StartSession; see docs/protocol.md).</summary>
    [Serializable]
    public class SessionOptions
    {
        public int SampleRate = 16000;
        public int Channels = 1;
        public AudioEncoding Encoding = AudioEncoding.Pcm16;
        public int Fps = 60;
        public Mode Mode = Mode.Clip;
        public bool Face = true, Eyes = true, Head = true, Body = false, ApplyEmotion = true;
        /// <summary>False: leave StartSession.parts absent (server default: face + eyes + head + emotion).</summary>
        public bool SendParts = true;
        public ulong Seed;
        public string AuthToken = "";
        public string Transcript = "";
        public string ClientName = "EmoAnim Unity client";
        public uint MaxFramesPerBatch;
        /// <summary>BCP-47 language of the speech ("en", "de-DE"); "" = the server's default.</summary>
        public string Language = "";
        /// <summary>Lip-sync engine; Auto lets the server choose (LIVE: the learned model when installed).</summary>
        public LipsyncEngine Lipsync = LipsyncEngine.Auto;
        /// <summary>Initial emotion (null = neutral).</summary>
        public Emotion Emotion;

        public StartSession ToMessage()
        {
            return new StartSession
            {
                ProtocolVersion = (uint)Schema.ProtocolVersion,
                SampleRate = (uint)SampleRate,
                Encoding = Encoding,
                Channels = (uint)Channels,
                Fps = (uint)Fps,
                Rig = Rig.Arkit,
                Naming = CurveNaming.Arkit,
                Parts = SendParts ? new Parts { Face = Face, Eyes = Eyes, Head = Head, Body = Body, Emotion = ApplyEmotion } : null,
                Seed = Seed,
                AuthToken = AuthToken ?? "",
                Mode = Mode,
                Transcript = Transcript ?? "",
                Emotion = Emotion,
                ClientName = ClientName ?? "",
                MaxFramesPerBatch = MaxFramesPerBatch,
                Language = Language ?? "",
                Lipsync = Lipsync,
            };
        }
    }

    public enum SessionState { Starting, Active, Ending, Ended }

    /// <summary>One session (one voice line / one microphone utterance) and the frames it produced.</summary>
    public class StreamSession
    {
        public readonly SessionOptions Options;
        public SessionState State { get; internal set; }
        public SessionStarted Info { get; internal set; }
        public string Id { get { return Info != null ? Info.SessionId : null; } }
        public SessionEnded EndInfo { get; internal set; }
        public Error LastError { get; internal set; }
        /// <summary>Frames in arrival order are also pushed here (ready to sample at any time).</summary>
        public readonly JitterBuffer Buffer = new JitterBuffer();
        /// <summary>Server joint index -> name (body on), or null.</summary>
        public string[] JointNames { get { return Info != null && Info.Skeleton != null ? Info.Skeleton.JointNames : null; } }
        public int[] JointParents { get { return Info != null && Info.Skeleton != null ? Info.Skeleton.Parents : null; } }
        public long FramesReceived { get; internal set; }
        /// <summary>Frames whose index was not the expected next one (should stay 0: the server sends without gaps).</summary>
        public long IndexGaps { get; internal set; }
        public double AudioSecondsSent { get; internal set; }
        internal long NextIndex;
        internal int[] CurveMap; // server curve index -> ARKit index (-1 = not an ARKit curve)

        public event Action<StreamSession> Started;
        public event Action<StreamSession, PoseFrame> FrameReceived;
        /// <summary>The frame as it came off the wire (curves in <see cref="SessionStarted.CurveNames"/> order), before FrameReceived.</summary>
        public event Action<StreamSession, Frame> WireFrameReceived;
        public event Action<StreamSession, Error> ErrorReceived;
        public event Action<StreamSession> Ended;

        internal StreamSession(SessionOptions o) { Options = o; State = SessionState.Starting; }

        internal void RaiseStarted() { var h = Started; if (h != null) h(this); }
        internal void RaiseFrame(PoseFrame f) { var h = FrameReceived; if (h != null) h(this, f); }
        internal void RaiseWireFrame(Frame f) { var h = WireFrameReceived; if (h != null) h(this, f); }
        internal void RaiseError(Error e) { var h = ErrorReceived; if (h != null) h(this, e); }
        internal void RaiseEnded() { var h = Ended; if (h != null) h(this); }

        public bool IsOver { get { return State == SessionState.Ended; } }
    }

    /// <summary>
    /// Client protocol state: at most one session per connection at a time (docs/protocol.md §4).
    /// Not thread-safe: call everything from one thread (Unity's main thread; the transport hands
    /// received messages over in <c>EmoAnimConnection.Poll</c>).
    /// </summary>
    public class ProtocolClient
    {
        readonly Queue<byte[]> m_Outgoing = new Queue<byte[]>();
        ulong m_PingNonce;

        public StreamSession Current { get; private set; }
        public int OutgoingCount { get { return m_Outgoing.Count; } }
        public long MessagesReceived { get; private set; }
        public long BadMessages { get; private set; }

        /// <summary>Errors not tied to a session (e.g. BAD_ORDER while idle) and decode failures.</summary>
        public event Action<Error> ConnectionError;
        public event Action<Pong> PongReceived;

        /// <summary>Next message to put on the wire, or null.</summary>
        public byte[] DequeueOutgoing() { return m_Outgoing.Count > 0 ? m_Outgoing.Dequeue() : null; }

        void Send(ClientMessage m) { m_Outgoing.Enqueue(m.ToByteArray()); }

        public bool CanStart { get { return Current == null || Current.IsOver; } }

        public StreamSession StartSession(SessionOptions options)
        {
            if (!CanStart) throw new InvalidOperationException("a session is already active on this connection (one at a time)");
            var s = new StreamSession(options);
            Current = s;
            Send(ClientMessage.Of(options.ToMessage()));
            return s;
        }

        /// <summary>Mono float samples (-1..1) at the session's sample rate, sent in the session's encoding.</summary>
        public void SendAudio(float[] samples, int offset, int count)
        {
            var s = RequireOpen("SendAudio");
            byte[] data = s.Options.Encoding == AudioEncoding.Float32
                ? AudioConvert.FloatToBytes(samples, offset, count)
                : AudioConvert.FloatToPcm16(samples, offset, count);
            m_Outgoing.Enqueue(ClientMessage.EncodeAudio(data, 0, data.Length));
            s.AudioSecondsSent += (double)count / Math.Max(1, s.Options.Channels) / s.Options.SampleRate;
        }

        /// <summary>Raw bytes already in the session's encoding.</summary>
        public void SendAudioBytes(byte[] data, int offset, int count)
        {
            RequireOpen("SendAudioBytes");
            m_Outgoing.Enqueue(ClientMessage.EncodeAudio(data, offset, count));
        }

        /// <summary>Change the emotion from <paramref name="time"/> (null = now) over <paramref name="transition"/> seconds.</summary>
        public void SendEmotion(Emotion emotion, double? time = null, float transition = 0f)
        {
            RequireOpen("SendEmotion");
            Send(ClientMessage.Of(new EmotionUpdate { Emotion = emotion, Time = time, TransitionS = transition }));
        }

        public void EndAudio()
        {
            var s = RequireOpen("EndAudio");
            Send(ClientMessage.Of(new EndOfAudio()));
            s.State = SessionState.Ending;
        }

        public void Cancel()
        {
            if (Current == null || Current.IsOver) return;
            Send(ClientMessage.Of(new CancelSession()));
            Current.State = SessionState.Ending;
        }

        public ulong Ping(double clientTime)
        {
            m_PingNonce++;
            Send(ClientMessage.Of(new Ping { Nonce = m_PingNonce, ClientTime = clientTime }));
            return m_PingNonce;
        }

        StreamSession RequireOpen(string what)
        {
            if (Current == null || Current.State == SessionState.Ended || Current.State == SessionState.Ending)
                throw new InvalidOperationException(what + ": no open session (call StartSession first; EndAudio closes it)");
            return Current;
        }

        /// <summary>The transport lost the connection: the current session is over (frames already received stay usable).</summary>
        public void ConnectionLost(string reason)
        {
            m_Outgoing.Clear();
            var s = Current;
            if (s == null || s.IsOver) return;
            s.State = SessionState.Ended;
            s.EndInfo = new SessionEnded { SessionId = s.Id ?? "", Reason = "disconnected", FramesSent = (uint)s.FramesReceived };
            s.LastError = new Error { Code = ErrorCode.Unspecified, CodeName = "DISCONNECTED", Message = reason, Fatal = true };
            s.Buffer.MarkEndOfStream();
            s.RaiseError(s.LastError);
            s.RaiseEnded();
        }

        /// <summary>Handle one received binary WebSocket message.</summary>
        public void HandleMessage(byte[] data) { HandleMessage(data, 0, data.Length); }

        public void HandleMessage(byte[] data, int offset, int count)
        {
            MessagesReceived++;
            ServerMessage m;
            try { m = ServerMessage.Parse(data, offset, count); }
            catch (ProtoException e)
            {
                BadMessages++;
                RaiseConnectionError(new Error { Code = ErrorCode.BadMessage, CodeName = "BAD_MESSAGE", Message = "client could not decode a server message: " + e.Message });
                return;
            }
            var s = Current;
            switch (m.Case)
            {
                case ServerMessageCase.Started:
                    if (s == null || s.State == SessionState.Ended) { BadMessages++; return; }
                    s.Info = m.Started;
                    s.CurveMap = BuildCurveMap(m.Started.CurveNames);
                    if (s.State == SessionState.Starting) s.State = SessionState.Active;
                    double lat = m.Started.Mode == Mode.Live ? Math.Max(0.1, m.Started.BufferLatencyS) : 0.1;
                    s.Buffer.TargetDelay = lat;
                    s.RaiseStarted();
                    break;
                case ServerMessageCase.Frames:
                    if (s == null || s.Info == null) { BadMessages++; return; }
                    foreach (var f in m.Frames.Frames)
                    {
                        s.RaiseWireFrame(f);
                        var pf = ToPoseFrame(f, s.CurveMap);
                        if (f.Index != s.NextIndex) s.IndexGaps++;
                        s.NextIndex = f.Index + 1L;
                        s.FramesReceived++;
                        s.Buffer.Add(pf);
                        s.RaiseFrame(pf);
                    }
                    break;
                case ServerMessageCase.Error:
                    if (s != null && !s.IsOver && (s.State != SessionState.Starting || m.Error.Fatal))
                    {
                        s.LastError = m.Error;
                        s.RaiseError(m.Error);
                        // A refused StartSession (fatal, no session yet) gets no SessionEnded: end it here.
                        if (m.Error.Fatal && s.State == SessionState.Starting) EndSession(s, new SessionEnded { Reason = "error" });
                    }
                    else RaiseConnectionError(m.Error);
                    break;
                case ServerMessageCase.Ended:
                    if (s != null && !s.IsOver) EndSession(s, m.Ended);
                    break;
                case ServerMessageCase.Pong:
                    var h = PongReceived; if (h != null) h(m.Pong);
                    break;
                default:
                    break; // unknown envelope field from a newer server: ignore
            }
        }

        static void EndSession(StreamSession s, SessionEnded ended)
        {
            s.EndInfo = ended;
            s.State = SessionState.Ended;
            s.Buffer.MarkEndOfStream();
            s.RaiseEnded();
        }

        void RaiseConnectionError(Error e) { var h = ConnectionError; if (h != null) h(e); }

        /// <summary>Server curve order -> ARKit indices (any naming style is understood).</summary>
        public static int[] BuildCurveMap(string[] names)
        {
            var map = new int[names.Length];
            for (int i = 0; i < names.Length; i++) map[i] = ArkitNames.Match(names[i]);
            return map;
        }

        /// <summary>Wire frame -> PoseFrame (server space; the Unity drivers convert to Unity space).</summary>
        public static PoseFrame ToPoseFrame(Frame f, int[] curveMap)
        {
            var p = new PoseFrame { Index = f.Index, Time = f.Time };
            int n = Math.Min(f.Curves.Length, curveMap != null ? curveMap.Length : 0);
            for (int i = 0; i < n; i++) { int k = curveMap[i]; if (k >= 0) p.Curves[k] = f.Curves[i]; }
            // the wire carries head and eye yaw in Live Link Face's sign (+ = toward the character's
            // right); PoseFrame keeps the server's in-memory one (+ = to the character's left), which
            // the drivers apply (CoordinateConversion.YawPitchRollToUnity)
            if (f.Head.Length >= 3) { p.HeadYaw = -f.Head[0]; p.HeadPitch = f.Head[1]; p.HeadRoll = f.Head[2]; p.HasHead = true; }
            if (f.Eyes.Length >= 6)
            {
                p.LeftEyeYaw = -f.Eyes[0]; p.LeftEyePitch = f.Eyes[1];
                p.RightEyeYaw = -f.Eyes[3]; p.RightEyePitch = f.Eyes[4];
                p.HasEyes = true;
            }
            int j = f.JointRotations.Length / 4;
            if (j > 0)
            {
                p.JointRotations = new Quat[j];
                for (int i = 0; i < j; i++)
                    p.JointRotations[i] = new Quat(f.JointRotations[4 * i], f.JointRotations[4 * i + 1], f.JointRotations[4 * i + 2], f.JointRotations[4 * i + 3]);
            }
            if (f.RootPosition.Length >= 3) { p.RootPosition = new Vec3(f.RootPosition[0], f.RootPosition[1], f.RootPosition[2]); p.HasRootPosition = true; }
            return p;
        }
    }
}
