// Plain C#: the schema this codec implements, as text, so tests can compare it with the official
// descriptor of proto/emoanim.proto (tests/test_unity_client.py::test_codec_schema_matches_proto).
using System.Text;

namespace EmoAnim.Protocol
{
    public static class Schema
    {
        public const string Package = "emoanim.v1";
        public const int ProtocolVersion = 1;

        // "Message: number name type [repeated] [presence] [oneof=name]"; types as in descriptor.proto
        // (message/enum fields name their type). Keep in field-number order.
        public static readonly string[] Fields =
        {
            "ClientMessage: 1 start message:StartSession presence oneof=msg",
            "ClientMessage: 2 audio message:AudioChunk presence oneof=msg",
            "ClientMessage: 3 emotion message:EmotionUpdate presence oneof=msg",
            "ClientMessage: 4 end_of_audio message:EndOfAudio presence oneof=msg",
            "ClientMessage: 5 ping message:Ping presence oneof=msg",
            "ClientMessage: 6 cancel message:CancelSession presence oneof=msg",
            "Parts: 1 face bool",
            "Parts: 2 eyes bool",
            "Parts: 3 head bool",
            "Parts: 4 body bool",
            "Parts: 5 emotion bool",
            "StartSession: 1 protocol_version uint32",
            "StartSession: 2 sample_rate uint32",
            "StartSession: 3 encoding enum:AudioEncoding",
            "StartSession: 4 channels uint32",
            "StartSession: 5 fps uint32",
            "StartSession: 6 rig enum:Rig",
            "StartSession: 7 naming enum:CurveNaming",
            "StartSession: 8 custom_rig_json string",
            "StartSession: 9 parts message:Parts presence",
            "StartSession: 10 seed uint64",
            "StartSession: 11 auth_token string",
            "StartSession: 12 mode enum:Mode",
            "StartSession: 13 transcript string",
            "StartSession: 14 emotion message:Emotion presence",
            "StartSession: 15 client_name string",
            "StartSession: 16 max_frames_per_batch uint32",
            "StartSession: 17 language string",
            "StartSession: 18 lipsync enum:LipsyncEngine",
            "AudioChunk: 1 data bytes",
            "Emotion: 1 category string",
            "Emotion: 2 intensity float",
            "Emotion: 3 valence float presence oneof=_valence",
            "Emotion: 4 arousal float presence oneof=_arousal",
            "Emotion: 5 dominance float presence oneof=_dominance",
            "Emotion: 6 mixture message:EmotionWeight repeated",
            "EmotionWeight: 1 category string",
            "EmotionWeight: 2 weight float",
            "EmotionUpdate: 1 time double presence oneof=_time",
            "EmotionUpdate: 2 emotion message:Emotion presence",
            "EmotionUpdate: 3 transition_s float",
            "Ping: 1 nonce uint64",
            "Ping: 2 client_time double",
            "ServerMessage: 1 started message:SessionStarted presence oneof=msg",
            "ServerMessage: 2 frames message:FrameBatch presence oneof=msg",
            "ServerMessage: 3 error message:Error presence oneof=msg",
            "ServerMessage: 4 ended message:SessionEnded presence oneof=msg",
            "ServerMessage: 5 pong message:Pong presence oneof=msg",
            "Skeleton: 1 joint_names string repeated",
            "Skeleton: 2 parents int32 repeated",
            "Skeleton: 3 rest_offsets float repeated",
            "SessionStarted: 1 protocol_version uint32",
            "SessionStarted: 2 session_id string",
            "SessionStarted: 3 fps uint32",
            "SessionStarted: 4 curve_names string repeated",
            "SessionStarted: 5 skeleton message:Skeleton presence",
            "SessionStarted: 7 buffer_latency_s float",
            "SessionStarted: 8 parts message:Parts presence",
            "SessionStarted: 9 server_version string",
            "SessionStarted: 10 mode enum:Mode",
            "SessionStarted: 11 limits message:Limits presence",
            "SessionStarted: 12 lookahead_s float",
            "SessionStarted: 13 language string",
            "SessionStarted: 14 lipsync enum:LipsyncEngine",
            "Limits: 1 max_message_bytes uint32",
            "Limits: 2 max_sample_rate uint32",
            "Limits: 3 min_sample_rate uint32",
            "Limits: 4 max_session_seconds float",
            "Limits: 5 max_sessions_per_client uint32",
            "Limits: 6 idle_timeout_s float",
            "Limits: 7 max_frames_per_batch uint32",
            "Frame: 1 index uint32",
            "Frame: 2 time double",
            "Frame: 3 curves float repeated",
            "Frame: 4 head float repeated",
            "Frame: 5 eyes float repeated",
            "Frame: 6 joint_rotations float repeated",
            "Frame: 7 root_position float repeated",
            "FrameBatch: 1 frames message:Frame repeated",
            "Error: 1 code enum:ErrorCode",
            "Error: 2 code_name string",
            "Error: 3 message string",
            "Error: 4 fatal bool",
            "SessionEnded: 1 session_id string",
            "SessionEnded: 2 reason string",
            "SessionEnded: 3 frames_sent uint32",
            "SessionEnded: 4 audio_seconds double",
            "SessionEnded: 5 emotion_updates uint32",
            "SessionEnded: 6 processing_seconds double",
            "SessionEnded: 7 first_frame_latency_s double",
            "SessionEnded: 8 max_frame_latency_s double",
            "SessionEnded: 9 bytes_received uint64",
            "SessionEnded: 10 bytes_sent uint64",
            "Pong: 1 nonce uint64",
            "Pong: 2 client_time double",
            "Pong: 3 server_time double",
        };

        /// <summary>Messages with no fields (listed so a new field added to them is noticed).</summary>
        public static readonly string[] EmptyMessages = { "EndOfAudio", "CancelSession" };

        /// <summary>Enums as "Enum: NAME=number" using the .proto names from the C# enums' attributes.</summary>
        public static string[] Enums()
        {
            var types = new[] { typeof(ProtocolVersion), typeof(AudioEncoding), typeof(Rig), typeof(CurveNaming), typeof(Mode), typeof(LipsyncEngine), typeof(ErrorCode) };
            var protoNames = new[] { "Version", "AudioEncoding", "Rig", "CurveNaming", "Mode", "LipsyncEngine", "ErrorCode" };
            var list = new System.Collections.Generic.List<string>();
            for (int t = 0; t < types.Length; t++)
                for (int v = 0; v < ProtoEnum.Count(types[t]); v++)
                    list.Add(protoNames[t] + ": " + ProtoEnum.Name(types[t], v) + "=" + v);
            return list.ToArray();
        }

        public static string Describe()
        {
            var sb = new StringBuilder();
            foreach (var f in Fields) sb.Append(f).Append('\n');
            foreach (var m in EmptyMessages) sb.Append(m).Append(": (empty)\n");
            foreach (var e in Enums()) sb.Append("enum ").Append(e).Append('\n');
            return sb.ToString();
        }
    }
}
