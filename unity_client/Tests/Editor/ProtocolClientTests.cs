using System;
using System.Collections.Generic;
using System.IO;
using EmoAnim.Protocol;
using NUnit.Framework;

namespace EmoAnim.Tests
{
    [TestFixture]
    public class ProtocolClientTests
    {
        static byte[] Started(string id, string[] names, Skeleton sk = null, Mode mode = Mode.Clip, float latency = 0f)
        {
            return new ServerMessage { Started = new SessionStarted { ProtocolVersion = 1, SessionId = id, Fps = 60, CurveNames = names, Skeleton = sk, Mode = mode, BufferLatencyS = latency } }.ToByteArray();
        }

        static byte[] Frames(int from, int count, int nCurves, float jaw)
        {
            var list = new List<Frame>();
            for (int i = from; i < from + count; i++)
            {
                var c = new float[nCurves];
                if (nCurves > 17) c[17] = jaw;
                list.Add(new Frame { Index = (uint)i, Time = i / 60.0, Curves = c, Head = new[] { 0.1f, 0.2f, 0.3f }, Eyes = new[] { 1f, 2f, 3f, 4f, 5f, 6f } });
            }
            return new ServerMessage { Frames = new FrameBatch { Frames = list.ToArray() } }.ToByteArray();
        }

        static byte[] Ended(string id, uint n) { return new ServerMessage { Ended = new SessionEnded { SessionId = id, Reason = "completed", FramesSent = n } }.ToByteArray(); }

        static string[] PascalNames()
        {
            var n = new string[52];
            for (int i = 0; i < 52; i++) n[i] = ArkitNames.Pascal(ArkitNames.Names[i]);
            return n;
        }

        [Test]
        public void FullSessionLifecycle()
        {
            var p = new ProtocolClient();
            var events = new List<string>();
            var s = p.StartSession(new SessionOptions { SampleRate = 16000, Mode = Mode.Clip, Seed = 5 });
            s.Started += x => events.Add("started");
            s.FrameReceived += (x, f) => events.Add("frame" + f.Index);
            s.Ended += x => events.Add("ended");
            var start = ClientMessage.Parse(p.DequeueOutgoing());
            Assert.AreEqual(ClientMessageCase.Start, start.Case);
            Assert.AreEqual(16000L, start.Start.SampleRate);
            Assert.AreEqual(5UL, start.Start.Seed);
            Assert.AreEqual(AudioEncoding.Pcm16, start.Start.Encoding);
            Assert.IsTrue(start.Start.Parts.Face && start.Start.Parts.Eyes && start.Start.Parts.Head && !start.Start.Parts.Body);

            Assert.Throws<InvalidOperationException>(() => p.StartSession(new SessionOptions()));
            p.HandleMessage(Started("s1", PascalNames()));
            Assert.AreEqual(SessionState.Active, s.State);
            Assert.AreEqual("s1", s.Id);

            p.SendAudio(new[] { 0f, 0.5f, -1f }, 0, 3);
            var audio = ClientMessage.Parse(p.DequeueOutgoing());
            CollectionAssert.AreEqual(new byte[] { 0, 0, 0x00, 0x40, 0x00, 0x80 }, audio.Audio.Data);  // 0, 16384, -32768
            p.EndAudio();
            Assert.AreEqual(ClientMessageCase.EndOfAudio, ClientMessage.Parse(p.DequeueOutgoing()).Case);
            Assert.Throws<InvalidOperationException>(() => p.SendAudio(new float[1], 0, 1));

            p.HandleMessage(Frames(0, 2, 52, 0.75f));
            p.HandleMessage(Frames(2, 1, 52, 0.5f));
            p.HandleMessage(Ended("s1", 3));
            CollectionAssert.AreEqual(new[] { "started", "frame0", "frame1", "frame2", "ended" }, events);
            Assert.AreEqual(3, s.FramesReceived);
            Assert.AreEqual(0, s.IndexGaps);
            Assert.IsTrue(s.IsOver);
            Assert.IsTrue(s.Buffer.EndOfStream);
            var pose = new PoseFrame();
            s.Buffer.Sample(1 / 60.0, pose);
            Assert.AreEqual(0.75f, pose.Curves[17], 0);       // PascalCase JawOpen mapped to ARKit index 17
            Assert.AreEqual(0.2f, pose.HeadPitch, 0);
            Assert.AreEqual(-0.1f, pose.HeadYaw, 0);    // wire yaw has Live Link Face's sign (+ = right): PoseFrame's is the opposite
            Assert.AreEqual(-4f, pose.RightEyeYaw, 0);
            Assert.IsTrue(p.CanStart);
        }

        [Test]
        public void CurveMapHandlesReorderedAndForeignNames()
        {
            var p = new ProtocolClient();
            var s = p.StartSession(new SessionOptions());
            p.HandleMessage(Started("s", new[] { "jawOpen", "CTRL_expressions_jawOpen", "eyeBlink_L" }));
            var f = new ServerMessage { Frames = new FrameBatch { Frames = new[] { new Frame { Index = 0, Curves = new[] { 0.3f, 0.9f, 0.6f } } } } }.ToByteArray();
            p.HandleMessage(f);
            var pose = new PoseFrame();
            s.Buffer.Sample(0, pose);
            Assert.AreEqual(0.3f, pose.Curves[17], 0);
            Assert.AreEqual(0.6f, pose.Curves[0], 0);
            Assert.IsFalse(pose.HasHead);
        }

        [Test]
        public void RefusedStartEndsTheSessionWithTheError()
        {
            var p = new ProtocolClient();
            var s = p.StartSession(new SessionOptions { SampleRate = 1 });
            Error got = null;
            s.ErrorReceived += (x, e) => got = e;
            p.HandleMessage(new ServerMessage { Error = new Error { Code = ErrorCode.BadSampleRate, CodeName = "BAD_SAMPLE_RATE", Message = "sample_rate 1", Fatal = true } }.ToByteArray());
            Assert.IsNotNull(got);
            Assert.IsTrue(s.IsOver);
            Assert.AreEqual(ErrorCode.BadSampleRate, s.LastError.Code);
            Assert.IsTrue(p.CanStart);
        }

        [Test]
        public void NonFatalErrorsKeepTheSession()
        {
            var p = new ProtocolClient();
            var s = p.StartSession(new SessionOptions());
            p.HandleMessage(Started("s", PascalNames()));
            p.HandleMessage(new ServerMessage { Error = new Error { Code = ErrorCode.BadEmotion, CodeName = "BAD_EMOTION", Fatal = false } }.ToByteArray());
            Assert.AreEqual(SessionState.Active, s.State);
            Assert.AreEqual(ErrorCode.BadEmotion, s.LastError.Code);
        }

        [Test]
        public void GapsGarbageAndDisconnects()
        {
            var p = new ProtocolClient();
            var connErrors = new List<Error>();
            p.ConnectionError += connErrors.Add;
            var s = p.StartSession(new SessionOptions());
            p.HandleMessage(Started("s", PascalNames()));
            p.HandleMessage(Frames(0, 1, 52, 0));
            p.HandleMessage(Frames(2, 1, 52, 0));
            Assert.AreEqual(1, s.IndexGaps);
            p.HandleMessage(new byte[] { 0x0f });
            Assert.AreEqual(1, connErrors.Count);
            Assert.AreEqual(1, p.BadMessages);
            bool ended = false;
            s.Ended += x => ended = true;
            p.ConnectionLost("socket closed");
            Assert.IsTrue(ended);
            Assert.AreEqual("disconnected", s.EndInfo.Reason);
            Assert.AreEqual(0, p.OutgoingCount);
        }

        [Test]
        public void SkeletonAndBodyFramesReachThePose()
        {
            var p = new ProtocolClient();
            var s = p.StartSession(new SessionOptions { Body = true });
            var sk = new Skeleton { JointNames = new[] { "pelvis", "spine" }, Parents = new[] { -1, 0 }, RestOffsets = new[] { 0f, 0.9f, 0f, 0f, 0.1f, 0f } };
            p.HandleMessage(Started("s", new string[0], sk, Mode.Live, 0.3f));
            Assert.AreEqual(0.3, s.Buffer.TargetDelay, 1e-6);       // LIVE: buffer what the server asks for
            CollectionAssert.AreEqual(new[] { -1, 0 }, s.JointParents);
            var f = new Frame { Index = 0, JointRotations = new[] { 0f, 0f, 0f, 1f, 0f, 0.7071068f, 0f, 0.7071068f }, RootPosition = new[] { 0.1f, 0.9f, 0f } };
            p.HandleMessage(new ServerMessage { Frames = new FrameBatch { Frames = new[] { f } } }.ToByteArray());
            var pose = new PoseFrame();
            s.Buffer.Sample(0, pose);
            Assert.AreEqual(2, pose.JointRotations.Length);
            Assert.AreEqual(0.7071068f, pose.JointRotations[1].y, 0);
            Assert.IsTrue(pose.HasRootPosition);
            Assert.AreEqual(0.9f, pose.RootPosition.y, 0);
        }

        [Test]
        public void PingsAreNumbered()
        {
            var p = new ProtocolClient();
            Assert.AreEqual(1UL, p.Ping(1.5));
            Assert.AreEqual(2UL, p.Ping(2.5));
            var m = ClientMessage.Parse(p.DequeueOutgoing());
            Assert.AreEqual(1UL, m.Ping.Nonce);
            Assert.AreEqual(1.5, m.Ping.ClientTime, 0);
            Pong got = null;
            p.PongReceived += x => got = x;
            p.HandleMessage(new ServerMessage { Pong = new Pong { Nonce = 1, ClientTime = 1.5, ServerTime = 9 } }.ToByteArray());
            Assert.AreEqual(9.0, got.ServerTime, 0);
        }
    }

    [TestFixture]
    public class AudioConvertTests
    {
        [Test]
        public void Pcm16MatchesTheReferenceClient()
        {
            // np.clip(np.rint(x * 32768), -32768, 32767).astype('<i2'): scale, round (ties to even), clamp
            var x = new[] { 1f, -1f, 2f, -2f, 0.5f, -0.5f, 0.6f / 32768f, 0.5f / 32768f, 1.5f / 32768f, -0.5f / 32768f, float.NaN };
            var b = AudioConvert.FloatToPcm16(x, 0, x.Length);
            var s = new short[x.Length];
            for (int i = 0; i < x.Length; i++) s[i] = BitConverter.ToInt16(b, 2 * i);
            CollectionAssert.AreEqual(new short[] { 32767, -32768, 32767, -32768, 16384, -16384, 1, 0, 2, 0, 0 }, s);
            var back = AudioConvert.Pcm16ToFloat(b, 0, 4);
            Assert.AreEqual(32767 / 32768f, back[0], 0);
        }

        [Test]
        public void Pcm16RoundTripsEverySixteenBitSample()
        {
            // audio that came from a 16-bit source reaches the server bit-exact (issue 14: CLIP == bake)
            var pcm = new byte[65536 * 2];
            for (int v = -32768; v <= 32767; v++) { pcm[2 * (v + 32768)] = (byte)v; pcm[2 * (v + 32768) + 1] = (byte)(v >> 8); }
            var f = AudioConvert.Pcm16ToFloat(pcm, 0, pcm.Length);
            CollectionAssert.AreEqual(pcm, AudioConvert.FloatToPcm16(f, 0, f.Length));
        }

        [Test]
        public void DownmixAveragesChannels()
        {
            CollectionAssert.AreEqual(new[] { 0.5f, 0f }, AudioConvert.Downmix(new[] { 1f, 0f, 0.5f, -0.5f }, 2));
        }

        [Test]
        public void WavReaderReadsPcm16AndFloat()
        {
            var ms = new MemoryStream();
            var w = new BinaryWriter(ms);
            w.Write("RIFF".ToCharArray()); w.Write(36 + 8); w.Write("WAVE".ToCharArray());
            w.Write("fmt ".ToCharArray()); w.Write(16); w.Write((short)1); w.Write((short)2); w.Write(22050); w.Write(22050 * 4); w.Write((short)4); w.Write((short)16);
            w.Write("data".ToCharArray()); w.Write(8); w.Write((short)16384); w.Write((short)-16384); w.Write((short)0); w.Write((short)32767);
            var wav = WavData.Parse(ms.ToArray());
            Assert.AreEqual(22050, wav.SampleRate);
            Assert.AreEqual(2, wav.Channels);
            Assert.AreEqual(4, wav.Samples.Length);
            Assert.AreEqual(0.5f, wav.Samples[0], 0);
            Assert.AreEqual(2.0 / 22050, wav.Duration, 1e-12);
            Assert.Throws<InvalidDataException>(() => WavData.Parse(new byte[] { 1, 2, 3 }));
        }
    }

    [TestFixture]
    public class BakeCurvesTests
    {
        [Test]
        public void BlendshapeCurvesUseUnityPropertyNames()
        {
            var frames = new List<PoseFrame>();
            for (int i = 0; i < 3; i++) { var f = new PoseFrame { Index = i, Time = i / 30.0 }; f.Curves[17] = i * 0.5f; frames.Add(f); }
            var c = new BakeCurves(3, 30);
            int n = c.AddBlendshapes("Armature/Head", new[] { "JawOpen", "other" }, null, true, frames);
            Assert.AreEqual(1, n);
            Assert.AreEqual("Armature/Head|SkinnedMeshRenderer|blendShape.JawOpen", c.Tracks[0].ToString());
            CollectionAssert.AreEqual(new[] { 0f, 50f, 100f }, c.Tracks[0].Values);
            Assert.AreEqual(1 / 30f, c.Time(1), 1e-7);
        }

        [Test]
        public void QuaternionContinuityFlipsHemisphere()
        {
            var c = new BakeCurves(3, 30);
            c.SetRotation("Hips", 0, new Quat(0, 0, 0, 1));
            c.SetRotation("Hips", 1, new Quat(0, 0, 0, -1));
            c.SetRotation("Hips", 2, new Quat(0, 0.1f, 0, -0.99f));
            c.EnsureQuaternionContinuity();
            var w = c.Track("Hips", "Transform", "m_LocalRotation.w").Values;
            CollectionAssert.AreEqual(new[] { 1f, 1f, 0.99f }, w);
        }

        [Test]
        public void MuscleNamesBecomeClipAttributes()
        {
            Assert.AreEqual("LeftHand.Thumb.1 Stretched", BakeCurves.MuscleAttribute("Left Thumb 1 Stretched"));
            Assert.AreEqual("RightHand.Index.Spread", BakeCurves.MuscleAttribute("Right Index Spread"));
            Assert.AreEqual("Spine Front-Back", BakeCurves.MuscleAttribute("Spine Front-Back"));
        }
    }
}
