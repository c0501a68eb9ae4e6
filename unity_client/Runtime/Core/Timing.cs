// Plain C# (no UnityEngine): audio-clock smoothing, playback scheduling and reconnect backoff.
using System;

namespace EmoAnim
{
    /// <summary>
    /// Smooths Unity's <c>AudioSettings.dspTime</c>. The DSP clock is the clock the sound is actually
    /// played on, but it advances in steps of one audio buffer (e.g. 1024 samples = 21 ms at 48 kHz),
    /// so rendering frames between two steps would see the same time. This clock extrapolates from the
    /// last DSP step with a real-time clock (e.g. <c>Time.unscaledTimeAsDouble</c>), never runs
    /// backwards and never leads the DSP clock by more than <see cref="MaxLead"/> seconds.
    /// </summary>
    public class DspClock
    {
        double m_LastDsp = double.NaN, m_LastReal, m_Last = double.NegativeInfinity;
        /// <summary>Largest extrapolation beyond the last DSP reading (default 0.1 s).</summary>
        public double MaxLead = 0.1;

        public void Reset() { m_LastDsp = double.NaN; m_Last = double.NegativeInfinity; }

        /// <summary>Feed the current DSP time and real time; returns the smoothed DSP time.</summary>
        public double Update(double dspTime, double realTime)
        {
            if (double.IsNaN(m_LastDsp) || dspTime != m_LastDsp || realTime < m_LastReal)
            {
                m_LastDsp = dspTime;
                m_LastReal = realTime;
            }
            double lead = realTime - m_LastReal;
            if (lead > MaxLead) lead = MaxLead;
            double t = m_LastDsp + lead;
            if (t < m_Last) t = m_Last; // monotonic
            m_Last = t;
            return t;
        }
    }

    /// <summary>
    /// Maps the DSP clock to animation time. The speaker schedules the first audio sample at DSP time
    /// <see cref="DspStart"/> (<c>AudioSource.PlayScheduled</c>); the frame for audio time <c>t</c> must be
    /// shown when that sample is heard, so animation time = dsp - DspStart + <see cref="Offset"/>.
    /// <see cref="Offset"/> lets users compensate the output latency of their audio device or nudge
    /// lip-sync (positive = the face leads the sound).
    /// </summary>
    public class PlaybackSchedule
    {
        public double DspStart = double.NaN;
        public double Offset;
        public bool IsScheduled { get { return !double.IsNaN(DspStart); } }

        public void Reset() { DspStart = double.NaN; }

        /// <summary>Choose a start time <paramref name="lead"/> seconds from now (so the audio thread can prepare).</summary>
        public double Schedule(double dspNow, double lead)
        {
            DspStart = dspNow + lead;
            return DspStart;
        }

        /// <summary>Animation time for the given (smoothed) DSP time; negative before the start.</summary>
        public double AnimationTime(double dsp)
        {
            if (!IsScheduled) return double.NegativeInfinity;
            return dsp - DspStart + Offset;
        }
    }

    /// <summary>Exponential backoff with full jitter for reconnects (seeded: deterministic in tests).</summary>
    public class Backoff
    {
        readonly Random m_Random;
        public double Initial = 0.5, Max = 10.0, Factor = 2.0;
        /// <summary>0 = no jitter, 1 = delay uniformly in [d/2, d] ... here: d * (1 - Jitter * u).</summary>
        public double Jitter = 0.5;
        public int Attempt { get; private set; }

        public Backoff(int seed = 0) { m_Random = seed == 0 ? new Random() : new Random(seed); }

        public void Reset() { Attempt = 0; }

        /// <summary>Delay in seconds before the next attempt.</summary>
        public double NextDelay()
        {
            double d = Initial * Math.Pow(Factor, Attempt);
            if (d > Max) d = Max;
            Attempt++;
            return d * (1 - Jitter * m_Random.NextDouble());
        }
    }
}
