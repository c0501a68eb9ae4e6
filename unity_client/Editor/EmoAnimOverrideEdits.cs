using System;
using System.Collections.Generic;
using System.IO;
using UnityEditor;
using UnityEngine;

namespace EmoAnim.Editor
{
    /// <summary>
    /// Hand edits that survive a re-bake (docs/overrides.md). The bake window keeps each line's raw
    /// bake (<c>NAME.baked.txt</c>) and re-applies <c>NAME.overrides.json</c> when it exists; after an
    /// animator edits the baked clip's ARKit blendshape curves, <see cref="SaveEdits"/> writes the
    /// difference as that override layer, which the next bake (here, or `emoanim bake --overrides`,
    /// or the batch manifest) applies again.
    /// </summary>
    public static class EmoAnimOverrideEdits
    {
        public static string BakedPath(string folder, string line) { return Path.Combine(folder, line + ".baked.txt"); }
        public static string LayerPath(string folder, string line) { return Path.Combine(folder, line + ".overrides.json"); }

        /// <summary>Before curves are written: keep the raw bake, then apply the line's layer (if any) to the frames.</summary>
        public static void PrepareFrames(string folder, string line, IList<PoseFrame> frames, float fps)
        {
            if (string.IsNullOrEmpty(folder)) return;
            Directory.CreateDirectory(folder);
            File.WriteAllText(BakedPath(folder, line), OverrideLayer.BakedReference(frames, fps));
            string layer = LayerPath(folder, line);
            if (File.Exists(layer)) OverrideLayer.Parse(File.ReadAllText(layer)).Apply(frames);
        }

        /// <summary>
        /// The edits of <paramref name="clip"/> (its ARKit-named blendshape curves, 0..<paramref name="weightScale"/>)
        /// against the line's raw bake, written as the line's override layer; returns its path.
        /// </summary>
        public static string SaveEdits(AnimationClip clip, string folder, string line = null, float weightScale = 100f,
                                       float tolerance = 1e-3f)
        {
            line = string.IsNullOrEmpty(line) ? BaseName(clip.name) : line;
            string bakedPath = BakedPath(folder, line);
            if (!File.Exists(bakedPath))
                throw new InvalidOperationException(bakedPath + ": no raw bake of " + line + " (bake it in this window first)");
            float fps;
            var baked = OverrideLayer.ParseBakedReference(File.ReadAllText(bakedPath), out fps);
            int n = baked[0].Length;
            var edited = new float[baked.Length][];
            for (int c = 0; c < baked.Length; c++) edited[c] = (float[])baked[c].Clone();
            var seen = new bool[baked.Length];
            foreach (var b in AnimationUtility.GetCurveBindings(clip))
            {
                if (b.type != typeof(SkinnedMeshRenderer) || !b.propertyName.StartsWith("blendShape.", StringComparison.Ordinal)) continue;
                int c = ArkitNames.Match(b.propertyName.Substring("blendShape.".Length));
                if (c < 0 || seen[c]) continue;   // one mesh per ARKit curve: the first one found
                seen[c] = true;
                var curve = AnimationUtility.GetEditorCurve(clip, b);
                for (int f = 0; f < n; f++) edited[c][f] = curve.Evaluate(f / fps) / weightScale;
            }
            var layer = OverrideLayer.FromEdits(line, fps, baked, edited, tolerance);
            string path = LayerPath(folder, line);
            File.WriteAllText(path, layer.ToJson());
            return path;
        }

        static string BaseName(string clipName)
        {
            const string suffix = "_emoanim";
            return clipName.EndsWith(suffix, StringComparison.Ordinal) ? clipName.Substring(0, clipName.Length - suffix.Length) : clipName;
        }
    }
}
