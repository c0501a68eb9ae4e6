// Plain C# (no UnityEngine): hand-edit override layers (docs/overrides.md), the same JSON that
// `emoanim bake --overrides` and the batch manifest read (emoanim_server/overrides.py).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace EmoAnim
{
    /// <summary>Over [Start, End] the curve is Value; with Blend seconds it cross-fades in before and out after.</summary>
    public struct OverrideHold
    {
        public float Start, End, Value, Blend;
    }

    /// <summary>Edits of one channel: offset keys (time s, delta; linear, zero outside the keys) and holds.</summary>
    public sealed class CurveOverride
    {
        public readonly List<float[]> Offset = new List<float[]>();
        public readonly List<OverrideHold> Holds = new List<OverrideHold>();
    }

    /// <summary>
    /// An animator's edits of one line, kept apart from the bake so a re-bake (new take, fixed
    /// transcript) re-applies them instead of losing them. <see cref="FromEdits"/> turns an edited
    /// clip's per-frame values into offset keys; <see cref="Apply"/> re-applies a layer to frames.
    /// </summary>
    public sealed class OverrideLayer
    {
        public const string Format = "emoanim-overrides";
        public const int Version = 1;
        /// <summary>Head/eye angle channels (radians), as the Live Link CSV names them.</summary>
        public static readonly string[] AngleNames =
            { "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll", "RightEyeYaw", "RightEyePitch", "RightEyeRoll" };

        public string Line;
        /// <summary>Canonical ARKit name (or an angle name) -> edits, in ordinal name order.</summary>
        public readonly SortedDictionary<string, CurveOverride> Curves = new SortedDictionary<string, CurveOverride>(StringComparer.Ordinal);

        /// <summary>
        /// Offset keys that turn <paramref name="baked"/> into <paramref name="edited"/> at every frame
        /// (both [ARKit index][frame], 0..1). A run of frames that differ by more than
        /// <paramref name="tolerance"/> becomes keys with a zero key on each side; keys that lie on the
        /// line between their neighbours (within the tolerance) are dropped.
        /// </summary>
        public static OverrideLayer FromEdits(string line, float fps, float[][] baked, float[][] edited, float tolerance = 1e-3f)
        {
            if (baked == null || edited == null || baked.Length != edited.Length) throw new ArgumentException("baked and edited need the same curves");
            var layer = new OverrideLayer { Line = line };
            for (int c = 0; c < baked.Length && c < ArkitNames.Count; c++)
            {
                if (baked[c] == null || edited[c] == null) continue;
                int n = Math.Min(baked[c].Length, edited[c].Length);
                var d = new float[n];
                for (int f = 0; f < n; f++) d[f] = edited[c][f] - baked[c][f];
                CurveOverride co = null;
                int i = 0;
                while (i < n)
                {
                    if (Math.Abs(d[i]) <= tolerance) { i++; continue; }
                    int a = i;
                    while (i < n && Math.Abs(d[i]) > tolerance) i++;
                    int b = i - 1;                                  // frames a..b differ
                    if (co == null) co = new CurveOverride();
                    AddSpan(co.Offset, d, a, b, fps, tolerance);
                }
                if (co != null) layer.Curves[ArkitNames.Names[c]] = co;
            }
            return layer;
        }

        static void AddSpan(List<float[]> keys, float[] d, int a, int b, float fps, float tol)
        {
            int n = d.Length;
            var idx = new List<int>();
            if (a > 0) idx.Add(a - 1);
            for (int f = a; f <= b; f++) idx.Add(f);
            if (b + 1 < n) idx.Add(b + 1);
            Func<int, float> v = f => (f < a || f > b) ? 0f : d[f];
            // greedy: from each kept key, reach as far as every frame in between stays on the line
            int k = 0;
            AddKey(keys, idx[0], v(idx[0]), fps);
            while (k < idx.Count - 1)
            {
                int best = k + 1;
                for (int e = k + 2; e < idx.Count; e++)
                {
                    bool ok = true;
                    for (int m = k + 1; m < e && ok; m++)
                    {
                        float t = (idx[m] - idx[k]) / (float)(idx[e] - idx[k]);
                        ok = Math.Abs(v(idx[k]) + t * (v(idx[e]) - v(idx[k])) - v(idx[m])) <= tol * 0.5f;
                    }
                    if (!ok) break;
                    best = e;
                }
                AddKey(keys, idx[best], v(idx[best]), fps);
                k = best;
            }
        }

        static void AddKey(List<float[]> keys, int frame, float value, float fps)
        {
            keys.Add(new[] { (float)Math.Round(frame / (double)fps, 6), (float)Math.Round(value, 6) });
        }

        // ------------------------------------------------------------------------------ apply
        /// <summary>Offset at time t: linear between keys, zero before the first and after the last.</summary>
        public static float OffsetAt(List<float[]> keys, double t)
        {
            if (keys.Count == 0 || t < keys[0][0] - 1e-6 || t > keys[keys.Count - 1][0] + 1e-6) return 0f;
            for (int i = 1; i < keys.Count; i++)
            {
                if (t <= keys[i][0] + 1e-9)
                {
                    double span = keys[i][0] - keys[i - 1][0];
                    if (span <= 0) return keys[i][1];
                    double u = Math.Max(0, (t - keys[i - 1][0]) / span);
                    return (float)(keys[i - 1][1] + u * (keys[i][1] - keys[i - 1][1]));
                }
            }
            return keys[keys.Count - 1][1];
        }

        static double HoldWeight(OverrideHold h, double t)
        {
            if (t >= h.Start - 1e-9 && t <= h.End + 1e-9) return 1;
            if (h.Blend <= 0) return 0;
            if (t < h.Start) return Math.Max(0, 1 - (h.Start - t) / h.Blend);
            return Math.Max(0, 1 - (t - h.End) / h.Blend);
        }

        public static float Edit(CurveOverride e, float value, double t)
        {
            double v = value + OffsetAt(e.Offset, t);
            foreach (var h in e.Holds)
            {
                double w = HoldWeight(h, t);
                v = (1 - w) * v + w * h.Value;
            }
            return (float)v;
        }

        /// <summary>Re-apply the layer to baked frames (in place), as the Python bake does.</summary>
        public void Apply(IList<PoseFrame> frames)
        {
            foreach (var kv in Curves)
            {
                int c = ArkitNames.IndexOf(kv.Key);
                foreach (var f in frames)
                {
                    if (c >= 0) f.Curves[c] = Math.Max(0f, Math.Min(1f, Edit(kv.Value, f.Curves[c], f.Time)));
                    // yaw channels are in the CSV's (Live Link Face's) sign, + = toward the character's
                    // right: PoseFrame keeps the opposite one (see ProtocolClient.ToPoseFrame)
                    else if (kv.Key == "HeadYaw") f.HeadYaw = -Edit(kv.Value, -f.HeadYaw, f.Time);
                    else if (kv.Key == "HeadPitch") f.HeadPitch = Edit(kv.Value, f.HeadPitch, f.Time);
                    else if (kv.Key == "HeadRoll") f.HeadRoll = Edit(kv.Value, f.HeadRoll, f.Time);
                    else if (kv.Key == "LeftEyeYaw") f.LeftEyeYaw = -Edit(kv.Value, -f.LeftEyeYaw, f.Time);
                    else if (kv.Key == "LeftEyePitch") f.LeftEyePitch = Edit(kv.Value, f.LeftEyePitch, f.Time);
                    else if (kv.Key == "RightEyeYaw") f.RightEyeYaw = -Edit(kv.Value, -f.RightEyeYaw, f.Time);
                    else if (kv.Key == "RightEyePitch") f.RightEyePitch = Edit(kv.Value, f.RightEyePitch, f.Time);
                    // eye rolls: the frames carry none
                }
            }
        }

        // ------------------------------------------------------------------------------ raw bake reference
        /// <summary>
        /// The raw bake's ARKit curves as text (first line "emoanim-baked 1 FPS FRAMES", then one line per
        /// curve in ARKit order, values separated by spaces): what <see cref="FromEdits"/> compares an edited clip to.
        /// </summary>
        public static string BakedReference(IList<PoseFrame> frames, float fps)
        {
            var sb = new StringBuilder();
            sb.Append("emoanim-baked 1 ").Append(Num(fps)).Append(' ').Append(frames.Count).Append('\n');
            for (int c = 0; c < ArkitNames.Count; c++)
            {
                for (int f = 0; f < frames.Count; f++) sb.Append(f > 0 ? " " : "").Append(Num(frames[f].Curves[c]));
                sb.Append('\n');
            }
            return sb.ToString();
        }

        public static float[][] ParseBakedReference(string text, out float fps)
        {
            var lines = text.Split('\n');
            var head = lines[0].Split(' ');
            int n;
            if (head.Length != 4 || head[0] != "emoanim-baked" || head[1] != "1"
                || !float.TryParse(head[2], NumberStyles.Float, CultureInfo.InvariantCulture, out fps) || fps <= 0
                || !int.TryParse(head[3], out n) || lines.Length < 1 + ArkitNames.Count)
                throw new FormatException("not an emoanim baked reference");
            var curves = new float[ArkitNames.Count][];
            for (int c = 0; c < ArkitNames.Count; c++)
            {
                var parts = n == 0 ? new string[0] : lines[1 + c].Split(' ');
                if (parts.Length != n) throw new FormatException("baked reference: curve " + c + " has " + parts.Length + " values, expected " + n);
                curves[c] = new float[n];
                for (int f = 0; f < n; f++) curves[c][f] = float.Parse(parts[f], NumberStyles.Float, CultureInfo.InvariantCulture);
            }
            return curves;
        }

        // ------------------------------------------------------------------------------ JSON
        public string ToJson()
        {
            var sb = new StringBuilder();
            sb.Append("{\"format\": \"").Append(Format).Append("\", \"version\": ").Append(Version);
            if (!string.IsNullOrEmpty(Line)) sb.Append(", \"line\": ").Append(Quote(Line));
            sb.Append(", \"curves\": {");
            bool first = true;
            foreach (var kv in Curves)
            {
                sb.Append(first ? "\n  " : ",\n  ").Append(Quote(kv.Key)).Append(": {");
                first = false;
                bool any = false;
                if (kv.Value.Offset.Count > 0)
                {
                    sb.Append("\"offset\": [");
                    for (int i = 0; i < kv.Value.Offset.Count; i++)
                        sb.Append(i > 0 ? ", " : "").Append('[').Append(Num(kv.Value.Offset[i][0])).Append(", ").Append(Num(kv.Value.Offset[i][1])).Append(']');
                    sb.Append(']');
                    any = true;
                }
                if (kv.Value.Holds.Count > 0)
                {
                    sb.Append(any ? ", " : "").Append("\"hold\": [");
                    for (int i = 0; i < kv.Value.Holds.Count; i++)
                    {
                        var h = kv.Value.Holds[i];
                        sb.Append(i > 0 ? ", " : "").Append("{\"start\": ").Append(Num(h.Start)).Append(", \"end\": ").Append(Num(h.End))
                          .Append(", \"value\": ").Append(Num(h.Value)).Append(", \"blend\": ").Append(Num(h.Blend)).Append('}');
                    }
                    sb.Append(']');
                }
                sb.Append('}');
            }
            sb.Append(first ? "}}\n" : "\n}}\n");
            return sb.ToString();
        }

        static string Num(float v) { return ((double)v).ToString("R", CultureInfo.InvariantCulture); }

        static string Quote(string s)
        {
            var sb = new StringBuilder("\"");
            foreach (char ch in s)
            {
                if (ch == '"' || ch == '\\') sb.Append('\\').Append(ch);
                else if (ch < ' ') sb.Append("\\u").Append(((int)ch).ToString("x4"));
                else sb.Append(ch);
            }
            return sb.Append('"').ToString();
        }

        /// <summary>Parse a layer; FormatException names what is wrong.</summary>
        public static OverrideLayer Parse(string json)
        {
            int pos = 0;
            var root = MiniJson.Value(json, ref pos) as Dictionary<string, object>;
            MiniJson.SkipWs(json, ref pos);
            if (root == null || pos != json.Length) throw new FormatException("override layer: expected one JSON object");
            object o;
            if (root.TryGetValue("format", out o) && (o as string) != Format) throw new FormatException("override layer: format is not " + Format);
            if (root.TryGetValue("version", out o) && !(o is double && (double)o == Version)) throw new FormatException("override layer: version not supported");
            var curves = root.TryGetValue("curves", out o) ? o as Dictionary<string, object> : null;
            if (curves == null) throw new FormatException("override layer: no \"curves\" object");
            var layer = new OverrideLayer { Line = root.TryGetValue("line", out o) ? o as string : null };
            foreach (var kv in curves)
            {
                string name = Array.IndexOf(AngleNames, kv.Key) >= 0 ? kv.Key : null;
                if (name == null)
                {
                    int idx = ArkitNames.Match(kv.Key);
                    if (idx < 0) throw new FormatException("override layer: " + kv.Key + " is not an ARKit blendshape or head/eye angle");
                    name = ArkitNames.Names[idx];
                }
                var spec = kv.Value as Dictionary<string, object>;
                if (spec == null) throw new FormatException("override layer: " + kv.Key + ": expected an object");
                var co = new CurveOverride();
                if (spec.TryGetValue("offset", out o))
                {
                    var keys = o as List<object>;
                    if (keys == null) throw new FormatException("override layer: " + kv.Key + ": offset must be a list");
                    foreach (var k in keys)
                    {
                        var pair = k as List<object>;
                        if (pair == null || pair.Count != 2 || !(pair[0] is double) || !(pair[1] is double))
                            throw new FormatException("override layer: " + kv.Key + ": offset keys are [time_s, delta]");
                        co.Offset.Add(new[] { (float)(double)pair[0], (float)(double)pair[1] });
                    }
                }
                if (spec.TryGetValue("hold", out o))
                {
                    var holds = o as List<object>;
                    if (holds == null) throw new FormatException("override layer: " + kv.Key + ": hold must be a list");
                    foreach (var h in holds)
                    {
                        var d = h as Dictionary<string, object>;
                        object s, e, v, b;
                        if (d == null || !d.TryGetValue("start", out s) || !d.TryGetValue("end", out e) || !d.TryGetValue("value", out v)
                            || !(s is double) || !(e is double) || !(v is double))
                            throw new FormatException("override layer: " + kv.Key + ": hold needs start, end, value");
                        d.TryGetValue("blend", out b);
                        co.Holds.Add(new OverrideHold { Start = (float)(double)s, End = (float)(double)e, Value = (float)(double)v,
                                                        Blend = b is double ? (float)(double)b : 0f });
                    }
                }
                layer.Curves[name] = co;
            }
            return layer;
        }
    }

    /// <summary>A small JSON reader (objects, arrays, strings, numbers, true/false/null) for the layer files.</summary>
    static class MiniJson
    {
        public static void SkipWs(string s, ref int p) { while (p < s.Length && char.IsWhiteSpace(s[p])) p++; }

        public static object Value(string s, ref int p)
        {
            SkipWs(s, ref p);
            if (p >= s.Length) throw new FormatException("JSON: unexpected end");
            char c = s[p];
            if (c == '{')
            {
                var d = new Dictionary<string, object>();
                p++; SkipWs(s, ref p);
                if (p < s.Length && s[p] == '}') { p++; return d; }
                while (true)
                {
                    SkipWs(s, ref p);
                    var key = Value(s, ref p) as string;
                    if (key == null) throw new FormatException("JSON: object keys must be strings");
                    SkipWs(s, ref p);
                    Expect(s, ref p, ':');
                    d[key] = Value(s, ref p);
                    SkipWs(s, ref p);
                    if (p < s.Length && s[p] == ',') { p++; continue; }
                    Expect(s, ref p, '}');
                    return d;
                }
            }
            if (c == '[')
            {
                var l = new List<object>();
                p++; SkipWs(s, ref p);
                if (p < s.Length && s[p] == ']') { p++; return l; }
                while (true)
                {
                    l.Add(Value(s, ref p));
                    SkipWs(s, ref p);
                    if (p < s.Length && s[p] == ',') { p++; continue; }
                    Expect(s, ref p, ']');
                    return l;
                }
            }
            if (c == '"')
            {
                var sb = new StringBuilder();
                p++;
                while (p < s.Length && s[p] != '"')
                {
                    if (s[p] == '\\' && p + 1 < s.Length)
                    {
                        char e = s[++p];
                        if (e == 'u' && p + 4 < s.Length) { sb.Append((char)Convert.ToInt32(s.Substring(p + 1, 4), 16)); p += 4; }
                        else sb.Append(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e);
                    }
                    else sb.Append(s[p]);
                    p++;
                }
                Expect(s, ref p, '"');
                return sb.ToString();
            }
            if (s.Length - p >= 4 && string.CompareOrdinal(s, p, "true", 0, 4) == 0) { p += 4; return true; }
            if (s.Length - p >= 5 && string.CompareOrdinal(s, p, "false", 0, 5) == 0) { p += 5; return false; }
            if (s.Length - p >= 4 && string.CompareOrdinal(s, p, "null", 0, 4) == 0) { p += 4; return null; }
            int start = p;
            while (p < s.Length && "+-0123456789.eE".IndexOf(s[p]) >= 0) p++;
            double v;
            if (p == start || !double.TryParse(s.Substring(start, p - start), NumberStyles.Float, CultureInfo.InvariantCulture, out v))
                throw new FormatException("JSON: bad value at " + start);
            return v;
        }

        static void Expect(string s, ref int p, char c)
        {
            if (p >= s.Length || s[p] != c) throw new FormatException("JSON: expected '" + c + "' at " + p);
            p++;
        }
    }
}
