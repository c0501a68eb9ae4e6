// Hand edits kept over a re-bake, through the Editor bake window on the stub editor and a real server
// (built and run by tests/test_overrides_unity.py, not by monobuild.py):
//   mono overrides-e2e.exe ws://127.0.0.1:PORT/ line.wav WORKDIR
// 1. bake the line (seed 0); 2. "edit" the clip like an animator: jawOpen +20 (of 100) over frames
// 10..20, browInnerUp held at 60 over frames 30..40; 3. Save edits as override layer; 4. re-bake a new
// take (seed 7): the window re-applies the layer. Writes WORKDIR/result.json for the Python side.
using System;
using System.Globalization;
using System.IO;
using System.Text;
using EmoAnim.Editor;
using UnityEditor;
using UnityEngine;

namespace EmoAnim.Tests.Mono
{
    public static class OverridesE2E
    {
        static string F(double d) { return d.ToString("R", CultureInfo.InvariantCulture); }

        static AnimationCurve Curve(AnimationClip clip, string prop)
        {
            return AnimationUtility.GetEditorCurve(clip, EditorCurveBinding.FloatCurve("Head", typeof(SkinnedMeshRenderer), prop));
        }

        static string Values(AnimationCurve c)
        {
            var sb = new StringBuilder("[");
            for (int i = 0; i < c.keys.Length; i++) sb.Append(i > 0 ? "," : "").Append(F(c.keys[i].value));
            return sb.Append(']').ToString();
        }

        public static int Main(string[] args)
        {
            string url = args[0], wavPath = args[1], work = args[2];
            var wav = WavData.Load(wavPath);
            var clip = AudioClip.Create("line", wav.Samples.Length / wav.Channels, wav.Channels, wav.SampleRate, false);
            clip.SetData(wav.Samples, 0);
            var window = ScriptableObject.CreateInstance<EmoAnimBakeWindow>();
            window.serverUrl = url;
            window.fps = 30;
            window.outputFolder = "Assets/Bakes";
            window.overridesFolder = Path.Combine(work, "overrides");

            var first = (AnimationClip)AssetDatabase.StubAssets[window.BakeClip(clip, null)];
            var jaw0 = Curve(first, "blendShape.jawOpen");
            var brow0 = Curve(first, "blendShape.browInnerUp");
            string rawJaw = Values(jaw0), rawBrow = Values(brow0);
            // the animator's edits, in the clip (0..100 blendshape weights)
            var jk = (Keyframe[])jaw0.keys.Clone();
            for (int f = 10; f <= 20; f++) jk[f].value = Math.Min(100f, jk[f].value + 20f);
            AnimationUtility.SetEditorCurve(first, EditorCurveBinding.FloatCurve("Head", typeof(SkinnedMeshRenderer), "blendShape.jawOpen"), new AnimationCurve(jk));
            var bk = (Keyframe[])brow0.keys.Clone();
            for (int f = 30; f <= 40; f++) bk[f].value = 60f;
            AnimationUtility.SetEditorCurve(first, EditorCurveBinding.FloatCurve("Head", typeof(SkinnedMeshRenderer), "blendShape.browInnerUp"), new AnimationCurve(bk));
            string layerPath = EmoAnimOverrideEdits.SaveEdits(first, window.overridesFolder);

            window.seed = 7;  // a new take
            var second = (AnimationClip)AssetDatabase.StubAssets[window.BakeClip(clip, null)];
            File.WriteAllText(Path.Combine(work, "result.json"),
                "{\"layer\":\"" + layerPath.Replace("\\", "/") + "\",\"raw_jaw\":" + rawJaw + ",\"raw_brow\":" + rawBrow +
                ",\"edited_jaw\":" + Values(new AnimationCurve(jk)) + ",\"edited_brow\":" + Values(new AnimationCurve(bk)) +
                ",\"rebaked_jaw\":" + Values(Curve(second, "blendShape.jawOpen")) +
                ",\"rebaked_brow\":" + Values(Curve(second, "blendShape.browInnerUp")) +
                ",\"rebaked_raw\":\"" + EmoAnimOverrideEdits.BakedPath(window.overridesFolder, "line").Replace("\\", "/") + "\"}");
            Console.WriteLine("layer " + layerPath);
            return 0;
        }
    }
}
