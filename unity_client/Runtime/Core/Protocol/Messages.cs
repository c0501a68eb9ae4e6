// Plain C# (no UnityEngine, no Google.Protobuf): the messages of proto/emoanim.proto (package emoanim.v1).
//
// Hand-written for the fixed schema so the package needs no Google.Protobuf DLL (a frequent source of
// assembly conflicts, managed stripping and IL2CPP problems in Unity). It cannot drift silently:
// Tests/Mono~ compares (1) Schema.Describe() with the descriptor of the official generated Python
// module field by field, and (2) bytes both ways against the official Python protobuf library.
// When proto/emoanim.proto changes: add the field here (WriteTo in field-number order, Parse, WriteJson,
// Schema) and run `pytest tests/test_unity_client.py`.
using System;
using System.Collections.Generic;

namespace EmoAnim.Protocol
{
    /// <summary>Proto enum value name (for JSON / logs), e.g. AUDIO_ENCODING_PCM16.</summary>
    [AttributeUsage(AttributeTargets.Field)]
    public sealed class ProtoNameAttribute : Attribute
    {
        public readonly string Name;
        public ProtoNameAttribute(string name) { Name = name; }
    }

    public static class ProtoEnum
    {
        // Explicit tables (no reflection: safe under IL2CPP managed stripping). Tests check them against
        // the enums' [ProtoName] attributes and the .proto descriptor.
        static readonly string[] s_Version = { "PROTOCOL_VERSION_UNSPECIFIED", "PROTOCOL_VERSION_CURRENT" };
        static readonly string[] s_Encoding = { "AUDIO_ENCODING_UNSPECIFIED", "AUDIO_ENCODING_PCM16", "AUDIO_ENCODING_FLOAT32" };
        static readonly string[] s_Rig = { "RIG_ARKIT", "RIG_METAHUMAN", "RIG_CUSTOM" };
        static readonly string[] s_Naming = { "CURVE_NAMING_ARKIT", "CURVE_NAMING_PASCAL", "CURVE_NAMING_LR" };
        static readonly string[] s_Mode = { "MODE_LIVE", "MODE_CLIP" };
        static readonly string[] s_Lipsync = { "LIPSYNC_AUTO", "LIPSYNC_PHONETIC", "LIPSYNC_NEURAL" };
        static readonly string[] s_Error =
        {
            "ERROR_UNSPECIFIED", "INTERNAL", "BAD_MESSAGE", "BAD_ORDER", "MESSAGE_TOO_LARGE", "UNSUPPORTED_VERSION",
            "BAD_PARAMETER", "BAD_SAMPLE_RATE", "BAD_AUDIO", "BAD_EMOTION", "UNAUTHORIZED", "TOO_MANY_SESSIONS",
            "SESSION_TOO_LONG", "TIMEOUT", "SLOW_CLIENT", "SHUTTING_DOWN", "RATE_LIMITED", "OVERLOADED",
        };

        static string[] Table(Type t)
        {
            if (t == typeof(ProtocolVersion)) return s_Version;
            if (t == typeof(AudioEncoding)) return s_Encoding;
            if (t == typeof(Rig)) return s_Rig;
            if (t == typeof(CurveNaming)) return s_Naming;
            if (t == typeof(Mode)) return s_Mode;
            if (t == typeof(LipsyncEngine)) return s_Lipsync;
            if (t == typeof(ErrorCode)) return s_Error;
            return null;
        }

        /// <summary>The .proto name of an enum value, or null for values this client does not know.</summary>
        public static string Name(Type enumType, int value)
        {
            var t = Table(enumType);
            return t != null && value >= 0 && value < t.Length ? t[value] : null;
        }

        /// <summary>Number of values this client knows for an enum.</summary>
        public static int Count(Type enumType) { var t = Table(enumType); return t != null ? t.Length : 0; }
    }

    public enum ProtocolVersion
    {
        [ProtoName("PROTOCOL_VERSION_UNSPECIFIED")] Unspecified = 0,
        [ProtoName("PROTOCOL_VERSION_CURRENT")] Current = 1,
    }

    public enum AudioEncoding
    {
        [ProtoName("AUDIO_ENCODING_UNSPECIFIED")] Unspecified = 0,
        [ProtoName("AUDIO_ENCODING_PCM16")] Pcm16 = 1,
        [ProtoName("AUDIO_ENCODING_FLOAT32")] Float32 = 2,
    }

    public enum Rig
    {
        [ProtoName("RIG_ARKIT")] Arkit = 0,
        [ProtoName("RIG_METAHUMAN")] MetaHuman = 1,
        [ProtoName("RIG_CUSTOM")] Custom = 2,
    }

    public enum CurveNaming
    {
        [ProtoName("CURVE_NAMING_ARKIT")] Arkit = 0,
        [ProtoName("CURVE_NAMING_PASCAL")] Pascal = 1,
        [ProtoName("CURVE_NAMING_LR")] LR = 2,
    }

    public enum Mode
    {
        [ProtoName("MODE_LIVE")] Live = 0,
        [ProtoName("MODE_CLIP")] Clip = 1,
    }

    public enum LipsyncEngine
    {
        [ProtoName("LIPSYNC_AUTO")] Auto = 0,
        [ProtoName("LIPSYNC_PHONETIC")] Phonetic = 1,
        [ProtoName("LIPSYNC_NEURAL")] Neural = 2,
    }

    public enum ErrorCode
    {
        [ProtoName("ERROR_UNSPECIFIED")] Unspecified = 0,
        [ProtoName("INTERNAL")] Internal = 1,
        [ProtoName("BAD_MESSAGE")] BadMessage = 2,
        [ProtoName("BAD_ORDER")] BadOrder = 3,
        [ProtoName("MESSAGE_TOO_LARGE")] MessageTooLarge = 4,
        [ProtoName("UNSUPPORTED_VERSION")] UnsupportedVersion = 5,
        [ProtoName("BAD_PARAMETER")] BadParameter = 6,
        [ProtoName("BAD_SAMPLE_RATE")] BadSampleRate = 7,
        [ProtoName("BAD_AUDIO")] BadAudio = 8,
        [ProtoName("BAD_EMOTION")] BadEmotion = 9,
        [ProtoName("UNAUTHORIZED")] Unauthorized = 10,
        [ProtoName("TOO_MANY_SESSIONS")] TooManySessions = 11,
        [ProtoName("SESSION_TOO_LONG")] SessionTooLong = 12,
        [ProtoName("TIMEOUT")] Timeout = 13,
        [ProtoName("SLOW_CLIENT")] SlowClient = 14,
        [ProtoName("SHUTTING_DOWN")] ShuttingDown = 15,
        [ProtoName("RATE_LIMITED")] RateLimited = 16,
        [ProtoName("OVERLOADED")] Overloaded = 17,
    }

    static class J
    {
        public static void Enum<T>(JsonOut j, string k, int v) { j.Enum(k, v, ProtoEnum.Name(typeof(T), v)); }
    }

    // ============================================================================ client -> server

    public sealed class Parts : IProtoMessage
    {
        public bool Face, Eyes, Head, Body, Emotion;

        public void WriteTo(ProtoWriter w)
        {
            w.Bool(1, Face); w.Bool(2, Eyes); w.Bool(3, Head); w.Bool(4, Body); w.Bool(5, Emotion);
        }

        public static Parts Parse(ProtoReader r)
        {
            var m = new Parts();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.Varint, "face"); m.Face = r.ReadBool(); break;
                    case 2: r.Expect(wt, WireType.Varint, "eyes"); m.Eyes = r.ReadBool(); break;
                    case 3: r.Expect(wt, WireType.Varint, "head"); m.Head = r.ReadBool(); break;
                    case 4: r.Expect(wt, WireType.Varint, "body"); m.Body = r.ReadBool(); break;
                    case 5: r.Expect(wt, WireType.Varint, "emotion"); m.Emotion = r.ReadBool(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            j.Bool("face", Face); j.Bool("eyes", Eyes); j.Bool("head", Head); j.Bool("body", Body); j.Bool("emotion", Emotion);
        }
    }

    public sealed class EmotionWeight : IProtoMessage
    {
        public string Category = "";
        public float Weight;

        public EmotionWeight() { }
        public EmotionWeight(string category, float weight) { Category = category; Weight = weight; }

        public void WriteTo(ProtoWriter w) { w.String(1, Category); w.Float(2, Weight); }

        public static EmotionWeight Parse(ProtoReader r)
        {
            var m = new EmotionWeight();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.LengthDelimited, "category"); m.Category = r.ReadString(); break;
                    case 2: r.Expect(wt, WireType.Fixed32, "weight"); m.Weight = r.ReadFloat(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j) { j.String("category", Category); j.Float("weight", Weight); }
    }

    public sealed class Emotion : IProtoMessage
    {
        public string Category = "";
        public float Intensity;
        /// <summary>proto3 optional (explicit presence): null = absent.</summary>
        public float? Valence, Arousal, Dominance;
        public EmotionWeight[] Mixture = new EmotionWeight[0];

        public Emotion() { }
        public Emotion(string category, float intensity) { Category = category; Intensity = intensity; }

        public void WriteTo(ProtoWriter w)
        {
            w.String(1, Category);
            w.Float(2, Intensity);
            if (Valence.HasValue) w.FloatAlways(3, Valence.Value);
            if (Arousal.HasValue) w.FloatAlways(4, Arousal.Value);
            if (Dominance.HasValue) w.FloatAlways(5, Dominance.Value);
            if (Mixture != null) foreach (var e in Mixture) w.Message(6, e);
        }

        public static Emotion Parse(ProtoReader r)
        {
            var m = new Emotion();
            List<EmotionWeight> mix = null;
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.LengthDelimited, "category"); m.Category = r.ReadString(); break;
                    case 2: r.Expect(wt, WireType.Fixed32, "intensity"); m.Intensity = r.ReadFloat(); break;
                    case 3: r.Expect(wt, WireType.Fixed32, "valence"); m.Valence = r.ReadFloat(); break;
                    case 4: r.Expect(wt, WireType.Fixed32, "arousal"); m.Arousal = r.ReadFloat(); break;
                    case 5: r.Expect(wt, WireType.Fixed32, "dominance"); m.Dominance = r.ReadFloat(); break;
                    case 6:
                        r.Expect(wt, WireType.LengthDelimited, "mixture");
                        if (mix == null) mix = new List<EmotionWeight>();
                        mix.Add(EmotionWeight.Parse(r.ReadSubMessage()));
                        break;
                    default: r.SkipField(wt, f); break;
                }
            }
            if (mix != null) m.Mixture = mix.ToArray();
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            j.String("category", Category);
            j.Float("intensity", Intensity);
            if (Valence.HasValue) j.FloatAlways("valence", Valence.Value);
            if (Arousal.HasValue) j.FloatAlways("arousal", Arousal.Value);
            if (Dominance.HasValue) j.FloatAlways("dominance", Dominance.Value);
            j.Messages("mixture", Mixture);
        }
    }

    public sealed class StartSession : IProtoMessage
    {
        public uint ProtocolVersion = 1;
        public uint SampleRate;
        public AudioEncoding Encoding;
        public uint Channels;
        public uint Fps;
        public Rig Rig;
        public CurveNaming Naming;
        public string CustomRigJson = "";
        public Parts Parts;              // null = absent (server default: face + eyes + head + emotion)
        public ulong Seed;
        public string AuthToken = "";
        public Mode Mode;
        public string Transcript = "";
        public Emotion Emotion;          // null = absent (neutral)
        public string ClientName = "";
        public uint MaxFramesPerBatch;
        public string Language = "";     // BCP-47 hint; "" = server default
        public LipsyncEngine Lipsync;    // Auto = the server chooses

        public void WriteTo(ProtoWriter w)
        {
            w.UInt32(1, ProtocolVersion);
            w.UInt32(2, SampleRate);
            w.Int32(3, (int)Encoding);
            w.UInt32(4, Channels);
            w.UInt32(5, Fps);
            w.Int32(6, (int)Rig);
            w.Int32(7, (int)Naming);
            w.String(8, CustomRigJson);
            w.Message(9, Parts);
            w.UInt64(10, Seed);
            w.String(11, AuthToken);
            w.Int32(12, (int)Mode);
            w.String(13, Transcript);
            w.Message(14, Emotion);
            w.String(15, ClientName);
            w.UInt32(16, MaxFramesPerBatch);
            w.String(17, Language);
            w.Int32(18, (int)Lipsync);
        }

        public static StartSession Parse(ProtoReader r)
        {
            var m = new StartSession { ProtocolVersion = 0 };
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.Varint, "protocol_version"); m.ProtocolVersion = r.ReadUInt32(); break;
                    case 2: r.Expect(wt, WireType.Varint, "sample_rate"); m.SampleRate = r.ReadUInt32(); break;
                    case 3: r.Expect(wt, WireType.Varint, "encoding"); m.Encoding = (AudioEncoding)r.ReadInt32(); break;
                    case 4: r.Expect(wt, WireType.Varint, "channels"); m.Channels = r.ReadUInt32(); break;
                    case 5: r.Expect(wt, WireType.Varint, "fps"); m.Fps = r.ReadUInt32(); break;
                    case 6: r.Expect(wt, WireType.Varint, "rig"); m.Rig = (Rig)r.ReadInt32(); break;
                    case 7: r.Expect(wt, WireType.Varint, "naming"); m.Naming = (CurveNaming)r.ReadInt32(); break;
                    case 8: r.Expect(wt, WireType.LengthDelimited, "custom_rig_json"); m.CustomRigJson = r.ReadString(); break;
                    case 9: r.Expect(wt, WireType.LengthDelimited, "parts"); m.Parts = Parts.Parse(r.ReadSubMessage()); break;
                    case 10: r.Expect(wt, WireType.Varint, "seed"); m.Seed = r.ReadVarint(); break;
                    case 11: r.Expect(wt, WireType.LengthDelimited, "auth_token"); m.AuthToken = r.ReadString(); break;
                    case 12: r.Expect(wt, WireType.Varint, "mode"); m.Mode = (Mode)r.ReadInt32(); break;
                    case 13: r.Expect(wt, WireType.LengthDelimited, "transcript"); m.Transcript = r.ReadString(); break;
                    case 14: r.Expect(wt, WireType.LengthDelimited, "emotion"); m.Emotion = Emotion.Parse(r.ReadSubMessage()); break;
                    case 15: r.Expect(wt, WireType.LengthDelimited, "client_name"); m.ClientName = r.ReadString(); break;
                    case 16: r.Expect(wt, WireType.Varint, "max_frames_per_batch"); m.MaxFramesPerBatch = r.ReadUInt32(); break;
                    case 17: r.Expect(wt, WireType.LengthDelimited, "language"); m.Language = r.ReadString(); break;
                    case 18: r.Expect(wt, WireType.Varint, "lipsync"); m.Lipsync = (LipsyncEngine)r.ReadInt32(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            j.UInt("protocol_version", ProtocolVersion);
            j.UInt("sample_rate", SampleRate);
            J.Enum<AudioEncoding>(j, "encoding", (int)Encoding);
            j.UInt("channels", Channels);
            j.UInt("fps", Fps);
            J.Enum<Rig>(j, "rig", (int)Rig);
            J.Enum<CurveNaming>(j, "naming", (int)Naming);
            j.String("custom_rig_json", CustomRigJson);
            j.Message("parts", Parts);
            j.UInt("seed", Seed, true);
            j.String("auth_token", AuthToken);
            J.Enum<Mode>(j, "mode", (int)Mode);
            j.String("transcript", Transcript);
            j.Message("emotion", Emotion);
            j.String("client_name", ClientName);
            j.UInt("max_frames_per_batch", MaxFramesPerBatch);
            j.String("language", Language);
            J.Enum<LipsyncEngine>(j, "lipsync", (int)Lipsync);
        }
    }

    public sealed class AudioChunk : IProtoMessage
    {
        public byte[] Data = new byte[0];
        public void WriteTo(ProtoWriter w) { w.Bytes(1, Data); }

        public static AudioChunk Parse(ProtoReader r)
        {
            var m = new AudioChunk();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                if (f == 1) { r.Expect(wt, WireType.LengthDelimited, "data"); m.Data = r.ReadBytes(); }
                else r.SkipField(wt, f);
            }
            return m;
        }

        public void WriteJson(JsonOut j) { j.Bytes("data", Data); }
    }

    public sealed class EmotionUpdate : IProtoMessage
    {
        /// <summary>proto3 optional: null = "now" (end of the audio received so far).</summary>
        public double? Time;
        public Emotion Emotion;
        public float TransitionS;

        public void WriteTo(ProtoWriter w)
        {
            if (Time.HasValue) w.DoubleAlways(1, Time.Value);
            w.Message(2, Emotion);
            w.Float(3, TransitionS);
        }

        public static EmotionUpdate Parse(ProtoReader r)
        {
            var m = new EmotionUpdate();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.Fixed64, "time"); m.Time = r.ReadDouble(); break;
                    case 2: r.Expect(wt, WireType.LengthDelimited, "emotion"); m.Emotion = Emotion.Parse(r.ReadSubMessage()); break;
                    case 3: r.Expect(wt, WireType.Fixed32, "transition_s"); m.TransitionS = r.ReadFloat(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            if (Time.HasValue) j.DoubleAlways("time", Time.Value);
            j.Message("emotion", Emotion);
            j.Float("transition_s", TransitionS);
        }
    }

    public sealed class EndOfAudio : IProtoMessage
    {
        public void WriteTo(ProtoWriter w) { }
        public static EndOfAudio Parse(ProtoReader r) { while (!r.AtEnd) { int f; var wt = r.ReadTag(out f); r.SkipField(wt, f); } return new EndOfAudio(); }
        public void WriteJson(JsonOut j) { }
    }

    public sealed class CancelSession : IProtoMessage
    {
        public void WriteTo(ProtoWriter w) { }
        public static CancelSession Parse(ProtoReader r) { while (!r.AtEnd) { int f; var wt = r.ReadTag(out f); r.SkipField(wt, f); } return new CancelSession(); }
        public void WriteJson(JsonOut j) { }
    }

    public sealed class Ping : IProtoMessage
    {
        public ulong Nonce;
        public double ClientTime;

        public void WriteTo(ProtoWriter w) { w.UInt64(1, Nonce); w.Double(2, ClientTime); }

        public static Ping Parse(ProtoReader r)
        {
            var m = new Ping();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.Varint, "nonce"); m.Nonce = r.ReadVarint(); break;
                    case 2: r.Expect(wt, WireType.Fixed64, "client_time"); m.ClientTime = r.ReadDouble(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j) { j.UInt("nonce", Nonce, true); j.Double("client_time", ClientTime); }
    }

    public enum ClientMessageCase { None = 0, Start = 1, Audio = 2, Emotion = 3, EndOfAudio = 4, Ping = 5, Cancel = 6 }

    /// <summary>Envelope client -> server (oneof msg). Set exactly one field (the factory methods do).</summary>
    public sealed class ClientMessage : IProtoMessage
    {
        public StartSession Start;
        public AudioChunk Audio;
        public EmotionUpdate Emotion;
        public EndOfAudio EndOfAudio;
        public Ping Ping;
        public CancelSession Cancel;

        public ClientMessageCase Case
        {
            get
            {
                // oneof semantics: the last one set wins when parsing; when building, set only one.
                if (Start != null) return ClientMessageCase.Start;
                if (Audio != null) return ClientMessageCase.Audio;
                if (Emotion != null) return ClientMessageCase.Emotion;
                if (EndOfAudio != null) return ClientMessageCase.EndOfAudio;
                if (Ping != null) return ClientMessageCase.Ping;
                if (Cancel != null) return ClientMessageCase.Cancel;
                return ClientMessageCase.None;
            }
        }

        void Clear() { Start = null; Audio = null; Emotion = null; EndOfAudio = null; Ping = null; Cancel = null; }

        public static ClientMessage Of(StartSession m) { return new ClientMessage { Start = m }; }
        public static ClientMessage Of(AudioChunk m) { return new ClientMessage { Audio = m }; }
        public static ClientMessage Of(EmotionUpdate m) { return new ClientMessage { Emotion = m }; }
        public static ClientMessage Of(EndOfAudio m) { return new ClientMessage { EndOfAudio = m }; }
        public static ClientMessage Of(Ping m) { return new ClientMessage { Ping = m }; }
        public static ClientMessage Of(CancelSession m) { return new ClientMessage { Cancel = m }; }

        public void WriteTo(ProtoWriter w)
        {
            w.Message(1, Start); w.Message(2, Audio); w.Message(3, Emotion);
            w.Message(4, EndOfAudio); w.Message(5, Ping); w.Message(6, Cancel);
        }

        /// <summary>Audio chunks are the hot path: encode without copying the PCM twice.</summary>
        public static byte[] EncodeAudio(byte[] data, int offset, int count)
        {
            var inner = new ProtoWriter(count + 8);
            if (count > 0) inner.BytesAlways(1, data, offset, count);
            var w = new ProtoWriter(count + 16);
            w.WriteTag(2, WireType.LengthDelimited);
            w.WriteVarint((ulong)inner.Length);
            var ib = inner.ToArray();
            w.WriteRawBytes(ib, 0, ib.Length);
            return w.ToArray();
        }

        public byte[] ToByteArray() { var w = new ProtoWriter(); WriteTo(w); return w.ToArray(); }

        public static ClientMessage Parse(byte[] data) { return Parse(new ProtoReader(data)); }

        public static ClientMessage Parse(ProtoReader r)
        {
            var m = new ClientMessage();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                if (f >= 1 && f <= 6) { r.Expect(wt, WireType.LengthDelimited, "msg"); m.Clear(); }
                switch (f)
                {
                    case 1: m.Start = StartSession.Parse(r.ReadSubMessage()); break;
                    case 2: m.Audio = AudioChunk.Parse(r.ReadSubMessage()); break;
                    case 3: m.Emotion = EmotionUpdate.Parse(r.ReadSubMessage()); break;
                    case 4: m.EndOfAudio = EndOfAudio.Parse(r.ReadSubMessage()); break;
                    case 5: m.Ping = Ping.Parse(r.ReadSubMessage()); break;
                    case 6: m.Cancel = CancelSession.Parse(r.ReadSubMessage()); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            j.Message("start", Start); j.Message("audio", Audio); j.Message("emotion", Emotion);
            j.Message("end_of_audio", EndOfAudio); j.Message("ping", Ping); j.Message("cancel", Cancel);
        }
    }

    // ============================================================================ server -> client

    public sealed class Skeleton : IProtoMessage
    {
        public string[] JointNames = new string[0];
        public int[] Parents = new int[0];
        public float[] RestOffsets = new float[0];

        public void WriteTo(ProtoWriter w)
        {
            w.RepeatedString(1, JointNames);
            w.PackedInt32(2, Parents);
            w.PackedFloats(3, RestOffsets);
        }

        public static Skeleton Parse(ProtoReader r)
        {
            var names = new List<string>(); var parents = new List<int>(); var offs = new List<float>();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.LengthDelimited, "joint_names"); names.Add(r.ReadString()); break;
                    case 2: r.ReadInt32s(wt, parents); break;
                    case 3: r.ReadFloats(wt, offs); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return new Skeleton { JointNames = names.ToArray(), Parents = parents.ToArray(), RestOffsets = offs.ToArray() };
        }

        public void WriteJson(JsonOut j) { j.Strings("joint_names", JointNames); j.Ints("parents", Parents); j.Floats("rest_offsets", RestOffsets); }
    }

    public sealed class Limits : IProtoMessage
    {
        public uint MaxMessageBytes, MaxSampleRate, MinSampleRate;
        public float MaxSessionSeconds;
        public uint MaxSessionsPerClient;
        public float IdleTimeoutS;
        public uint MaxFramesPerBatch;

        public void WriteTo(ProtoWriter w)
        {
            w.UInt32(1, MaxMessageBytes); w.UInt32(2, MaxSampleRate); w.UInt32(3, MinSampleRate);
            w.Float(4, MaxSessionSeconds); w.UInt32(5, MaxSessionsPerClient); w.Float(6, IdleTimeoutS);
            w.UInt32(7, MaxFramesPerBatch);
        }

        public static Limits Parse(ProtoReader r)
        {
            var m = new Limits();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.Varint, "max_message_bytes"); m.MaxMessageBytes = r.ReadUInt32(); break;
                    case 2: r.Expect(wt, WireType.Varint, "max_sample_rate"); m.MaxSampleRate = r.ReadUInt32(); break;
                    case 3: r.Expect(wt, WireType.Varint, "min_sample_rate"); m.MinSampleRate = r.ReadUInt32(); break;
                    case 4: r.Expect(wt, WireType.Fixed32, "max_session_seconds"); m.MaxSessionSeconds = r.ReadFloat(); break;
                    case 5: r.Expect(wt, WireType.Varint, "max_sessions_per_client"); m.MaxSessionsPerClient = r.ReadUInt32(); break;
                    case 6: r.Expect(wt, WireType.Fixed32, "idle_timeout_s"); m.IdleTimeoutS = r.ReadFloat(); break;
                    case 7: r.Expect(wt, WireType.Varint, "max_frames_per_batch"); m.MaxFramesPerBatch = r.ReadUInt32(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            j.UInt("max_message_bytes", MaxMessageBytes); j.UInt("max_sample_rate", MaxSampleRate);
            j.UInt("min_sample_rate", MinSampleRate); j.Float("max_session_seconds", MaxSessionSeconds);
            j.UInt("max_sessions_per_client", MaxSessionsPerClient); j.Float("idle_timeout_s", IdleTimeoutS);
            j.UInt("max_frames_per_batch", MaxFramesPerBatch);
        }
    }

    public sealed class SessionStarted : IProtoMessage
    {
        public uint ProtocolVersion;
        public string SessionId = "";
        public uint Fps;
        public string[] CurveNames = new string[0];
        public Skeleton Skeleton;
        public float BufferLatencyS;
        public Parts Parts;
        public string ServerVersion = "";
        public Mode Mode;
        public Limits Limits;
        public float LookaheadS;
        public string Language = "";
        public LipsyncEngine Lipsync;

        public void WriteTo(ProtoWriter w)
        {
            w.UInt32(1, ProtocolVersion); w.String(2, SessionId); w.UInt32(3, Fps);
            w.RepeatedString(4, CurveNames); w.Message(5, Skeleton); w.Float(7, BufferLatencyS);
            w.Message(8, Parts); w.String(9, ServerVersion); w.Int32(10, (int)Mode);
            w.Message(11, Limits); w.Float(12, LookaheadS);
            w.String(13, Language); w.Int32(14, (int)Lipsync);
        }

        public static SessionStarted Parse(ProtoReader r)
        {
            var m = new SessionStarted();
            var names = new List<string>();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.Varint, "protocol_version"); m.ProtocolVersion = r.ReadUInt32(); break;
                    case 2: r.Expect(wt, WireType.LengthDelimited, "session_id"); m.SessionId = r.ReadString(); break;
                    case 3: r.Expect(wt, WireType.Varint, "fps"); m.Fps = r.ReadUInt32(); break;
                    case 4: r.Expect(wt, WireType.LengthDelimited, "curve_names"); names.Add(r.ReadString()); break;
                    case 5: r.Expect(wt, WireType.LengthDelimited, "skeleton"); m.Skeleton = Skeleton.Parse(r.ReadSubMessage()); break;
                    case 7: r.Expect(wt, WireType.Fixed32, "buffer_latency_s"); m.BufferLatencyS = r.ReadFloat(); break;
                    case 8: r.Expect(wt, WireType.LengthDelimited, "parts"); m.Parts = Parts.Parse(r.ReadSubMessage()); break;
                    case 9: r.Expect(wt, WireType.LengthDelimited, "server_version"); m.ServerVersion = r.ReadString(); break;
                    case 10: r.Expect(wt, WireType.Varint, "mode"); m.Mode = (Mode)r.ReadInt32(); break;
                    case 11: r.Expect(wt, WireType.LengthDelimited, "limits"); m.Limits = Limits.Parse(r.ReadSubMessage()); break;
                    case 12: r.Expect(wt, WireType.Fixed32, "lookahead_s"); m.LookaheadS = r.ReadFloat(); break;
                    case 13: r.Expect(wt, WireType.LengthDelimited, "language"); m.Language = r.ReadString(); break;
                    case 14: r.Expect(wt, WireType.Varint, "lipsync"); m.Lipsync = (LipsyncEngine)r.ReadInt32(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            m.CurveNames = names.ToArray();
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            j.UInt("protocol_version", ProtocolVersion); j.String("session_id", SessionId); j.UInt("fps", Fps);
            j.Strings("curve_names", CurveNames); j.Message("skeleton", Skeleton); j.Float("buffer_latency_s", BufferLatencyS);
            j.Message("parts", Parts); j.String("server_version", ServerVersion); J.Enum<Mode>(j, "mode", (int)Mode);
            j.Message("limits", Limits); j.Float("lookahead_s", LookaheadS);
            j.String("language", Language); J.Enum<LipsyncEngine>(j, "lipsync", (int)Lipsync);
        }
    }

    public sealed class Frame : IProtoMessage
    {
        public uint Index;
        public double Time;
        public float[] Curves = new float[0];
        public float[] Head = new float[0];
        public float[] Eyes = new float[0];
        public float[] JointRotations = new float[0];
        public float[] RootPosition = new float[0];

        public void WriteTo(ProtoWriter w)
        {
            w.UInt32(1, Index); w.Double(2, Time);
            w.PackedFloats(3, Curves); w.PackedFloats(4, Head); w.PackedFloats(5, Eyes);
            w.PackedFloats(6, JointRotations); w.PackedFloats(7, RootPosition);
        }

        [ThreadStatic] static List<float> t_Tmp;

        static float[] ReadFloatArray(ProtoReader r, WireType wt, float[] existing)
        {
            var tmp = t_Tmp ?? (t_Tmp = new List<float>(64));
            tmp.Clear();
            if (existing != null) tmp.AddRange(existing); // repeated fields concatenate
            r.ReadFloats(wt, tmp);
            return tmp.ToArray();
        }

        public static Frame Parse(ProtoReader r)
        {
            var m = new Frame();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.Varint, "index"); m.Index = r.ReadUInt32(); break;
                    case 2: r.Expect(wt, WireType.Fixed64, "time"); m.Time = r.ReadDouble(); break;
                    case 3: m.Curves = ReadFloatArray(r, wt, m.Curves); break;
                    case 4: m.Head = ReadFloatArray(r, wt, m.Head); break;
                    case 5: m.Eyes = ReadFloatArray(r, wt, m.Eyes); break;
                    case 6: m.JointRotations = ReadFloatArray(r, wt, m.JointRotations); break;
                    case 7: m.RootPosition = ReadFloatArray(r, wt, m.RootPosition); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            j.UInt("index", Index); j.Double("time", Time);
            j.Floats("curves", Curves); j.Floats("head", Head); j.Floats("eyes", Eyes);
            j.Floats("joint_rotations", JointRotations); j.Floats("root_position", RootPosition);
        }
    }

    public sealed class FrameBatch : IProtoMessage
    {
        public Frame[] Frames = new Frame[0];

        public void WriteTo(ProtoWriter w) { foreach (var f in Frames) w.Message(1, f); }

        public static FrameBatch Parse(ProtoReader r)
        {
            var list = new List<Frame>();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                if (f == 1) { r.Expect(wt, WireType.LengthDelimited, "frames"); list.Add(Frame.Parse(r.ReadSubMessage())); }
                else r.SkipField(wt, f);
            }
            return new FrameBatch { Frames = list.ToArray() };
        }

        public void WriteJson(JsonOut j) { j.Messages("frames", Frames); }
    }

    public sealed class Error : IProtoMessage
    {
        public ErrorCode Code;
        public string CodeName = "";
        public string Message = "";
        public bool Fatal;

        public void WriteTo(ProtoWriter w) { w.Int32(1, (int)Code); w.String(2, CodeName); w.String(3, Message); w.Bool(4, Fatal); }

        public static Error Parse(ProtoReader r)
        {
            var m = new Error();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.Varint, "code"); m.Code = (ErrorCode)r.ReadInt32(); break;
                    case 2: r.Expect(wt, WireType.LengthDelimited, "code_name"); m.CodeName = r.ReadString(); break;
                    case 3: r.Expect(wt, WireType.LengthDelimited, "message"); m.Message = r.ReadString(); break;
                    case 4: r.Expect(wt, WireType.Varint, "fatal"); m.Fatal = r.ReadBool(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j) { J.Enum<ErrorCode>(j, "code", (int)Code); j.String("code_name", CodeName); j.String("message", Message); j.Bool("fatal", Fatal); }

        public override string ToString() { return (string.IsNullOrEmpty(CodeName) ? Code.ToString() : CodeName) + (Fatal ? " (fatal)" : "") + ": " + Message; }
    }

    public sealed class SessionEnded : IProtoMessage
    {
        public string SessionId = "";
        public string Reason = "";
        public uint FramesSent;
        public double AudioSeconds;
        public uint EmotionUpdates;
        public double ProcessingSeconds, FirstFrameLatencyS, MaxFrameLatencyS;
        public ulong BytesReceived, BytesSent;

        public void WriteTo(ProtoWriter w)
        {
            w.String(1, SessionId); w.String(2, Reason); w.UInt32(3, FramesSent); w.Double(4, AudioSeconds);
            w.UInt32(5, EmotionUpdates); w.Double(6, ProcessingSeconds); w.Double(7, FirstFrameLatencyS);
            w.Double(8, MaxFrameLatencyS); w.UInt64(9, BytesReceived); w.UInt64(10, BytesSent);
        }

        public static SessionEnded Parse(ProtoReader r)
        {
            var m = new SessionEnded();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.LengthDelimited, "session_id"); m.SessionId = r.ReadString(); break;
                    case 2: r.Expect(wt, WireType.LengthDelimited, "reason"); m.Reason = r.ReadString(); break;
                    case 3: r.Expect(wt, WireType.Varint, "frames_sent"); m.FramesSent = r.ReadUInt32(); break;
                    case 4: r.Expect(wt, WireType.Fixed64, "audio_seconds"); m.AudioSeconds = r.ReadDouble(); break;
                    case 5: r.Expect(wt, WireType.Varint, "emotion_updates"); m.EmotionUpdates = r.ReadUInt32(); break;
                    case 6: r.Expect(wt, WireType.Fixed64, "processing_seconds"); m.ProcessingSeconds = r.ReadDouble(); break;
                    case 7: r.Expect(wt, WireType.Fixed64, "first_frame_latency_s"); m.FirstFrameLatencyS = r.ReadDouble(); break;
                    case 8: r.Expect(wt, WireType.Fixed64, "max_frame_latency_s"); m.MaxFrameLatencyS = r.ReadDouble(); break;
                    case 9: r.Expect(wt, WireType.Varint, "bytes_received"); m.BytesReceived = r.ReadVarint(); break;
                    case 10: r.Expect(wt, WireType.Varint, "bytes_sent"); m.BytesSent = r.ReadVarint(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            j.String("session_id", SessionId); j.String("reason", Reason); j.UInt("frames_sent", FramesSent);
            j.Double("audio_seconds", AudioSeconds); j.UInt("emotion_updates", EmotionUpdates);
            j.Double("processing_seconds", ProcessingSeconds); j.Double("first_frame_latency_s", FirstFrameLatencyS);
            j.Double("max_frame_latency_s", MaxFrameLatencyS); j.UInt("bytes_received", BytesReceived, true);
            j.UInt("bytes_sent", BytesSent, true);
        }
    }

    public sealed class Pong : IProtoMessage
    {
        public ulong Nonce;
        public double ClientTime, ServerTime;

        public void WriteTo(ProtoWriter w) { w.UInt64(1, Nonce); w.Double(2, ClientTime); w.Double(3, ServerTime); }

        public static Pong Parse(ProtoReader r)
        {
            var m = new Pong();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                switch (f)
                {
                    case 1: r.Expect(wt, WireType.Varint, "nonce"); m.Nonce = r.ReadVarint(); break;
                    case 2: r.Expect(wt, WireType.Fixed64, "client_time"); m.ClientTime = r.ReadDouble(); break;
                    case 3: r.Expect(wt, WireType.Fixed64, "server_time"); m.ServerTime = r.ReadDouble(); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j) { j.UInt("nonce", Nonce, true); j.Double("client_time", ClientTime); j.Double("server_time", ServerTime); }
    }

    public enum ServerMessageCase { None = 0, Started = 1, Frames = 2, Error = 3, Ended = 4, Pong = 5 }

    /// <summary>Envelope server -> client (oneof msg).</summary>
    public sealed class ServerMessage : IProtoMessage
    {
        public SessionStarted Started;
        public FrameBatch Frames;
        public Error Error;
        public SessionEnded Ended;
        public Pong Pong;

        public ServerMessageCase Case
        {
            get
            {
                if (Started != null) return ServerMessageCase.Started;
                if (Frames != null) return ServerMessageCase.Frames;
                if (Error != null) return ServerMessageCase.Error;
                if (Ended != null) return ServerMessageCase.Ended;
                if (Pong != null) return ServerMessageCase.Pong;
                return ServerMessageCase.None;
            }
        }

        void Clear() { Started = null; Frames = null; Error = null; Ended = null; Pong = null; }

        public void WriteTo(ProtoWriter w)
        {
            w.Message(1, Started); w.Message(2, Frames); w.Message(3, Error); w.Message(4, Ended); w.Message(5, Pong);
        }

        public byte[] ToByteArray() { var w = new ProtoWriter(); WriteTo(w); return w.ToArray(); }

        public static ServerMessage Parse(byte[] data) { return Parse(new ProtoReader(data)); }
        public static ServerMessage Parse(byte[] data, int offset, int count) { return Parse(new ProtoReader(data, offset, count)); }

        public static ServerMessage Parse(ProtoReader r)
        {
            var m = new ServerMessage();
            while (!r.AtEnd)
            {
                int f; var wt = r.ReadTag(out f);
                if (f >= 1 && f <= 5) { r.Expect(wt, WireType.LengthDelimited, "msg"); m.Clear(); }
                switch (f)
                {
                    case 1: m.Started = SessionStarted.Parse(r.ReadSubMessage()); break;
                    case 2: m.Frames = FrameBatch.Parse(r.ReadSubMessage()); break;
                    case 3: m.Error = Error.Parse(r.ReadSubMessage()); break;
                    case 4: m.Ended = SessionEnded.Parse(r.ReadSubMessage()); break;
                    case 5: m.Pong = Pong.Parse(r.ReadSubMessage()); break;
                    default: r.SkipField(wt, f); break;
                }
            }
            return m;
        }

        public void WriteJson(JsonOut j)
        {
            j.Message("started", Started); j.Message("frames", Frames); j.Message("error", Error);
            j.Message("ended", Ended); j.Message("pong", Pong);
        }
    }
}
