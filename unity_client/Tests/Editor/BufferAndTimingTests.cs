using System;
using NUnit.Framework;

namespace EmoAnim.Tests
{
    [TestFixture]
    public class JitterBufferTests
    {
        static PoseFrame F(long i, double fps = 60, float jaw = -1)
        {
            var f = new PoseFrame { Index = i, Time = i / fps, HasHead = true };
            f.Curves[17] = jaw >= 0 ? jaw : i * 0.01f;
            f.HeadYaw = i * 0.1f;
            f.JointRotations = new[] { Quat.AxisAngle(new Vec3(0, 1, 0), i * 0.1f) };
            return f;
        }

        [Test]
        public void InterpolatesBetweenNeighbours()
        {
            var b = new JitterBuffer();
            for (int i = 0; i < 10; i++) b.Add(F(i));
            var p = new PoseFrame();
            Assert.IsTrue(b.Sample(2.5 / 60, p));
            Assert.AreEqual(0.025f, p.Curves[17], 1e-6);
            Assert.AreEqual(0.25f, p.HeadYaw, 1e-6);
            Assert.Less(Quat.Angle(Quat.AxisAngle(new Vec3(0, 1, 0), 0.25f), p.JointRotations[0]), 1e-4);
            Assert.AreEqual(2.5 / 60, p.Time, 1e-9);
            Assert.IsTrue(b.Sample(4.0 / 60, p));
            Assert.AreEqual(0.04f, p.Curves[17], 1e-6);  // exact frame time -> exact values
        }

        [Test]
        public void OutOfOrderAndDuplicatesAreSorted()
        {
            var b = new JitterBuffer();
            b.Add(F(0)); b.Add(F(2)); b.Add(F(1)); b.Add(F(2, 60, 0.9f));
            Assert.AreEqual(3, b.Count);
            var p = new PoseFrame();
            b.Sample(2.0 / 60, p);
            Assert.AreEqual(0.9f, p.Curves[17], 1e-6);   // the duplicate replaced the older frame
            b.Sample(0.5 / 60, p);
            Assert.AreEqual(0.005f, p.Curves[17], 1e-6);
        }

        [Test]
        public void ReadyAfterTargetDelayOrEndOfStream()
        {
            var b = new JitterBuffer { TargetDelay = 0.1 };
            Assert.IsFalse(b.IsReady(0));
            for (int i = 0; i < 6; i++) b.Add(F(i));    // 5/60 s buffered
            Assert.IsFalse(b.IsReady(0));
            b.Add(F(6));                                // 6/60 = 0.1 s
            Assert.IsTrue(b.IsReady(0));
            var c = new JitterBuffer { TargetDelay = 1 };
            c.Add(F(0));
            Assert.IsFalse(c.IsReady(0));
            c.MarkEndOfStream();
            Assert.IsTrue(c.IsReady(0));
        }

        [Test]
        public void UnderrunHoldsLastPoseAndCountsOncePerEpisode()
        {
            var b = new JitterBuffer();
            for (int i = 0; i < 3; i++) b.Add(F(i));
            var p = new PoseFrame();
            b.Sample(5.0 / 60, p);
            Assert.AreEqual(0.02f, p.Curves[17], 1e-6);
            b.Sample(6.0 / 60, p);
            Assert.AreEqual(1, b.Underruns);
            for (int i = 3; i < 10; i++) b.Add(F(i));
            b.Sample(7.0 / 60, p);
            Assert.AreEqual(0.07f, p.Curves[17], 1e-6);
            b.Sample(20.0 / 60, p);
            Assert.AreEqual(2, b.Underruns);
            b.MarkEndOfStream();
            b.Sample(21.0 / 60, p);
            Assert.AreEqual(2, b.Underruns);              // the end of a finished line is not an underrun
            Assert.IsTrue(b.IsFinished(21.0 / 60));
        }

        [Test]
        public void LateFramesAreDroppedAndOldFramesTrimmed()
        {
            var b = new JitterBuffer { KeepBehind = 0.05 };
            for (int i = 0; i < 60; i++) b.Add(F(i));
            var p = new PoseFrame();
            b.Sample(0.5, p);
            Assert.Less(b.Count, 60);
            Assert.LessOrEqual(b.OldestTime, 0.5 - 0.05 + 1e-9);
            b.Add(F(1));                                   // arrived after it was needed
            Assert.AreEqual(1, b.LateFrames);
            b.Sample(0.5, p);
            Assert.AreEqual(0.3f, p.Curves[17], 1e-5);
        }

        [Test]
        public void CapacityDropsOldest()
        {
            var b = new JitterBuffer { MaxFrames = 5 };
            for (int i = 0; i < 8; i++) b.Add(F(i));
            Assert.AreEqual(5, b.Count);
            Assert.AreEqual(3, b.DroppedFrames);
            Assert.AreEqual(3.0 / 60, b.OldestTime, 1e-9);
        }
    }

    [TestFixture]
    public class TimingTests
    {
        [Test]
        public void DspClockSmoothsStepsAndIsMonotonic()
        {
            var c = new DspClock();
            // DSP advances in 21.3 ms steps; rendering at ~16.7 ms
            double last = 0;
            for (int frame = 0; frame < 200; frame++)
            {
                double real = 100.0 + frame / 60.0;
                double dspNow = 10.0 + Math.Floor((real - 100.0) / 0.02133) * 0.02133;
                double t = c.Update(dspNow, real);
                Assert.GreaterOrEqual(t, last);
                Assert.LessOrEqual(Math.Abs(t - (10.0 + frame / 60.0)), 0.0214);   // within one DSP buffer of true time
                last = t;
            }
        }

        [Test]
        public void DspClockNeverLeadsBeyondMaxLead()
        {
            var c = new DspClock { MaxLead = 0.05 };
            c.Update(1.0, 0.0);
            Assert.AreEqual(1.05, c.Update(1.0, 10.0), 1e-9);   // DSP stalled (device paused)
        }

        [Test]
        public void ScheduleMapsDspToAnimationTime()
        {
            var s = new PlaybackSchedule();
            Assert.IsFalse(s.IsScheduled);
            Assert.AreEqual(5.1, s.Schedule(5.0, 0.1), 1e-12);
            Assert.AreEqual(-0.1, s.AnimationTime(5.0), 1e-12);
            Assert.AreEqual(1.0, s.AnimationTime(6.1), 1e-12);
            s.Offset = 0.02;
            Assert.AreEqual(1.02, s.AnimationTime(6.1), 1e-12);
        }

        [Test]
        public void BackoffGrowsCapsAndJitters()
        {
            var b = new Backoff(42) { Initial = 0.5, Max = 4, Factor = 2, Jitter = 0.5 };
            double[] nominal = { 0.5, 1, 2, 4, 4, 4 };
            foreach (var n in nominal)
            {
                double d = b.NextDelay();
                Assert.LessOrEqual(d, n + 1e-12);
                Assert.GreaterOrEqual(d, n * 0.5 - 1e-12);
            }
            b.Reset();
            Assert.LessOrEqual(b.NextDelay(), 0.5);
        }
    }
}
