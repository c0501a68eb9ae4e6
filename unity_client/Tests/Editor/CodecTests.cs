using System;
using System.Collections.Generic;
using EmoAnim.Protocol;
using NUnit.Framework;

namespace EmoAnim.Tests
{
    [TestFixture]
    public class CodecTests
    {
        static string Hex(byte[] b) { return BitConverter.ToString(b).Replace("-", "").ToLowerInvariant(); }

        static byte[] Bytes(string hex)
        {
            var b = new byte[hex.Length / 2];
            for (int i = 0; i < b.Length; i++) b[i] = Convert.ToByte(hex.Substring(2 * i, 2), 16);
            return b;
        }

        [Test]
        public void KnownEncodingsFromTheSpec()
        {
            // varint 150 = 96 01 (protobuf.dev encoding guide)
            var w = new ProtoWriter(); w.UInt32(1, 150);
            Assert.AreEqual("089601", Hex(w.ToArray()));
            // negative int32 is a 10-byte varint
            w = new ProtoWriter(); w.PackedInt32(2, new[] { -1, 0, 1 });
            Assert.AreEqual("120c" + "ffffffffffffffffff01" + "00" + "01", Hex(w.ToArray()));
            // float 1.0 = 0000803f, double 0.5 = 000000000000e03f
            w = new ProtoWriter(); w.Float(2, 1f); w.Double(3, 0.5);
            Assert.AreEqual("150000803f19000000000000e03f", Hex(w.ToArray()));
            // defaults are not written (proto3 implicit presence)...
            w = new ProtoWriter(); w.UInt32(1, 0); w.Float(2, 0f); w.String(3, ""); w.Bool(4, false);
            Assert.AreEqual(0, w.Length);
            // ...but -0.0 is (it is not the default bit pattern)
            w = new ProtoWriter(); w.Float(1, -0f);
            Assert.AreEqual("0d00000080", Hex(w.ToArray()));
        }

        [Test]
        public void EmptyOneofMembersAreStillWritten()
        {
            Assert.AreEqual("2200", Hex(ClientMessage.Of(new EndOfAudio()).ToByteArray()));
            Assert.AreEqual("3200", Hex(ClientMessage.Of(new CancelSession()).ToByteArray()));
            var m = ClientMessage.Parse(Bytes("2200"));
            Assert.AreEqual(ClientMessageCase.EndOfAudio, m.Case);
        }

        [Test]
        public void OptionalFieldsHavePresence()
        {
            var u = new EmotionUpdate { Time = 0.0, Emotion = new Emotion { Valence = 0f } };
            var b = ClientMessage.Of(u).ToByteArray();
            var back = ClientMessage.Parse(b).Emotion;
            Assert.IsTrue(back.Time.HasValue);
            Assert.AreEqual(0.0, back.Time.Value, 0);
            Assert.IsTrue(back.Emotion.Valence.HasValue);
            Assert.IsFalse(back.Emotion.Arousal.HasValue);
            var none = ClientMessage.Parse(ClientMessage.Of(new EmotionUpdate { Emotion = new Emotion("happy", 0.5f) }).ToByteArray()).Emotion;
            Assert.IsFalse(none.Time.HasValue);
        }

        [Test]
        public void StartSessionRoundTrip()
        {
            var s = new StartSession
            {
                SampleRate = 48000, Encoding = AudioEncoding.Float32, Channels = 2, Fps = 30, Rig = Rig.MetaHuman,
                Naming = CurveNaming.LR, CustomRigJson = "{}", Parts = new Parts { Face = true, Body = true },
                Seed = ulong.MaxValue, AuthToken = "tök", Mode = Mode.Clip, Transcript = "hello",
                Emotion = new Emotion("angry", 0.25f) { Mixture = new[] { new EmotionWeight("happy", 1f), new EmotionWeight("sad", 0.5f) } },
                ClientName = "unit", MaxFramesPerBatch = 7, Language = "de-DE", Lipsync = LipsyncEngine.Neural,
            };
            var b = ClientMessage.Of(s).ToByteArray();
            var r = ClientMessage.Parse(b);
            Assert.AreEqual(ClientMessageCase.Start, r.Case);
            var t = r.Start;
            Assert.AreEqual(1L, t.ProtocolVersion);
            Assert.AreEqual(48000L, t.SampleRate);
            Assert.AreEqual(AudioEncoding.Float32, t.Encoding);
            Assert.AreEqual(Rig.MetaHuman, t.Rig);
            Assert.AreEqual(CurveNaming.LR, t.Naming);
            Assert.IsTrue(t.Parts.Face && t.Parts.Body && !t.Parts.Eyes);
            Assert.AreEqual(ulong.MaxValue, t.Seed);
            Assert.AreEqual("tök", t.AuthToken);
            Assert.AreEqual(Mode.Clip, t.Mode);
            Assert.AreEqual("sad", t.Emotion.Mixture[1].Category);
            Assert.AreEqual(0.5f, t.Emotion.Mixture[1].Weight, 0);
            Assert.AreEqual(7L, t.MaxFramesPerBatch);
            Assert.AreEqual("de-DE", t.Language);
            Assert.AreEqual(LipsyncEngine.Neural, t.Lipsync);
            Assert.AreEqual(Hex(b), Hex(ClientMessage.Of(t).ToByteArray()));
        }

        [Test]
        public void FrameBatchRoundTripIsBitExact()
        {
            var curves = new float[52];
            for (int i = 0; i < 52; i++) curves[i] = i / 51f;
            var batch = new FrameBatch
            {
                Frames = new[]
                {
                    new Frame { Index = 0, Time = 0, Curves = curves, Head = new[] { 0.1f, -0.2f, 0.3f }, Eyes = new[] { 1f, 2f, 3f, 4f, 5f, 6f } },
                    new Frame { Index = 1, Time = 1 / 60.0, Curves = curves, JointRotations = new[] { 0f, 0f, 0f, 1f }, RootPosition = new[] { 0f, 0.9f, 0f } },
                }
            };
            var b = new ServerMessage { Frames = batch }.ToByteArray();
            var r = ServerMessage.Parse(b);
            Assert.AreEqual(ServerMessageCase.Frames, r.Case);
            Assert.AreEqual(2, r.Frames.Frames.Length);
            var f1 = r.Frames.Frames[1];
            Assert.AreEqual(1 / 60.0, f1.Time, 0);
            Assert.AreEqual(52, f1.Curves.Length);
            for (int i = 0; i < 52; i++) Assert.AreEqual(curves[i], f1.Curves[i], 0);
            Assert.AreEqual(0, f1.Head.Length);
            Assert.AreEqual(0.9f, f1.RootPosition[1], 0);
            Assert.AreEqual(Hex(b), Hex(r.ToByteArray()));
        }

        [Test]
        public void UnpackedRepeatedFloatsAndUnknownFieldsAreAccepted()
        {
            // Frame: index=3 (0803), curves unpacked: 1d <1.0> 1d <0.5>, unknown field 99 varint, unknown fixed64 field 100
            var frame = Bytes("0803" + "1d0000803f" + "1d0000003f" + "98060f" + "a106" + "0000000000000000");
            var f = Frame.Parse(new ProtoReader(frame));
            Assert.AreEqual(3L, f.Index);
            Assert.AreEqual(2, f.Curves.Length);
            Assert.AreEqual(0.5f, f.Curves[1], 0);
            // unknown envelope field 9 (a newer server) is ignored
            var env = ServerMessage.Parse(Bytes("4a0100"));
            Assert.AreEqual(ServerMessageCase.None, env.Case);
            // unpacked int32 parents
            var sk = Skeleton.Parse(new ProtoReader(Bytes("10ffffffffffffffffff01" + "1000")));
            CollectionAssert.AreEqual(new[] { -1, 0 }, sk.Parents);
        }

        [Test]
        public void OneofLastMemberWins()
        {
            // started {} then error {} in one envelope: protobuf keeps the last one
            var m = ServerMessage.Parse(Bytes("0a00" + "1a00"));
            Assert.AreEqual(ServerMessageCase.Error, m.Case);
            Assert.IsNull(m.Started);
        }

        [Test]
        public void MalformedInputThrowsProtoException()
        {
            Assert.Throws<ProtoException>(() => ServerMessage.Parse(Bytes("12")));            // truncated tag payload
            Assert.Throws<ProtoException>(() => ServerMessage.Parse(Bytes("120a0800")));      // length past the end
            Assert.Throws<ProtoException>(() => ServerMessage.Parse(Bytes("0f")));            // wire type 7
            Assert.Throws<ProtoException>(() => ServerMessage.Parse(Bytes("ffffffffffffffffffffff"))); // varint > 10 bytes
            Assert.Throws<ProtoException>(() => ServerMessage.Parse(Bytes("0800")));          // field 1 must be a message
            Assert.Throws<ProtoException>(() => Frame.Parse(new ProtoReader(Bytes("1a03000000")))); // packed floats not x4
        }

        [Test]
        public void AudioFastPathEqualsGenericEncoding()
        {
            var pcm = new byte[1920];
            for (int i = 0; i < pcm.Length; i++) pcm[i] = (byte)(i * 7);
            var generic = ClientMessage.Of(new AudioChunk { Data = pcm }).ToByteArray();
            Assert.AreEqual(Hex(generic), Hex(ClientMessage.EncodeAudio(pcm, 0, pcm.Length)));
            Assert.AreEqual("1200", Hex(ClientMessage.EncodeAudio(pcm, 0, 0)));
        }

        [Test]
        public void JsonUsesProtoNames()
        {
            var e = new ServerMessage { Error = new Error { Code = ErrorCode.BadOrder, CodeName = "BAD_ORDER", Message = "a \"quoted\"\nline", Fatal = true } };
            Assert.AreEqual("{\"error\":{\"code\":\"BAD_ORDER\",\"code_name\":\"BAD_ORDER\",\"message\":\"a \\\"quoted\\\"\\nline\",\"fatal\":true}}", JsonOut.Of(e));
            var p = ClientMessage.Of(new Ping { Nonce = 18446744073709551615UL });
            Assert.AreEqual("{\"ping\":{\"nonce\":\"18446744073709551615\"}}", JsonOut.Of(p));
        }

        [Test]
        public void SchemaDescribesEveryMessage()
        {
            var messages = new HashSet<string>();
            foreach (var f in Schema.Fields) messages.Add(f.Substring(0, f.IndexOf(':')));
            foreach (var m in Schema.EmptyMessages) messages.Add(m);
            Assert.AreEqual(19, messages.Count);
            Assert.AreEqual("ERROR_UNSPECIFIED", ProtoEnum.Name(typeof(ErrorCode), 0));
            Assert.IsNull(ProtoEnum.Name(typeof(ErrorCode), 99));
            // the name tables agree with the C# enums' [ProtoName] attributes, value by value
            foreach (var t in new[] { typeof(ProtocolVersion), typeof(AudioEncoding), typeof(Rig), typeof(CurveNaming), typeof(Mode), typeof(LipsyncEngine), typeof(ErrorCode) })
            {
                var fields = t.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static);
                Assert.AreEqual(fields.Length, ProtoEnum.Count(t), t.Name);
                foreach (var f in fields)
                {
                    var attr = (ProtoNameAttribute)f.GetCustomAttributes(typeof(ProtoNameAttribute), false)[0];
                    Assert.AreEqual(attr.Name, ProtoEnum.Name(t, Convert.ToInt32(f.GetValue(null))), t.Name + "." + f.Name);
                }
            }
        }
    }
}
