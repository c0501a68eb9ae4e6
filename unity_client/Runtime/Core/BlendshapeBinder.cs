// Plain C# (no UnityEngine): decides which mesh blendshape each ARKit curve drives.
using System;
using System.Collections.Generic;

namespace EmoAnim
{
    /// <summary>One user mapping row: ARKit curve -> mesh blendshape, with a scale.</summary>
    [Serializable]
    public class BlendshapeMapEntry
    {
        /// <summary>ARKit curve in any accepted spelling (see <see cref="ArkitNames.Match"/>).</summary>
        public string arkitName;
        /// <summary>Exact blendshape name on the mesh (case-insensitive; prefix before '.' ignored).</summary>
        public string blendshapeName;
        /// <summary>Multiplier applied to the 0..1 curve before the 0..100 weight scale.</summary>
        public float scale = 1f;

        public BlendshapeMapEntry() { }
        public BlendshapeMapEntry(string arkit, string shape, float scale = 1f)
        {
            arkitName = arkit; blendshapeName = shape; this.scale = scale;
        }
    }

    /// <summary>Curve index -> blendshape index on one mesh.</summary>
    public struct BlendshapeBinding
    {
        public int CurveIndex;   // into ArkitNames.Names
        public int ShapeIndex;   // into the mesh's blendshapes
        public float Scale;      // multiplier on the 0..1 curve value
        public override string ToString() { return ArkitNames.Names[CurveIndex] + "->" + ShapeIndex + "x" + Scale; }
    }

    /// <summary>
    /// Builds bindings for one mesh. Rules, in order:
    /// 1. user map entries whose blendshape exists on the mesh (they replace automatic matches of that
    ///    blendshape; several entries may drive one shape or one curve several shapes);
    /// 2. every other blendshape whose name matches an ARKit name (<see cref="ArkitNames.Match"/>).
    /// </summary>
    public static class BlendshapeBinder
    {
        public static List<BlendshapeBinding> Bind(IList<string> meshShapeNames, IList<BlendshapeMapEntry> userMap,
                                                   bool autoMatch, List<string> warnings)
        {
            var result = new List<BlendshapeBinding>();
            var overridden = new HashSet<int>();
            if (userMap != null)
            {
                foreach (var e in userMap)
                {
                    if (e == null || string.IsNullOrEmpty(e.arkitName) || string.IsNullOrEmpty(e.blendshapeName)) continue;
                    int curve = ArkitNames.Match(e.arkitName);
                    if (curve < 0) { if (warnings != null) warnings.Add("mapping: '" + e.arkitName + "' is not an ARKit name"); continue; }
                    int shape = FindShape(meshShapeNames, e.blendshapeName);
                    if (shape < 0) continue; // the entry may be meant for another mesh
                    overridden.Add(shape);
                    result.Add(new BlendshapeBinding { CurveIndex = curve, ShapeIndex = shape, Scale = e.scale });
                }
            }
            if (autoMatch)
            {
                for (int s = 0; s < meshShapeNames.Count; s++)
                {
                    if (overridden.Contains(s)) continue;
                    int curve = ArkitNames.Match(meshShapeNames[s]);
                    if (curve >= 0) result.Add(new BlendshapeBinding { CurveIndex = curve, ShapeIndex = s, Scale = 1f });
                }
            }
            return result;
        }

        /// <summary>Blendshape index by name: exact, then case-insensitive, then ignoring a 'prefix.'.</summary>
        public static int FindShape(IList<string> names, string wanted)
        {
            for (int i = 0; i < names.Count; i++) if (names[i] == wanted) return i;
            for (int i = 0; i < names.Count; i++) if (string.Equals(names[i], wanted, StringComparison.OrdinalIgnoreCase)) return i;
            string w = StripPrefix(wanted);
            for (int i = 0; i < names.Count; i++) if (string.Equals(StripPrefix(names[i]), w, StringComparison.OrdinalIgnoreCase)) return i;
            return -1;
        }

        static string StripPrefix(string s)
        {
            int dot = s.LastIndexOf('.');
            return dot >= 0 ? s.Substring(dot + 1) : s;
        }

        /// <summary>
        /// Writes blendshape weights (0..<paramref name="weightScale"/>, Unity uses 0..100) for one frame.
        /// <paramref name="weights"/> is indexed by shape; shapes driven by several bindings take the max.
        /// Returns how many shapes were touched (set in <paramref name="touched"/>).
        /// </summary>
        public static void Evaluate(List<BlendshapeBinding> bindings, float[] curves, float weightScale, float intensity,
                                    float[] weights, bool[] touched)
        {
            for (int i = 0; i < touched.Length; i++) { touched[i] = false; weights[i] = 0f; }
            for (int b = 0; b < bindings.Count; b++)
            {
                var bd = bindings[b];
                float v = curves[bd.CurveIndex] * bd.Scale * intensity;
                if (v < 0f) v = 0f; else if (v > 1f) v = 1f;
                float w = v * weightScale;
                if (!touched[bd.ShapeIndex] || w > weights[bd.ShapeIndex]) weights[bd.ShapeIndex] = w;
                touched[bd.ShapeIndex] = true;
            }
        }
    }
}
