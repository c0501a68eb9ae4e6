// Plain C# (no UnityEngine): audio sample conversion, chunking and a small WAV reader.
using System;
using System.IO;
using System.Text;

namespace EmoAnim
{
    public static class AudioConvert
    {
        /// <summary>Interleaved float samples -> mono (average of channels).</summary>
        public static float[] Downmix(float[] interleaved, int channels)
        {
            if (channels <= 1) return interleaved;
            int n = interleaved.Length / channels;
            var mono = new float[n];
            for (int i = 0; i < n; i++)
            {
                float s = 0;
                for (int c = 0; c < channels; c++) s += interleaved[i * channels + c];
                mono[i] = s / channels;
            }
            return mono;
        }

        /// <summary>
        /// Float samples (-1..1) -> signed 16-bit little-endian PCM, exactly like the reference Python
        /// client (<c>np.clip(np.rint(x * 32768), -32768, 32767).astype('&lt;i2')</c> on float32): scale by
        /// 32768, round to nearest with ties to even, clamp. The exact inverse of <see cref="Pcm16ToFloat"/>
        /// (and of Unity's own 16-bit decode), so 16-bit source audio reaches the server bit-exact; the
        /// older truncation of <c>x * 32767</c> moved samples by one LSB and changed recognised words.
        /// </summary>
        public static byte[] FloatToPcm16(float[] samples, int offset, int count)
        {
            var b = new byte[count * 2];
            for (int i = 0; i < count; i++)
            {
                float x = samples[offset + i];
                if (float.IsNaN(x)) x = 0f;
                double scaled = Math.Round((double)x * 32768.0, MidpointRounding.ToEven);
                if (scaled > 32767.0) scaled = 32767.0; else if (scaled < -32768.0) scaled = -32768.0;
                short s = (short)scaled;
                b[2 * i] = (byte)s;
                b[2 * i + 1] = (byte)(s >> 8);
            }
            return b;
        }

        public static float[] Pcm16ToFloat(byte[] pcm, int offset, int count)
        {
            int n = count / 2;
            var f = new float[n];
            for (int i = 0; i < n; i++) f[i] = (short)(pcm[offset + 2 * i] | pcm[offset + 2 * i + 1] << 8) / 32768f;
            return f;
        }

        /// <summary>Float samples -> float32 little-endian bytes (AudioEncoding.Float32).</summary>
        public static byte[] FloatToBytes(float[] samples, int offset, int count)
        {
            var b = new byte[count * 4];
            for (int i = 0; i < count; i++)
            {
                uint u = Protocol.FloatBits.ToUInt32(samples[offset + i]);
                b[4 * i] = (byte)u; b[4 * i + 1] = (byte)(u >> 8); b[4 * i + 2] = (byte)(u >> 16); b[4 * i + 3] = (byte)(u >> 24);
            }
            return b;
        }

        /// <summary>Samples per chunk for a chunk duration (e.g. 20 ms at 48 kHz = 960).</summary>
        public static int ChunkSamples(int sampleRate, double seconds)
        {
            return Math.Max(1, (int)(sampleRate * seconds + 1e-9)); // like the reference client: int(rate * ms / 1000)
        }
    }

    /// <summary>PCM WAV (8/16/24/32-bit int, 32-bit float; any channel count) -> interleaved floats.</summary>
    public sealed class WavData
    {
        public int SampleRate;
        public int Channels;
        public float[] Samples; // interleaved
        public double Duration { get { return Channels > 0 && SampleRate > 0 ? (double)(Samples.Length / Channels) / SampleRate : 0; } }

        public static WavData Load(string path) { return Parse(File.ReadAllBytes(path), path); }

        public static WavData Parse(byte[] b, string name = "wav")
        {
            if (b.Length < 12 || Encoding.ASCII.GetString(b, 0, 4) != "RIFF" || Encoding.ASCII.GetString(b, 8, 4) != "WAVE")
                throw new InvalidDataException(name + ": not a RIFF/WAVE file");
            int pos = 12, fmt = -1, bits = 0, channels = 0, rate = 0;
            while (pos + 8 <= b.Length)
            {
                string id = Encoding.ASCII.GetString(b, pos, 4);
                int size = BitConverter.ToInt32(b, pos + 4);
                int body = pos + 8;
                if (id == "fmt ")
                {
                    fmt = BitConverter.ToUInt16(b, body);
                    channels = BitConverter.ToUInt16(b, body + 2);
                    rate = BitConverter.ToInt32(b, body + 4);
                    bits = BitConverter.ToUInt16(b, body + 14);
                    if (fmt == 0xFFFE && size >= 26) fmt = BitConverter.ToUInt16(b, body + 24); // WAVE_FORMAT_EXTENSIBLE
                }
                else if (id == "data")
                {
                    if (fmt < 0) throw new InvalidDataException(name + ": data chunk before fmt chunk");
                    int len = Math.Min(size, b.Length - body);
                    int bytesPer = bits / 8;
                    int n = len / bytesPer;
                    n -= n % channels;
                    var s = new float[n];
                    for (int i = 0; i < n; i++)
                    {
                        int o = body + i * bytesPer;
                        if (fmt == 3 && bits == 32) s[i] = BitConverter.ToSingle(b, o);
                        else if (fmt == 1 && bits == 16) s[i] = BitConverter.ToInt16(b, o) / 32768f;
                        else if (fmt == 1 && bits == 8) s[i] = (b[o] - 128) / 128f;
                        else if (fmt == 1 && bits == 24) s[i] = ((b[o] << 8 | b[o + 1] << 16 | b[o + 2] << 24) >> 8) / 8388608f;
                        else if (fmt == 1 && bits == 32) s[i] = BitConverter.ToInt32(b, o) / 2147483648f;
                        else throw new InvalidDataException(name + ": unsupported WAV format " + fmt + "/" + bits + " bit (expected PCM 8/16/24/32 or float32)");
                    }
                    return new WavData { SampleRate = rate, Channels = channels, Samples = s };
                }
                pos = body + size + (size & 1);
            }
            throw new InvalidDataException(name + ": no data chunk");
        }
    }
}
