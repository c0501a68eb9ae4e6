// Plain C# (no UnityEngine, no Google.Protobuf): protobuf wire-format primitives.
// Spec: https://protobuf.dev/programming-guides/encoding/
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace EmoAnim.Protocol
{
    public enum WireType { Varint = 0, Fixed64 = 1, LengthDelimited = 2, StartGroup = 3, EndGroup = 4, Fixed32 = 5 }

    /// <summary>Thrown for bytes that are not a valid encoding of the expected message.</summary>
    public class ProtoException : Exception
    {
        public ProtoException(string message) : base(message) { }
    }

    /// <summary>Appends protobuf wire data to a growable buffer (little-endian, as the spec requires).</summary>
    public sealed class ProtoWriter
    {
        byte[] m_Buf;
        int m_Len;

        public ProtoWriter(int capacity = 64) { m_Buf = new byte[Math.Max(16, capacity)]; }

        public int Length { get { return m_Len; } }
        public void Clear() { m_Len = 0; }

        public byte[] ToArray()
        {
            var r = new byte[m_Len];
            Buffer.BlockCopy(m_Buf, 0, r, 0, m_Len);
            return r;
        }

        void Ensure(int extra)
        {
            if (m_Len + extra <= m_Buf.Length) return;
            int n = m_Buf.Length * 2;
            while (n < m_Len + extra) n *= 2;
            Array.Resize(ref m_Buf, n);
        }

        public void WriteRawByte(byte b) { Ensure(1); m_Buf[m_Len++] = b; }

        public void WriteRawBytes(byte[] b, int offset, int count)
        {
            Ensure(count);
            Buffer.BlockCopy(b, offset, m_Buf, m_Len, count);
            m_Len += count;
        }

        public void WriteVarint(ulong v)
        {
            Ensure(10);
            while (v >= 0x80) { m_Buf[m_Len++] = (byte)(v | 0x80); v >>= 7; }
            m_Buf[m_Len++] = (byte)v;
        }

        public void WriteTag(int field, WireType wt) { WriteVarint((ulong)(((uint)field << 3) | (uint)wt)); }

        public void WriteFixed32(uint v)
        {
            Ensure(4);
            m_Buf[m_Len++] = (byte)v; m_Buf[m_Len++] = (byte)(v >> 8);
            m_Buf[m_Len++] = (byte)(v >> 16); m_Buf[m_Len++] = (byte)(v >> 24);
        }

        public void WriteFixed64(ulong v)
        {
            WriteFixed32((uint)v);
            WriteFixed32((uint)(v >> 32));
        }

        public void WriteFloatRaw(float f) { WriteFixed32(FloatBits.ToUInt32(f)); }
        public void WriteDoubleRaw(double d) { WriteFixed64((ulong)BitConverter.DoubleToInt64Bits(d)); }

        // ---- fields (proto3 implicit presence: default values are not written) ----

        public void UInt32(int field, uint v) { if (v != 0) { WriteTag(field, WireType.Varint); WriteVarint(v); } }
        public void UInt64(int field, ulong v) { if (v != 0) { WriteTag(field, WireType.Varint); WriteVarint(v); } }
        /// <summary>int32 and enums: negative values are sign-extended to 10 bytes (spec).</summary>
        public void Int32(int field, int v) { if (v != 0) { WriteTag(field, WireType.Varint); WriteVarint((ulong)(long)v); } }
        public void Bool(int field, bool v) { if (v) { WriteTag(field, WireType.Varint); WriteVarint(1); } }
        /// <summary>float: written unless +0.0 (protobuf writes -0.0 and NaN).</summary>
        public void Float(int field, float v) { if (FloatBits.ToUInt32(v) != 0) { WriteTag(field, WireType.Fixed32); WriteFloatRaw(v); } }
        public void Double(int field, double v) { if (BitConverter.DoubleToInt64Bits(v) != 0) { WriteTag(field, WireType.Fixed64); WriteDoubleRaw(v); } }
        public void String(int field, string v) { if (!string.IsNullOrEmpty(v)) StringAlways(field, v); }
        public void Bytes(int field, byte[] v) { if (v != null && v.Length > 0) BytesAlways(field, v, 0, v.Length); }

        // explicit presence (proto3 `optional`, oneof members, repeated elements): always written
        public void FloatAlways(int field, float v) { WriteTag(field, WireType.Fixed32); WriteFloatRaw(v); }
        public void DoubleAlways(int field, double v) { WriteTag(field, WireType.Fixed64); WriteDoubleRaw(v); }
        public void StringAlways(int field, string v)
        {
            var b = Encoding.UTF8.GetBytes(v ?? "");
            BytesAlways(field, b, 0, b.Length);
        }
        public void BytesAlways(int field, byte[] v, int offset, int count)
        {
            WriteTag(field, WireType.LengthDelimited);
            WriteVarint((ulong)count);
            WriteRawBytes(v, offset, count);
        }

        /// <summary>Embedded message (written when non-null, even if empty).</summary>
        public void Message(int field, IProtoMessage m)
        {
            if (m == null) return;
            var sub = new ProtoWriter(64);
            m.WriteTo(sub);
            WriteTag(field, WireType.LengthDelimited);
            WriteVarint((ulong)sub.m_Len);
            WriteRawBytes(sub.m_Buf, 0, sub.m_Len);
        }

        public void PackedFloats(int field, float[] v)
        {
            if (v == null || v.Length == 0) return;
            WriteTag(field, WireType.LengthDelimited);
            WriteVarint((ulong)(v.Length * 4));
            Ensure(v.Length * 4);
            for (int i = 0; i < v.Length; i++) WriteFloatRaw(v[i]);
        }

        public void PackedInt32(int field, int[] v)
        {
            if (v == null || v.Length == 0) return;
            var sub = new ProtoWriter(v.Length * 2 + 8);
            for (int i = 0; i < v.Length; i++) sub.WriteVarint((ulong)(long)v[i]);
            BytesAlways(field, sub.m_Buf, 0, sub.m_Len);
        }

        public void RepeatedString(int field, string[] v)
        {
            if (v == null) return;
            for (int i = 0; i < v.Length; i++) StringAlways(field, v[i]);
        }
    }

    /// <summary>Reads protobuf wire data from a byte range. Unknown fields are skipped by the caller via <see cref="SkipField"/>.</summary>
    public sealed class ProtoReader
    {
        readonly byte[] m_Buf;
        int m_Pos;
        readonly int m_End;

        public ProtoReader(byte[] buffer) : this(buffer, 0, buffer.Length) { }
        public ProtoReader(byte[] buffer, int offset, int count)
        {
            if (buffer == null) throw new ArgumentNullException("buffer");
            if (offset < 0 || count < 0 || offset + count > buffer.Length) throw new ArgumentOutOfRangeException("count");
            m_Buf = buffer; m_Pos = offset; m_End = offset + count;
        }

        public bool AtEnd { get { return m_Pos >= m_End; } }
        public int Position { get { return m_Pos; } }

        /// <summary>Next tag; field number in <paramref name="field"/>, wire type returned.</summary>
        public WireType ReadTag(out int field)
        {
            ulong tag = ReadVarint();
            field = (int)(tag >> 3);
            if (field <= 0 || tag > 0xFFFFFFFFUL) throw new ProtoException("invalid field number in tag " + tag);
            int wt = (int)(tag & 7);
            if (wt > 5) throw new ProtoException("invalid wire type " + wt + " for field " + field);
            return (WireType)wt;
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 70; shift += 7)
            {
                if (m_Pos >= m_End) throw new ProtoException("truncated varint");
                byte b = m_Buf[m_Pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return result;
            }
            throw new ProtoException("malformed varint (more than 10 bytes)");
        }

        public uint ReadFixed32()
        {
            if (m_End - m_Pos < 4) throw new ProtoException("truncated fixed32");
            uint v = (uint)(m_Buf[m_Pos] | m_Buf[m_Pos + 1] << 8 | m_Buf[m_Pos + 2] << 16 | m_Buf[m_Pos + 3] << 24);
            m_Pos += 4;
            return v;
        }

        public ulong ReadFixed64()
        {
            ulong lo = ReadFixed32();
            ulong hi = ReadFixed32();
            return lo | (hi << 32);
        }

        public float ReadFloat() { return FloatBits.ToSingle(ReadFixed32()); }
        public double ReadDouble() { return BitConverter.Int64BitsToDouble((long)ReadFixed64()); }
        public uint ReadUInt32() { return (uint)ReadVarint(); }
        public int ReadInt32() { return (int)ReadVarint(); }
        public bool ReadBool() { return ReadVarint() != 0; }

        public int ReadLength()
        {
            ulong n = ReadVarint();
            if (n > (ulong)(m_End - m_Pos)) throw new ProtoException("length " + n + " runs past the end of the message");
            return (int)n;
        }

        public byte[] ReadBytes()
        {
            int n = ReadLength();
            var r = new byte[n];
            Buffer.BlockCopy(m_Buf, m_Pos, r, 0, n);
            m_Pos += n;
            return r;
        }

        public string ReadString()
        {
            int n = ReadLength();
            string s = Encoding.UTF8.GetString(m_Buf, m_Pos, n);
            m_Pos += n;
            return s;
        }

        /// <summary>A reader over an embedded message; advances this reader past it.</summary>
        public ProtoReader ReadSubMessage()
        {
            int n = ReadLength();
            var sub = new ProtoReader(m_Buf, m_Pos, n);
            m_Pos += n;
            return sub;
        }

        /// <summary>Repeated float, packed or not (parsers must accept both, per spec).</summary>
        public void ReadFloats(WireType wt, List<float> into)
        {
            if (wt == WireType.Fixed32) { into.Add(ReadFloat()); return; }
            if (wt != WireType.LengthDelimited) throw new ProtoException("wrong wire type " + wt + " for repeated float");
            int n = ReadLength();
            if (n % 4 != 0) throw new ProtoException("packed float length " + n + " not a multiple of 4");
            int end = m_Pos + n;
            while (m_Pos < end) into.Add(ReadFloat());
        }

        /// <summary>Repeated int32, packed or not.</summary>
        public void ReadInt32s(WireType wt, List<int> into)
        {
            if (wt == WireType.Varint) { into.Add(ReadInt32()); return; }
            if (wt != WireType.LengthDelimited) throw new ProtoException("wrong wire type " + wt + " for repeated int32");
            int n = ReadLength();
            int end = m_Pos + n;
            while (m_Pos < end) into.Add(ReadInt32());
            if (m_Pos != end) throw new ProtoException("packed int32 overruns its length");
        }

        public void Expect(WireType actual, WireType wanted, string fieldName)
        {
            if (actual != wanted) throw new ProtoException("field " + fieldName + ": wire type " + actual + ", expected " + wanted);
        }

        public void SkipField(WireType wt, int field)
        {
            switch (wt)
            {
                case WireType.Varint: ReadVarint(); break;
                case WireType.Fixed64: ReadFixed64(); break;
                case WireType.Fixed32: ReadFixed32(); break;
                case WireType.LengthDelimited: { int n = ReadLength(); m_Pos += n; break; }
                case WireType.StartGroup:
                    while (true)
                    {
                        if (AtEnd) throw new ProtoException("unterminated group " + field);
                        int f; var w = ReadTag(out f);
                        if (w == WireType.EndGroup) { if (f != field) throw new ProtoException("mismatched end group"); break; }
                        SkipField(w, f);
                    }
                    break;
                default: throw new ProtoException("unexpected end group for field " + field);
            }
        }
    }

    /// <summary>Bit-exact float32 &lt;-&gt; uint32 without unsafe code (BitConverter.SingleToInt32Bits is not in .NET Standard 2.0).</summary>
    public static class FloatBits
    {
        public static uint ToUInt32(float f)
        {
            var b = BitConverter.GetBytes(f);
            if (!BitConverter.IsLittleEndian) Array.Reverse(b);
            return (uint)(b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24);
        }

        public static float ToSingle(uint u)
        {
            var b = new byte[] { (byte)u, (byte)(u >> 8), (byte)(u >> 16), (byte)(u >> 24) };
            if (!BitConverter.IsLittleEndian) Array.Reverse(b);
            return BitConverter.ToSingle(b, 0);
        }
    }

    /// <summary>A message of the EmoAnim schema.</summary>
    public interface IProtoMessage
    {
        void WriteTo(ProtoWriter w);
        /// <summary>Proto3 JSON (as <c>json_format.MessageToDict(m, preserving_proto_field_name=True)</c>).</summary>
        void WriteJson(JsonOut j);
    }

    /// <summary>Tiny JSON writer for debugging and the cross-language tests (proto3 JSON mapping).</summary>
    public sealed class JsonOut
    {
        readonly StringBuilder m_Sb = new StringBuilder();
        bool m_First = true;

        public override string ToString() { return m_Sb.ToString(); }

        public void BeginObject() { m_Sb.Append('{'); m_First = true; }
        public void EndObject() { m_Sb.Append('}'); m_First = false; }

        void Key(string k)
        {
            if (!m_First) m_Sb.Append(',');
            m_First = false;
            Str(k);
            m_Sb.Append(':');
        }

        void Str(string s)
        {
            m_Sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': m_Sb.Append("\\\""); break;
                    case '\\': m_Sb.Append("\\\\"); break;
                    case '\n': m_Sb.Append("\\n"); break;
                    case '\r': m_Sb.Append("\\r"); break;
                    case '\t': m_Sb.Append("\\t"); break;
                    default:
                        if (c < 0x20) m_Sb.Append("\\u").Append(((int)c).ToString("x4"));
                        else m_Sb.Append(c);
                        break;
                }
            }
            m_Sb.Append('"');
        }

        static string Num(double d)
        {
            if (double.IsNaN(d)) return "\"NaN\"";
            if (double.IsPositiveInfinity(d)) return "\"Infinity\"";
            if (double.IsNegativeInfinity(d)) return "\"-Infinity\"";
            return d.ToString("R", CultureInfo.InvariantCulture);
        }

        static string Num(float f)
        {
            if (float.IsNaN(f) || float.IsInfinity(f)) return Num((double)f);
            return f.ToString("R", CultureInfo.InvariantCulture);
        }

        // implicit presence: skip defaults
        public void UInt(string k, ulong v, bool quoted = false) { if (v != 0) UIntAlways(k, v, quoted); }
        public void UIntAlways(string k, ulong v, bool quoted) { Key(k); if (quoted) Str(v.ToString(CultureInfo.InvariantCulture)); else m_Sb.Append(v.ToString(CultureInfo.InvariantCulture)); }
        public void Int(string k, long v) { if (v != 0) { Key(k); m_Sb.Append(v.ToString(CultureInfo.InvariantCulture)); } }
        public void Bool(string k, bool v) { if (v) { Key(k); m_Sb.Append("true"); } }
        public void Float(string k, float v) { if (FloatBits.ToUInt32(v) != 0) FloatAlways(k, v); }
        public void FloatAlways(string k, float v) { Key(k); m_Sb.Append(Num(v)); }
        public void Double(string k, double v) { if (BitConverter.DoubleToInt64Bits(v) != 0) DoubleAlways(k, v); }
        public void DoubleAlways(string k, double v) { Key(k); m_Sb.Append(Num(v)); }
        public void String(string k, string v) { if (!string.IsNullOrEmpty(v)) { Key(k); Str(v); } }
        public void Bytes(string k, byte[] v) { if (v != null && v.Length > 0) { Key(k); Str(Convert.ToBase64String(v)); } }
        public void Enum(string k, int v, string name) { if (v != 0) { Key(k); if (name != null) Str(name); else m_Sb.Append(v); } }

        public void Message(string k, IProtoMessage m)
        {
            if (m == null) return;
            Key(k);
            BeginObject();
            m.WriteJson(this);
            EndObject();
        }

        public void Floats(string k, float[] v)
        {
            if (v == null || v.Length == 0) return;
            Key(k);
            m_Sb.Append('[');
            for (int i = 0; i < v.Length; i++) { if (i > 0) m_Sb.Append(','); m_Sb.Append(Num(v[i])); }
            m_Sb.Append(']');
        }

        public void Ints(string k, int[] v)
        {
            if (v == null || v.Length == 0) return;
            Key(k);
            m_Sb.Append('[');
            for (int i = 0; i < v.Length; i++) { if (i > 0) m_Sb.Append(','); m_Sb.Append(v[i].ToString(CultureInfo.InvariantCulture)); }
            m_Sb.Append(']');
        }

        public void Strings(string k, string[] v)
        {
            if (v == null || v.Length == 0) return;
            Key(k);
            m_Sb.Append('[');
            for (int i = 0; i < v.Length; i++) { if (i > 0) m_Sb.Append(','); Str(v[i]); }
            m_Sb.Append(']');
        }

        public void Messages<T>(string k, T[] v) where T : IProtoMessage
        {
            if (v == null || v.Length == 0) return;
            Key(k);
            m_Sb.Append('[');
            for (int i = 0; i < v.Length; i++)
            {
                if (i > 0) m_Sb.Append(',');
                BeginObject(); v[i].WriteJson(this); EndObject();
            }
            m_Sb.Append(']');
        }

        /// <summary>Serialize one message as a JSON object.</summary>
        public static string Of(IProtoMessage m)
        {
            var j = new JsonOut();
            j.BeginObject(); m.WriteJson(j); j.EndObject();
            return j.ToString();
        }
    }
}
