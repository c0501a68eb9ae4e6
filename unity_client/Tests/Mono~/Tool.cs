// emoanim-cs-tool: drives the package's plain-C# core from the command line (used by
// tests/test_unity_client.py; handy for debugging a server without Unity).
//   schema                      print the schema the codec implements
//   decode DIR                  for every DIR/<Type>__<case>.py.bin: parse, write .cs.json and re-encoded .cs.bin
//   encode DIR                  write a corpus of C#-built messages: DIR/<Type>__<case>.cs.bin + .cs.json
//   stream --wav F [--url U | --launch EXE --args A --port P] [--mode live|clip] [--chunk-ms 20]
//   reconnect --url U --wav F [--sessions 2] [--seconds 1]
//                               connect (retrying with backoff until a server appears), run a LIVE session,
//                               wait for the connection to drop, reconnect, run again...; one status line each
//          [--fps 60] [--seed N] [--realtime] [--token T] [--body] [--emotion happy:0.8] [--emotion-at T:CAT:INT]... [--out frames.json] [--timeout 120]
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using EmoAnim;
using EmoAnim.Protocol;

static class Tool
{
    static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] == "--help") { Console.WriteLine("usage: schema | decode DIR | encode DIR | stream --wav F ..."); return args.Length == 0 ? 2 : 0; }
        try
        {
            switch (args[0])
            {
                case "schema": Console.Write(Schema.Describe()); return 0;
                case "decode": return Decode(args[1]);
                case "encode": return Encode(args[1]);
                case "stream": return Stream(args);
                case "reconnect": return Reconnect(args);
                default: Console.Error.WriteLine("unknown command " + args[0]); return 2;
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("error: " + e);
            return 1;
        }
    }

    static IProtoMessage ParseAs(string type, byte[] b)
    {
        switch (type)
        {
            case "ClientMessage": return ClientMessage.Parse(b);
            case "ServerMessage": return ServerMessage.Parse(b);
            default: throw new ArgumentException("unknown type " + type);
        }
    }

    static byte[] Encode(IProtoMessage m) { var w = new ProtoWriter(); m.WriteTo(w); return w.ToArray(); }

    static int Decode(string dir)
    {
        int n = 0;
        foreach (var path in Directory.GetFiles(dir, "*.py.bin"))
        {
            string name = Path.GetFileName(path);
            name = name.Substring(0, name.Length - ".py.bin".Length);
            string type = name.Substring(0, name.IndexOf("__", StringComparison.Ordinal));
            var m = ParseAs(type, File.ReadAllBytes(path));
            File.WriteAllText(Path.Combine(dir, name + ".cs.json"), JsonOut.Of(m));
            File.WriteAllBytes(Path.Combine(dir, name + ".cs.bin"), Encode(m));
            n++;
        }
        Console.WriteLine("decoded " + n);
        return n > 0 ? 0 : 1;
    }

    static float[] Seq(int n, float scale, float offset)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = offset + scale * i;
        return a;
    }

    static int Encode(string dir)
    {
        var corpus = new List<KeyValuePair<string, IProtoMessage>>();
        Action<string, IProtoMessage> add = (n, m) => corpus.Add(new KeyValuePair<string, IProtoMessage>(n, m));
        // client -> server: what the Unity client sends
        add("ClientMessage__start_default", ClientMessage.Of(new SessionOptions().ToMessage()));
        add("ClientMessage__start_full", ClientMessage.Of(new StartSession
        {
            ProtocolVersion = 1, SampleRate = 44100, Encoding = AudioEncoding.Float32, Channels = 2, Fps = 25,
            Rig = Rig.Custom, Naming = CurveNaming.Pascal, CustomRigJson = "{\"curves\": {\"a\": 1}}",
            Parts = new Parts { Face = true, Eyes = true, Head = false, Body = true, Emotion = true },
            Seed = 12345678901234567890UL, AuthToken = "s3cr\u00e9t", Mode = Mode.Clip, Transcript = "Hello, world \u2014 \u4f60\u597d",
            Emotion = new Emotion("happy", 0.7f) { Valence = 0.5f, Arousal = -0.25f, Dominance = 0f, Mixture = new[] { new EmotionWeight("happy", 2f), new EmotionWeight("surprised", 0.5f) } },
            ClientName = "Unity 6000.0 / NPC_Guard", MaxFramesPerBatch = 120,
        }));
        var pcm = new byte[960];
        for (int i = 0; i < pcm.Length; i++) pcm[i] = (byte)(i * 31 + 7);
        add("ClientMessage__audio", new ClientMessage { Audio = new AudioChunk { Data = pcm } });
        add("ClientMessage__audio_fastpath", new RawMessage(ClientMessage.EncodeAudio(pcm, 0, pcm.Length), "{\"audio\":{\"data\":\"" + Convert.ToBase64String(pcm) + "\"}}"));
        add("ClientMessage__emotion_now", ClientMessage.Of(new EmotionUpdate { Emotion = new Emotion("sad", 0.4f), TransitionS = 0.5f }));
        add("ClientMessage__emotion_at_zero", ClientMessage.Of(new EmotionUpdate { Time = 0.0, Emotion = new Emotion("angry", 1f) }));
        add("ClientMessage__emotion_at", ClientMessage.Of(new EmotionUpdate { Time = 1.25, Emotion = new Emotion { Valence = -0.5f, Arousal = 0.75f, Dominance = -1f } }));
        add("ClientMessage__end", ClientMessage.Of(new EndOfAudio()));
        add("ClientMessage__cancel", ClientMessage.Of(new CancelSession()));
        add("ClientMessage__ping", ClientMessage.Of(new Ping { Nonce = ulong.MaxValue, ClientTime = 1234.5678 }));
        // server -> client (for completeness: the codec is symmetric)
        add("ServerMessage__started", new ServerMessage { Started = new SessionStarted
        {
            ProtocolVersion = 1, SessionId = "abc-123", Fps = 60, CurveNames = ArkitNames.Names,
            Skeleton = new Skeleton { JointNames = new[] { "pelvis", "spine", "upper_arm.L" }, Parents = new[] { -1, 0, 1 }, RestOffsets = Seq(9, 0.1f, -0.4f) },
            BufferLatencyS = 0.3f, Parts = new Parts { Face = true, Eyes = true, Head = true }, ServerVersion = "0.1.0", Mode = Mode.Live,
            Limits = new Limits { MaxMessageBytes = 1048576, MaxSampleRate = 48000, MinSampleRate = 8000, MaxSessionSeconds = 300, MaxSessionsPerClient = 16, IdleTimeoutS = 30, MaxFramesPerBatch = 600 },
            LookaheadS = 0.2f,
        } });
        add("ServerMessage__frames", new ServerMessage { Frames = new FrameBatch { Frames = new[]
        {
            new Frame { Index = 0, Time = 0, Curves = Seq(52, 1 / 51f, 0), Head = new[] { 0.01f, -0.02f, 0.03f }, Eyes = Seq(6, -0.1f, 0.2f) },
            new Frame { Index = 1, Time = 1 / 60.0, Curves = Seq(52, -1 / 60f, 1), JointRotations = Seq(12, 0.05f, -0.3f), RootPosition = new[] { 0.01f, 0.93f, -0.02f } },
            new Frame { Index = 4000000000, Time = 66666.66666666667 },
        } } });
        add("ServerMessage__error", new ServerMessage { Error = new Error { Code = ErrorCode.ShuttingDown, CodeName = "SHUTTING_DOWN", Message = "server \"stopping\"\n", Fatal = true } });
        add("ServerMessage__ended", new ServerMessage { Ended = new SessionEnded { SessionId = "abc", Reason = "completed", FramesSent = 301, AudioSeconds = 5.0125, EmotionUpdates = 2, ProcessingSeconds = 0.125, FirstFrameLatencyS = 0.031, MaxFrameLatencyS = 0.25, BytesReceived = 1UL << 40, BytesSent = 77 } });
        add("ServerMessage__pong", new ServerMessage { Pong = new Pong { Nonce = 7, ClientTime = -1.5, ServerTime = 3600.25 } });
        Directory.CreateDirectory(dir);
        foreach (var kv in corpus)
        {
            File.WriteAllBytes(Path.Combine(dir, kv.Key + ".cs.bin"), Encode(kv.Value));
            File.WriteAllText(Path.Combine(dir, kv.Key + ".cs.json"), kv.Value is RawMessage ? kv.Value.ToString() : JsonOut.Of(kv.Value));
        }
        Console.WriteLine("encoded " + corpus.Count);
        return 0;
    }

    /// <summary>Pre-encoded bytes with their JSON (for the audio fast path).</summary>
    sealed class RawMessage : IProtoMessage
    {
        readonly byte[] m_Bytes; readonly string m_Json;
        public RawMessage(byte[] b, string json) { m_Bytes = b; m_Json = json; }
        public void WriteTo(ProtoWriter w) { w.WriteRawBytes(m_Bytes, 0, m_Bytes.Length); }
        public void WriteJson(JsonOut j) { throw new NotSupportedException(); }
        public override string ToString() { return m_Json; }
    }

    static string Arg(string[] args, string name, string def)
    {
        for (int i = 0; i < args.Length - 1; i++) if (args[i] == name) return args[i + 1];
        return def;
    }

    static bool Flag(string[] args, string name) { return Array.IndexOf(args, name) >= 0; }

    static string F(double d) { return d.ToString("R", CultureInfo.InvariantCulture); }

    static int Reconnect(string[] args)
    {
        string url = Arg(args, "--url", "ws://127.0.0.1:8765/");
        var wav = WavData.Load(Arg(args, "--wav", null));
        var mono = AudioConvert.Downmix(wav.Samples, wav.Channels);
        int n = Math.Min(mono.Length, (int)(wav.SampleRate * double.Parse(Arg(args, "--seconds", "1"), CultureInfo.InvariantCulture)));
        Array.Resize(ref mono, n);
        int sessions = int.Parse(Arg(args, "--sessions", "2"));
        var timeout = TimeSpan.FromSeconds(double.Parse(Arg(args, "--timeout", "60"), CultureInfo.InvariantCulture));
        using (var conn = new EmoAnimConnection(url))
        {
            conn.Backoff.Initial = 0.1; conn.Backoff.Max = 0.5;
            string dropped = null;
            conn.Disconnected += r => dropped = r;
            conn.Start();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (int k = 0; k < sessions; k++)
            {
                while (conn.State != ConnectionState.Connected) { if (sw.Elapsed > timeout) throw new TimeoutException("no connection"); conn.Poll(); System.Threading.Thread.Sleep(5); }
                conn.Poll();
                Console.WriteLine("connected " + k + " attempts=" + conn.ConnectAttempts + " connections=" + conn.Connections);
                var res = BlockingSession.RunOn(conn, mono, wav.SampleRate, new SessionOptions { Mode = Mode.Live, SendParts = false }, timeout, 0.02);
                Console.WriteLine("session " + k + " frames=" + res.RawFrames.Count + " reason=" + (res.Ended != null ? res.Ended.Reason : "-"));
                if (k == sessions - 1) break;
                dropped = null;
                while (dropped == null) { if (sw.Elapsed > timeout) throw new TimeoutException("no disconnect"); conn.Poll(); System.Threading.Thread.Sleep(5); }
                Console.WriteLine("disconnected " + k + " (" + dropped.Replace('\n', ' ') + ")");
            }
            Console.WriteLine("done");
        }
        return 0;
    }

    static int Stream(string[] args)
    {
        string wavPath = Arg(args, "--wav", null);
        string url = Arg(args, "--url", "ws://127.0.0.1:8765/");
        string launch = Arg(args, "--launch", null);
        string outPath = Arg(args, "--out", null);
        var wav = WavData.Load(wavPath);
        var mono = AudioConvert.Downmix(wav.Samples, wav.Channels);
        var opt = new SessionOptions
        {
            Fps = int.Parse(Arg(args, "--fps", "60")),
            Mode = Arg(args, "--mode", "live") == "clip" ? Mode.Clip : Mode.Live,
            Seed = ulong.Parse(Arg(args, "--seed", "0")),
            ClientName = "emoanim-cs-tool (Mono)",
            AuthToken = Arg(args, "--token", ""),
        };
        string emotion = Arg(args, "--emotion", null);
        if (emotion != null)
        {
            var p = emotion.Split(':');
            opt.Emotion = new Emotion(p[0], p.Length > 1 ? float.Parse(p[1], CultureInfo.InvariantCulture) : 1f);
        }
        ServerProcess server = null;
        var log = new StringBuilder();
        try
        {
            if (launch != null)
            {
                server = new ServerProcess
                {
                    Executable = launch,
                    Arguments = Arg(args, "--args", "serve --host {host} --port {port}"),
                    Port = int.Parse(Arg(args, "--port", "8765")),
                    StartTimeout = TimeSpan.FromSeconds(double.Parse(Arg(args, "--start-timeout", "60"), CultureInfo.InvariantCulture)),
                };
                server.FindOrStart();
                url = server.WebSocketUrl;
                log.Append("\"server_started_by_us\":").Append(server.StartedByUs ? "true" : "false").Append(",\"server_pid\":").Append(server.ProcessId).Append(',');
            }
            var keys = new List<BlockingSession.EmotionKey>();
            for (int i = 0; i < args.Length - 1; i++)
            {
                if (args[i] != "--emotion-at") continue;
                var p = args[i + 1].Split(':');   // TIME:CATEGORY[:INTENSITY]
                keys.Add(new BlockingSession.EmotionKey(double.Parse(p[0], CultureInfo.InvariantCulture),
                    new Emotion(p[1], p.Length > 2 ? float.Parse(p[2], CultureInfo.InvariantCulture) : 1f)));
            }
            opt.SendParts = Flag(args, "--body");
            opt.Body = Flag(args, "--body");
            var res = BlockingSession.Run(url, mono, wav.SampleRate, opt,
                TimeSpan.FromSeconds(double.Parse(Arg(args, "--timeout", "120"), CultureInfo.InvariantCulture)),
                double.Parse(Arg(args, "--chunk-ms", "20"), CultureInfo.InvariantCulture) / 1000.0, Flag(args, "--realtime"), keys);
            var sb = new StringBuilder("{");
            sb.Append(log);
            sb.Append("\"sample_rate\":").Append(wav.SampleRate).Append(",\"samples\":").Append(mono.Length);
            if (res.Info != null) sb.Append(",\"started\":").Append(JsonOut.Of(res.Info));
            if (res.Ended != null) sb.Append(",\"ended\":").Append(JsonOut.Of(res.Ended));
            if (res.Error != null) sb.Append(",\"error\":").Append(JsonOut.Of(res.Error));
            sb.Append(",\"index_gaps\":").Append(res.IndexGaps);
            sb.Append(",\"first_frame_s\":").Append(double.IsNaN(res.FirstFrameSeconds) ? "null" : F(res.FirstFrameSeconds));
            sb.Append(",\"total_s\":").Append(F(res.TotalSeconds));
            sb.Append(",\"frames\":[");
            for (int i = 0; i < res.RawFrames.Count; i++)
            {
                if (i > 0) sb.Append(',');
                sb.Append(JsonOut.Of(res.RawFrames[i]));
            }
            sb.Append("],\"poses\":[");
            for (int i = 0; i < res.Frames.Count; i++)
            {
                var p = res.Frames[i];
                if (i > 0) sb.Append(',');
                sb.Append("{\"index\":").Append(p.Index).Append(",\"jawOpen\":").Append(F(p.Curves[17]))
                  .Append(",\"head\":[").Append(F(p.HeadYaw)).Append(',').Append(F(p.HeadPitch)).Append(',').Append(F(p.HeadRoll)).Append("]}");
            }
            sb.Append("]}");
            if (outPath != null) File.WriteAllText(outPath, sb.ToString());
            Console.WriteLine("frames " + res.RawFrames.Count + " ended " + (res.Ended != null ? res.Ended.Reason : "-") + " error " + (res.Error != null ? res.Error.ToString() : "-"));
            return res.Completed ? 0 : 3;
        }
        finally
        {
            if (server != null)
            {
                bool ours = server.StartedByUs;
                server.Stop();
                Console.WriteLine("server stopped: " + ours + "; port free: " + !server.PortInUse());
            }
        }
    }
}
