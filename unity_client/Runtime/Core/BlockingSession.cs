// Plain C# (no UnityEngine): run one whole session synchronously (Editor baking, tools, tests).
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using EmoAnim.Protocol;

namespace EmoAnim
{
    /// <summary>
    /// Streams a whole mono signal through one session and collects every frame. Blocking: use it
    /// from Editor tools (the bake window), command-line tools and tests, not from a MonoBehaviour's Update.
    /// </summary>
    public static class BlockingSession
    {
        public sealed class Result
        {
            public SessionStarted Info;
            public SessionEnded Ended;
            public Error Error;
            public readonly List<PoseFrame> Frames = new List<PoseFrame>();
            /// <summary>Wire frames as received (curves in <see cref="SessionStarted.CurveNames"/> order).</summary>
            public readonly List<Frame> RawFrames = new List<Frame>();
            public long IndexGaps;
            public double FirstFrameSeconds = double.NaN; // wall time from the first audio sent to the first frame
            public double TotalSeconds;
            public bool Completed { get { return Ended != null && Ended.Reason == "completed"; } }
        }

        /// <summary>
        /// Connect to <paramref name="url"/>, start a session with <paramref name="options"/> (its
        /// SampleRate/Channels are set from the arguments), send <paramref name="mono"/> in chunks of
        /// <paramref name="chunkSeconds"/> (paced in real time when <paramref name="realtime"/>), end the
        /// audio and wait for SessionEnded. <paramref name="progress"/> gets 0..1 (audio sent, then frames).
        /// </summary>
        public static Result Run(string url, float[] mono, int sampleRate, SessionOptions options, TimeSpan timeout,
                                 double chunkSeconds = 0.5, bool realtime = false, Action<float> progress = null,
                                 CancellationToken ct = default(CancellationToken))
        {
            return Run(url, mono, sampleRate, options, timeout, chunkSeconds, realtime, null, progress, ct);
        }

        /// <summary>An emotion change at a time of the line (sent when the audio reaches it).</summary>
        public struct EmotionKey
        {
            public double Time;
            public Emotion Emotion;
            public float Transition;
            public EmotionKey(double time, Emotion emotion, float transition = 0f) { Time = time; Emotion = emotion; Transition = transition; }
        }

        /// <summary>
        /// As above, plus <paramref name="emotionKeys"/>: each EmotionUpdate (with its time) is sent just
        /// before the first audio chunk that starts at or after that time (the reference Python client's order).
        /// </summary>
        public static Result Run(string url, float[] mono, int sampleRate, SessionOptions options, TimeSpan timeout,
                                 double chunkSeconds, bool realtime, IList<EmotionKey> emotionKeys, Action<float> progress = null,
                                 CancellationToken ct = default(CancellationToken))
        {
            var sw = Stopwatch.StartNew();
            using (var conn = new EmoAnimConnection(url) { AutoReconnect = false })
            {
                conn.Start();
                while (conn.State != ConnectionState.Connected)
                {
                    if (sw.Elapsed > timeout || ct.IsCancellationRequested) throw new TimeoutException("could not connect to " + url + ": " + conn.LastFailure);
                    if (conn.State == ConnectionState.Disconnected && conn.LastFailure != null) throw new InvalidOperationException("could not connect to " + url + ": " + conn.LastFailure);
                    Thread.Sleep(2);
                }
                conn.Poll();
                return RunOn(conn, mono, sampleRate, options, timeout - sw.Elapsed, chunkSeconds, realtime, emotionKeys, progress, ct);
            }
        }

        /// <summary>Run one session on an already connected <paramref name="conn"/> (kept open afterwards).</summary>
        public static Result RunOn(EmoAnimConnection conn, float[] mono, int sampleRate, SessionOptions options, TimeSpan timeout,
                                   double chunkSeconds = 0.5, bool realtime = false, IList<EmotionKey> emotionKeys = null,
                                   Action<float> progress = null, CancellationToken ct = default(CancellationToken))
        {
            var pending = new List<EmotionKey>(emotionKeys ?? new EmotionKey[0]);
            pending.Sort((a, b) => a.Time.CompareTo(b.Time));
            options.SampleRate = sampleRate;
            options.Channels = 1;
            var result = new Result();
            var sw = Stopwatch.StartNew();
            double firstAudio = double.NaN;
            {
                var p = conn.Protocol;
                var s = p.StartSession(options);
                s.FrameReceived += (ss, f) => { result.Frames.Add(f); if (double.IsNaN(result.FirstFrameSeconds)) result.FirstFrameSeconds = sw.Elapsed.TotalSeconds - firstAudio; };
                Action<Error> onError = e => { if (result.Error == null) result.Error = e; };
                p.ConnectionError += onError;
                try
                {
                    s.WireFrameReceived += (ss, f) => result.RawFrames.Add(f);
                    int chunk = AudioConvert.ChunkSamples(sampleRate, chunkSeconds);
                    int sent = 0;

                    // wait for SessionStarted (errors end the session)
                    while (s.State == SessionState.Starting)
                    {
                        Pump(conn, sw, timeout, ct);
                    }
                    if (s.IsOver) { result.Error = s.LastError; result.Ended = s.EndInfo; return result; }
                    result.Info = s.Info;
                    firstAudio = sw.Elapsed.TotalSeconds;
                    while (sent < mono.Length && !s.IsOver)
                    {
                        double now = (double)sent / sampleRate;
                        while (pending.Count > 0 && pending[0].Time <= now)
                        {
                            p.SendEmotion(pending[0].Emotion, pending[0].Time, pending[0].Transition);
                            pending.RemoveAt(0);
                        }
                        int n = Math.Min(chunk, mono.Length - sent);
                        p.SendAudio(mono, sent, n);
                        sent += n;
                        conn.Flush();
                        if (progress != null) progress(0.5f * sent / Math.Max(1, mono.Length));
                        if (realtime)
                        {
                            double due = firstAudio + (double)sent / sampleRate;
                            while (sw.Elapsed.TotalSeconds < due) Pump(conn, sw, timeout, ct);
                        }
                        else conn.Poll();
                    }
                    foreach (var k in pending) if (!s.IsOver) p.SendEmotion(k.Emotion, k.Time, k.Transition);
                    if (!s.IsOver) p.EndAudio();
                    conn.Flush();
                    double expected = Math.Ceiling(mono.Length / (double)sampleRate * Math.Max(1, s.Info.Fps) - 1e-9) + 1;
                    while (!s.IsOver)
                    {
                        Pump(conn, sw, timeout, ct);
                        if (progress != null) progress(0.5f + 0.5f * (float)Math.Min(1.0, s.FramesReceived / expected));
                    }
                    result.Ended = s.EndInfo;
                    if (result.Error == null) result.Error = s.LastError;
                    result.IndexGaps = s.IndexGaps;
                }
                finally { p.ConnectionError -= onError; }
            }
            result.TotalSeconds = sw.Elapsed.TotalSeconds;
            return result;
        }

        static void Pump(EmoAnimConnection conn, Stopwatch sw, TimeSpan timeout, CancellationToken ct)
        {
            if (sw.Elapsed > timeout) throw new TimeoutException("session did not finish within " + timeout.TotalSeconds + " s");
            if (ct.IsCancellationRequested) throw new OperationCanceledException(ct);
            if (conn.Poll() == 0) Thread.Sleep(1);
        }
    }
}
