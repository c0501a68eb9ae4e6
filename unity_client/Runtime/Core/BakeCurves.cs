// Plain C# (no UnityEngine): the curves of an AnimationClip, before they become Unity objects.
using System;
using System.Collections.Generic;

namespace EmoAnim
{
    /// <summary>One float curve of a clip: (path, component type name, property) and a value per frame.</summary>
    public sealed class CurveTrack
    {
        public string Path;       // transform path relative to the animated root ("" = the root)
        public string Component;  // "SkinnedMeshRenderer", "Transform", "Animator"
        public string Property;   // "blendShape.jawOpen", "m_LocalRotation.x", muscle name...
        public float[] Values;
        public override string ToString() { return Path + "|" + Component + "|" + Property; }
    }

    /// <summary>
    /// Collects the curves the Editor bake window writes into an AnimationClip. Blendshape curves use
    /// Unity's property names (<c>blendShape.NAME</c> on a SkinnedMeshRenderer, 0..100); rotations use
    /// <c>m_LocalRotation.x/y/z/w</c> on a Transform; humanoid clips use muscle names on the Animator.
    /// </summary>
    public sealed class BakeCurves
    {
        public readonly int FrameCount;
        public readonly float Fps;
        public readonly List<CurveTrack> Tracks = new List<CurveTrack>();
        readonly Dictionary<string, CurveTrack> m_ByKey = new Dictionary<string, CurveTrack>();

        public BakeCurves(int frameCount, float fps) { FrameCount = frameCount; Fps = fps; }

        /// <summary>Time of frame i in seconds (frame i of the server is at i / fps).</summary>
        public float Time(int i) { return i / Fps; }

        public CurveTrack Track(string path, string component, string property)
        {
            string key = path + "|" + component + "|" + property;
            CurveTrack t;
            if (!m_ByKey.TryGetValue(key, out t))
            {
                t = new CurveTrack { Path = path, Component = component, Property = property, Values = new float[FrameCount] };
                m_ByKey[key] = t;
                Tracks.Add(t);
            }
            return t;
        }

        /// <summary>Blendshape curves for one mesh: its shape names are bound like the runtime face driver does.</summary>
        public int AddBlendshapes(string path, IList<string> shapeNames, IList<BlendshapeMapEntry> map, bool autoMatch,
                                  IList<PoseFrame> frames, float weightScale = 100f, float intensity = 1f)
        {
            var bindings = BlendshapeBinder.Bind(shapeNames, map, autoMatch, null);
            if (bindings.Count == 0) return 0;
            var weights = new float[shapeNames.Count];
            var touched = new bool[shapeNames.Count];
            var tracks = new CurveTrack[shapeNames.Count];
            foreach (var b in bindings)
                if (tracks[b.ShapeIndex] == null) tracks[b.ShapeIndex] = Track(path, "SkinnedMeshRenderer", "blendShape." + shapeNames[b.ShapeIndex]);
            for (int f = 0; f < FrameCount && f < frames.Count; f++)
            {
                BlendshapeBinder.Evaluate(bindings, frames[f].Curves, weightScale, intensity, weights, touched);
                for (int s = 0; s < tracks.Length; s++) if (tracks[s] != null) tracks[s].Values[f] = weights[s];
            }
            int n = 0; foreach (var t in tracks) if (t != null) n++;
            return n;
        }

        /// <summary>Local rotation of one transform for one frame.</summary>
        public void SetRotation(string path, int frame, Quat q)
        {
            Track(path, "Transform", "m_LocalRotation.x").Values[frame] = q.x;
            Track(path, "Transform", "m_LocalRotation.y").Values[frame] = q.y;
            Track(path, "Transform", "m_LocalRotation.z").Values[frame] = q.z;
            Track(path, "Transform", "m_LocalRotation.w").Values[frame] = q.w;
        }

        public void SetPosition(string path, int frame, Vec3 p)
        {
            Track(path, "Transform", "m_LocalPosition.x").Values[frame] = p.x;
            Track(path, "Transform", "m_LocalPosition.y").Values[frame] = p.y;
            Track(path, "Transform", "m_LocalPosition.z").Values[frame] = p.z;
        }

        /// <summary>
        /// Keeps consecutive quaternions in the same hemisphere (q and -q are the same rotation, but curves
        /// interpolating between them spin the long way round). Call after all rotations are set.
        /// </summary>
        public void EnsureQuaternionContinuity()
        {
            var groups = new Dictionary<string, CurveTrack[]>();
            foreach (var t in Tracks)
            {
                if (t.Component != "Transform" || !t.Property.StartsWith("m_LocalRotation.", StringComparison.Ordinal)) continue;
                CurveTrack[] g;
                if (!groups.TryGetValue(t.Path, out g)) groups[t.Path] = g = new CurveTrack[4];
                g["xyzw".IndexOf(t.Property[t.Property.Length - 1])] = t;
            }
            foreach (var g in groups.Values)
            {
                if (Array.IndexOf(g, null) >= 0) continue;
                for (int f = 1; f < FrameCount; f++)
                {
                    float dot = 0;
                    for (int k = 0; k < 4; k++) dot += g[k].Values[f] * g[k].Values[f - 1];
                    if (dot < 0) for (int k = 0; k < 4; k++) g[k].Values[f] = -g[k].Values[f];
                }
            }
        }

        /// <summary>
        /// Unity's humanoid clip attribute name for a <c>HumanTrait.MuscleName</c> entry: finger muscles are
        /// spelled differently in clips ("Left Thumb 1 Stretched" -> "LeftHand.Thumb.1 Stretched").
        /// </summary>
        public static string MuscleAttribute(string muscleName)
        {
            string[] fingers = { "Thumb", "Index", "Middle", "Ring", "Little" };
            foreach (var side in new[] { "Left", "Right" })
                foreach (var f in fingers)
                {
                    string prefix = side + " " + f + " ";
                    if (muscleName.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        string rest = muscleName.Substring(prefix.Length); // "1 Stretched" / "Spread"
                        int sp = rest.IndexOf(' ');
                        if (sp > 0 && char.IsDigit(rest[0])) return side + "Hand." + f + "." + rest.Substring(0, sp) + rest.Substring(sp);
                        return side + "Hand." + f + "." + rest;
                    }
                }
            return muscleName;
        }
    }
}
