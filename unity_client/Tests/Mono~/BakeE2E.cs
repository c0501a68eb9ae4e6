// End-to-end run of the Editor bake window's BakeClip on the stub editor against a real server:
//   mono EmoAnim.Tests.exe --bake-e2e ws://127.0.0.1:PORT/ line.wav out.json
// Bakes twice: without a character (ARKit blendshape curves at a mesh path) and with a Generic
// character (face driver with a mapping + eye/head driver: blendshape + Transform rotation curves).
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using EmoAnim.Editor;
using EmoAnim.Unity;
using UnityEditor;
using UnityEngine;

namespace EmoAnim.Tests.Mono
{
    public static class BakeE2E
    {
        static string F(double d) { return d.ToString("R", CultureInfo.InvariantCulture); }

        static string Dump(AnimationClip clip, string assetPath)
        {
            var sb = new StringBuilder("{\"path\":\"" + assetPath + "\",\"fps\":" + F(clip.frameRate) + ",\"curves\":{");
            bool first = true;
            foreach (var kv in clip.StubCurveData.OrderBy(k => k.Key, StringComparer.Ordinal))
            {
                if (!first) sb.Append(',');
                first = false;
                sb.Append('"').Append(kv.Key).Append("\":[");
                var keys = kv.Value.keys;
                for (int i = 0; i < keys.Length; i++) { if (i > 0) sb.Append(','); sb.Append('[').Append(F(keys[i].time)).Append(',').Append(F(keys[i].value)).Append(',').Append(F(keys[i].inTangent)).Append(',').Append(F(keys[i].outTangent)).Append(']'); }
                sb.Append(']');
            }
            return sb.Append("}}").ToString();
        }

        public static int Run(string url, string wavPath, string outPath)
        {
            var wav = WavData.Load(wavPath);
            var clip = AudioClip.Create("line", wav.Samples.Length / wav.Channels, wav.Channels, wav.SampleRate, false);
            clip.SetData(wav.Samples, 0);

            var window = ScriptableObject.CreateInstance<EmoAnimBakeWindow>();
            window.serverUrl = url;
            window.fps = 30;
            window.outputFolder = "Assets/Bakes";
            window.overridesFolder = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath)), "overrides");  // not the cwd
            window.fallbackMeshPath = "Avatar/Head";
            string plainPath = window.BakeClip(clip, null);
            var plain = (AnimationClip)AssetDatabase.StubAssets[plainPath];

            // a Generic character: face mesh with PascalCase shapes + one mapped custom shape, head + eyes
            var character = new GameObject("Npc");
            var speaker = character.AddComponent<EmoAnimSpeaker>();
            var headBone = new GameObject("Head"); headBone.transform.parent = character.transform;
            var eyeL = new GameObject("EyeL"); eyeL.transform.parent = headBone.transform;
            var eyeR = new GameObject("EyeR"); eyeR.transform.parent = headBone.transform;
            var meshGo = new GameObject("FaceMesh"); meshGo.transform.parent = character.transform;
            var smr = meshGo.AddComponent<SkinnedMeshRenderer>();
            smr.sharedMesh = new Mesh();
            smr.sharedMesh.StubBlendShapeNames.AddRange(new[] { "JawOpen", "EyeBlink_L", "EyeBlink_R", "Smile" });
            var face = character.AddComponent<EmoAnimFaceDriver>();
            face.source = speaker;
            face.mapping = ScriptableObject.CreateInstance<EmoAnimBlendshapeMap>();
            face.mapping.entries.Add(new BlendshapeMapEntry("mouthSmileLeft", "Smile", 1f));
            var eh = character.AddComponent<EmoAnimEyeHeadDriver>();
            eh.source = speaker; eh.head = headBone.transform; eh.leftEye = eyeL.transform; eh.rightEye = eyeR.transform;
            window.character = character;
            string charPath = window.BakeClip(clip, null);
            var withChar = (AnimationClip)AssetDatabase.StubAssets[charPath];

            File.WriteAllText(outPath, "{\"plain\":" + Dump(plain, plainPath) + ",\"character\":" + Dump(withChar, charPath) +
                                       ",\"head_rest_w\":" + F(headBone.transform.localRotation.w) + "}");
            Console.WriteLine("baked " + plain.StubCurves.Count + " + " + withChar.StubCurves.Count + " curves");
            return 0;
        }
    }
}
