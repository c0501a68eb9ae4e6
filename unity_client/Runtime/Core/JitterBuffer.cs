// Plain C# (no UnityEngine): frame jitter buffer with interpolation.
using System;
using System.Collections.Generic;

namespace EmoAnim
{
    /// <summary>
    /// Holds frames received from the network, ordered by time, and answers "what is the pose at
    /// time t" by interpolating between the two frames around t. Network delivery is bursty (frames
    /// arrive in batches, sometimes late, duplicated after a reconnect); playback is smooth because:
    /// <list type="bullet">
    /// <item>playback starts only when <see cref="TargetDelay"/> seconds of frames are buffered
    /// (<see cref="IsReady"/>) or the stream has ended;</item>
    /// <item>frames are inserted by time (out-of-order arrivals are fine, a duplicate index replaces
    /// the old frame), frames for times already played are counted as <see cref="LateFrames"/> and dropped;</item>
    /// <item>when the playhead passes the newest frame the last pose is held and
    /// <see cref="Underruns"/> counts the event (once per starvation episode).</item>
    /// </list>
    /// Not thread-safe: fill and sample it on one thread (the Unity main thread).
    /// </summary>
    public class JitterBuffer
    {
        readonly List<PoseFrame> m_Frames = new List<PoseFrame>();
        double m_LastSampleTime = double.NegativeInfinity;
        bool m_Starved;

        /// <summary>Seconds of frames that must be buffered before playback starts (default 0.1 s).</summary>
        public double TargetDelay = 0.1;
        /// <summary>Seconds of already-played frames kept behind the playhead (for interpolation).</summary>
        public double KeepBehind = 0.25;
        /// <summary>Hard cap on buffered frames (oldest dropped first); 60 fps x 10 min by default.</summary>
        public int MaxFrames = 36000;

        public int Count { get { return m_Frames.Count; } }
        public bool EndOfStream { get; private set; }
        public long ReceivedFrames { get; private set; }
        public long LateFrames { get; private set; }
        public long DroppedFrames { get; private set; }
        public long Underruns { get; private set; }
        public double OldestTime { get { return m_Frames.Count > 0 ? m_Frames[0].Time : double.NaN; } }
        public double NewestTime { get { return m_Frames.Count > 0 ? m_Frames[m_Frames.Count - 1].Time : double.NaN; } }
        /// <summary>The newest buffered frame (or null).</summary>
        public PoseFrame Newest { get { return m_Frames.Count > 0 ? m_Frames[m_Frames.Count - 1] : null; } }

        public void Clear()
        {
            m_Frames.Clear();
            m_LastSampleTime = double.NegativeInfinity;
            m_Starved = false;
            EndOfStream = false;
            ReceivedFrames = LateFrames = DroppedFrames = Underruns = 0;
        }

        /// <summary>No more frames will come (the session ended): <see cref="IsReady"/> becomes true.</summary>
        public void MarkEndOfStream() { EndOfStream = true; }

        /// <summary>Insert a frame (the buffer keeps the reference; do not reuse it).</summary>
        public void Add(PoseFrame frame)
        {
            ReceivedFrames++;
            if (frame.Time < m_LastSampleTime - KeepBehind)
            {
                LateFrames++;
                return;
            }
            // Fast path: in order.
            int n = m_Frames.Count;
            if (n == 0 || frame.Time > m_Frames[n - 1].Time)
            {
                m_Frames.Add(frame);
            }
            else
            {
                int i = LowerBound(frame.Time);
                if (i < n && (m_Frames[i].Index == frame.Index || m_Frames[i].Time == frame.Time)) m_Frames[i] = frame;
                else m_Frames.Insert(i, frame);
            }
            while (m_Frames.Count > MaxFrames) { m_Frames.RemoveAt(0); DroppedFrames++; }
        }

        /// <summary>True when playback may start: enough lead buffered from <paramref name="fromTime"/>, or end of stream.</summary>
        public bool IsReady(double fromTime)
        {
            if (m_Frames.Count == 0) return EndOfStream;
            return EndOfStream || NewestTime - Math.Max(fromTime, OldestTime) >= TargetDelay - 1e-9;
        }

        /// <summary>
        /// Pose at time <paramref name="t"/> into <paramref name="into"/>. Returns false when the buffer is
        /// empty. Before the first frame the first frame is returned; after the newest one it is held
        /// (an underrun unless the stream has ended).
        /// </summary>
        public bool Sample(double t, PoseFrame into)
        {
            int n = m_Frames.Count;
            if (n == 0) return false;
            if (t > m_LastSampleTime) m_LastSampleTime = t;
            if (t <= m_Frames[0].Time) { into.CopyFrom(m_Frames[0]); m_Starved = false; return true; }
            if (t >= m_Frames[n - 1].Time)
            {
                into.CopyFrom(m_Frames[n - 1]);
                bool starving = !EndOfStream && t > m_Frames[n - 1].Time + 1e-9;
                if (starving && !m_Starved) Underruns++;
                m_Starved = starving;
                Trim(t);
                return true;
            }
            m_Starved = false;
            int i = LowerBound(t); // first frame with Time >= t, 1 <= i < n
            var a = m_Frames[i - 1]; var b = m_Frames[i];
            double span = b.Time - a.Time;
            float k = span > 0 ? (float)((t - a.Time) / span) : 1f;
            PoseFrame.Interpolate(a, b, k, into);
            Trim(t);
            return true;
        }

        /// <summary>True when the playhead is past the newest frame of an ended stream.</summary>
        public bool IsFinished(double t)
        {
            return EndOfStream && (m_Frames.Count == 0 || t >= NewestTime);
        }

        void Trim(double t)
        {
            // Keep frames newer than t - KeepBehind, and always the one just before t.
            int keepFrom = LowerBound(t - KeepBehind) - 1;
            if (keepFrom > 0) { m_Frames.RemoveRange(0, keepFrom); }
        }

        int LowerBound(double t)
        {
            int lo = 0, hi = m_Frames.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >> 1;
                if (m_Frames[mid].Time < t) lo = mid + 1; else hi = mid;
            }
            return lo;
        }
    }
}
