using System;
using System.Collections.Generic;
using System.IO;
using UnityEditor;
using UnityEngine;
using EmoAnim.Unity;

namespace EmoAnim.Editor
{
    /// <summary>
    /// Window > EmoAnim > Bake Audio Clips: sends the selected AudioClips (with emotion settings) through
    /// the server and writes AnimationClip assets: blendshape curves for the character's face meshes,
    /// head/eye/body rotations as Transform curves (Generic) or muscle curves (Humanoid).
    /// The server must be running (or is started like in play mode, via an EmoAnimServerLauncher's settings).
    /// </summary>
    public class EmoAnimBakeWindow : EditorWindow
    {
        public List<AudioClip> clips = new List<AudioClip>();
        public GameObject character;
        public string serverUrl = "ws://127.0.0.1:8765/";
        public string authToken = "";
        public EmotionSettings emotion = new EmotionSettings();
        public int fps = 30;
        public bool face = true, eyes = true, head = true, body = false;
        public bool humanoidMuscles = true;
        public int seed;
        public string transcriptsFolder = "";
        public string outputFolder = "Assets/EmoAnimBakes";
        public string fallbackMeshPath = "Head";
        /// <summary>Raw bakes and hand-edit override layers per line (EmoAnimOverrideEdits; docs/overrides.md).</summary>
        public string overridesFolder = "Assets/EmoAnimOverrides";
        public AnimationClip editedClip;
        Vector2 m_Scroll;

        [MenuItem("Window/EmoAnim/Bake Audio Clips")]
        public static void Open()
        {
            var w = GetWindow<EmoAnimBakeWindow>();
            w.titleContent = new GUIContent("EmoAnim Bake");
            w.TakeSelection();
        }

        [MenuItem("Assets/EmoAnim/Bake Selected Audio Clips")]
        public static void BakeSelection() { Open(); }

        void TakeSelection()
        {
            foreach (var o in Selection.objects)
            {
                var c = o as AudioClip;
                if (c != null && !clips.Contains(c)) clips.Add(c);
            }
        }

        void OnGUI()
        {
            m_Scroll = EditorGUILayout.BeginScrollView(m_Scroll);
            EditorGUILayout.LabelField("Audio clips", EditorStyles.boldLabel);
            for (int i = 0; i < clips.Count; i++)
            {
                EditorGUILayout.BeginHorizontal();
                clips[i] = (AudioClip)EditorGUILayout.ObjectField(clips[i], typeof(AudioClip), false);
                if (GUILayout.Button("-", GUILayout.Width(24))) { clips.RemoveAt(i); i--; }
                EditorGUILayout.EndHorizontal();
            }
            EditorGUILayout.BeginHorizontal();
            if (GUILayout.Button("Add selected clips")) TakeSelection();
            if (GUILayout.Button("Clear")) clips.Clear();
            EditorGUILayout.EndHorizontal();

            EditorGUILayout.Space();
            EditorGUILayout.LabelField("Character (optional)", EditorStyles.boldLabel);
            character = (GameObject)EditorGUILayout.ObjectField("Scene character", character, typeof(GameObject), true);
            EditorGUILayout.HelpBox(character == null
                ? "Without a character, ARKit blendshape curves are written for a mesh at the path below (blendShape.jawOpen, ...)."
                : "Curves use the character's EmoAnim drivers: face meshes and mapping, eye/head bones, body bones.", MessageType.Info);
            if (character == null) fallbackMeshPath = EditorGUILayout.TextField("Face mesh path", fallbackMeshPath);
            humanoidMuscles = EditorGUILayout.Toggle("Humanoid muscle curves", humanoidMuscles);

            EditorGUILayout.Space();
            EditorGUILayout.LabelField("Animation", EditorStyles.boldLabel);
            emotion.category = (EmotionCategory)EditorGUILayout.EnumPopup("Emotion", emotion.category);
            emotion.intensity = EditorGUILayout.Slider("Intensity", emotion.intensity, 0f, 1f);
            fps = EditorGUILayout.IntField("FPS (24/25/30/50/60)", fps);
            seed = EditorGUILayout.IntField("Seed", seed);
            face = EditorGUILayout.Toggle("Face", face);
            eyes = EditorGUILayout.Toggle("Eyes", eyes);
            head = EditorGUILayout.Toggle("Head", head);
            body = EditorGUILayout.Toggle("Body gestures", body);
            transcriptsFolder = EditorGUILayout.TextField(new GUIContent("Transcripts folder", "Optional: <clip name>.txt files with the words said."), transcriptsFolder);

            EditorGUILayout.Space();
            serverUrl = EditorGUILayout.TextField("Server URL", serverUrl);
            authToken = EditorGUILayout.TextField("Auth token", authToken);
            outputFolder = EditorGUILayout.TextField("Output folder", outputFolder);

            EditorGUILayout.Space();
            GUI.enabled = clips.Count > 0;
            if (GUILayout.Button("Bake " + clips.Count + " clip(s)")) BakeAll();
            GUI.enabled = true;

            EditorGUILayout.Space();
            EditorGUILayout.LabelField("Hand edits (kept over re-bakes)", EditorStyles.boldLabel);
            overridesFolder = EditorGUILayout.TextField(new GUIContent("Overrides folder", "NAME.overrides.json is re-applied to every bake of NAME"), overridesFolder);
            editedClip = (AnimationClip)EditorGUILayout.ObjectField("Edited baked clip", editedClip, typeof(AnimationClip), false);
            GUI.enabled = editedClip != null;
            if (GUILayout.Button("Save edits as override layer"))
                Debug.Log("[EmoAnim] saved the edits of " + editedClip.name + " as " + EmoAnimOverrideEdits.SaveEdits(editedClip, overridesFolder));
            GUI.enabled = true;
            EditorGUILayout.EndScrollView();
        }

        void BakeAll()
        {
            int done = 0;
            try
            {
                for (int i = 0; i < clips.Count; i++)
                {
                    var clip = clips[i];
                    if (clip == null) continue;
                    int index = i;
                    string path = BakeClip(clip, p => EditorUtility.DisplayProgressBar("EmoAnim bake", clip.name, (index + p) / clips.Count));
                    if (path != null) { done++; Debug.Log("[EmoAnim] baked " + clip.name + " -> " + path); }
                }
            }
            catch (Exception e)
            {
                Debug.LogException(e);
                EditorUtility.DisplayDialog("EmoAnim bake failed", e.Message, "OK");
            }
            finally
            {
                EditorUtility.ClearProgressBar();
                AssetDatabase.SaveAssets();
                AssetDatabase.Refresh();
            }
            Debug.Log("[EmoAnim] baked " + done + "/" + clips.Count + " clip(s) into " + outputFolder);
        }

        /// <summary>Bake one clip; returns the asset path.</summary>
        public string BakeClip(AudioClip clip, Action<float> progress)
        {
            var data = new float[clip.samples * clip.channels];
            if (!clip.GetData(data, 0)) throw new InvalidOperationException(clip.name + ": cannot read samples (set Load Type to Decompress On Load)");
            var mono = AudioConvert.Downmix(data, clip.channels);
            string words = "";
            if (!string.IsNullOrEmpty(transcriptsFolder))
            {
                var tp = Path.Combine(transcriptsFolder, clip.name + ".txt");
                if (File.Exists(tp)) words = File.ReadAllText(tp).Trim();
            }
            var options = new SessionOptions
            {
                Fps = fps, Mode = Protocol.Mode.Clip, Face = face, Eyes = eyes, Head = head, Body = body,
                Seed = (ulong)Math.Max(0, seed), AuthToken = authToken, Transcript = words,
                ClientName = "Unity " + Application.unityVersion + " bake window", Emotion = emotion.ToProto(),
            };
            var result = BlockingSession.Run(serverUrl, mono, clip.frequency, options, TimeSpan.FromMinutes(10), 1.0, false, progress);
            if (!result.Completed)
                throw new InvalidOperationException(clip.name + ": server did not complete the bake: " + (result.Error != null ? result.Error.ToString() : result.Ended != null ? result.Ended.Reason : "no answer"));

            var frames = result.Frames;
            EmoAnimOverrideEdits.PrepareFrames(overridesFolder, clip.name, frames, result.Info.Fps);  // hand edits kept over re-bakes
            var curves = new BakeCurves(frames.Count, result.Info.Fps);
            var anim = new AnimationClip { name = clip.name, frameRate = result.Info.Fps };
            if (character == null)
            {
                curves.AddBlendshapes(fallbackMeshPath, ArkitNames.Names, null, true, frames);
                WriteCurves(anim, curves);
            }
            else BakeCharacter(anim, curves, frames, result.Info.Skeleton);

            if (!AssetDatabase.IsValidFolder(outputFolder)) CreateFolders(outputFolder);
            string assetPath = AssetDatabase.GenerateUniqueAssetPath(outputFolder + "/" + clip.name + "_emoanim.anim");
            AssetDatabase.CreateAsset(anim, assetPath);
            return assetPath;
        }

        void BakeCharacter(AnimationClip anim, BakeCurves curves, List<PoseFrame> frames, Protocol.Skeleton skeleton)
        {
            var root = character.transform;
            var faceDriver = character.GetComponentInChildren<EmoAnimFaceDriver>();
            if (faceDriver != null)
            {
                faceDriver.Rebind();
                foreach (var kv in faceDriver.Bindings)
                {
                    var mesh = kv.Key.sharedMesh;
                    var names = new string[mesh.blendShapeCount];
                    for (int i = 0; i < names.Length; i++) names[i] = mesh.GetBlendShapeName(i);
                    curves.AddBlendshapes(AnimationUtility.CalculateTransformPath(kv.Key.transform, root), names,
                        faceDriver.mapping != null ? faceDriver.mapping.entries : null,
                        faceDriver.mapping == null || faceDriver.mapping.autoMatchArkitNames, frames, faceDriver.weightScale, faceDriver.intensity);
                }
            }

            var eyeHead = character.GetComponentInChildren<EmoAnimEyeHeadDriver>();
            var bodyDriver = character.GetComponentInChildren<EmoAnimBodyDriver>();
            var animator = character.GetComponentInChildren<Animator>();
            string[] jointNames = skeleton != null ? skeleton.JointNames : null;
            int[] parents = skeleton != null ? skeleton.Parents : null;

            // Bones the drivers move; remember their rest pose to restore it after every frame.
            var bones = new List<Transform>();
            if (eyeHead != null)
            {
                eyeHead.Setup();
                foreach (var t in new[] { eyeHead.head, eyeHead.neck, eyeHead.leftEye, eyeHead.rightEye }) if (t != null) bones.Add(t);
            }
            if (bodyDriver != null && jointNames != null)
            {
                bodyDriver.Setup();
                foreach (var t in bodyDriver.DrivenBones(jointNames, parents)) if (!bones.Contains(t)) bones.Add(t);
            }
            if (bones.Count == 0) { WriteCurves(anim, curves); return; }
            var restRot = new Quaternion[bones.Count];
            var restPos = new Vector3[bones.Count];
            for (int i = 0; i < bones.Count; i++) { restRot[i] = bones[i].localRotation; restPos[i] = bones[i].localPosition; }

            bool humanoid = humanoidMuscles && animator != null && animator.isHuman && animator.avatar != null;
            HumanPoseHandler handler = humanoid ? new HumanPoseHandler(animator.avatar, animator.transform) : null;
            var pose = new HumanPose();
            string[] muscleNames = humanoid ? HumanTrait.MuscleName : null;
            try
            {
                for (int f = 0; f < frames.Count; f++)
                {
                    if (bodyDriver != null && jointNames != null) bodyDriver.ApplyPose(frames[f], 1f, jointNames, parents);
                    if (eyeHead != null) eyeHead.ApplyPose(frames[f], 1f);
                    if (humanoid)
                    {
                        handler.GetHumanPose(ref pose);
                        for (int m = 0; m < pose.muscles.Length; m++)
                            curves.Track("", "Animator", BakeCurves.MuscleAttribute(muscleNames[m])).Values[f] = pose.muscles[m];
                        SetRoot(curves, f, pose);
                    }
                    else
                    {
                        foreach (var t in bones)
                        {
                            var q = t.localRotation;
                            curves.SetRotation(AnimationUtility.CalculateTransformPath(t, root), f, new Quat(q.x, q.y, q.z, q.w));
                        }
                    }
                    for (int i = 0; i < bones.Count; i++) { bones[i].localRotation = restRot[i]; bones[i].localPosition = restPos[i]; }
                }
            }
            finally
            {
                var disposable = (object)handler as IDisposable;   // IDisposable only in newer Unity versions
                if (disposable != null) disposable.Dispose();
                for (int i = 0; i < bones.Count; i++) { bones[i].localRotation = restRot[i]; bones[i].localPosition = restPos[i]; }
            }
            curves.EnsureQuaternionContinuity();
            WriteCurves(anim, curves);
        }

        static void SetRoot(BakeCurves curves, int f, HumanPose pose)
        {
            curves.Track("", "Animator", "RootT.x").Values[f] = pose.bodyPosition.x;
            curves.Track("", "Animator", "RootT.y").Values[f] = pose.bodyPosition.y;
            curves.Track("", "Animator", "RootT.z").Values[f] = pose.bodyPosition.z;
            curves.Track("", "Animator", "RootQ.x").Values[f] = pose.bodyRotation.x;
            curves.Track("", "Animator", "RootQ.y").Values[f] = pose.bodyRotation.y;
            curves.Track("", "Animator", "RootQ.z").Values[f] = pose.bodyRotation.z;
            curves.Track("", "Animator", "RootQ.w").Values[f] = pose.bodyRotation.w;
        }

        /// <summary>BakeCurves -> AnimationClip curves: a key at every frame with linear tangents (each
        /// tangent is the slope to the neighbouring key, as Unity's TangentMode.Linear sets it), so the
        /// curve is the straight line between frames. <c>new Keyframe(t, v)</c> alone gives zero
        /// tangents: flat at every key, a velocity pulse between frames.</summary>
        public static void WriteCurves(AnimationClip anim, BakeCurves curves)
        {
            foreach (var t in curves.Tracks)
            {
                var keys = LinearKeys(curves, t.Values);
                Type type = t.Component == "SkinnedMeshRenderer" ? typeof(SkinnedMeshRenderer)
                          : t.Component == "Animator" ? typeof(Animator) : typeof(Transform);
                AnimationUtility.SetEditorCurve(anim, EditorCurveBinding.FloatCurve(t.Path, type, t.Property), new AnimationCurve(keys));
            }
        }

        /// <summary>Keys at every frame with linear in/out tangents (slopes to the neighbours; the ends
        /// repeat their one neighbour's slope).</summary>
        public static Keyframe[] LinearKeys(BakeCurves curves, float[] values)
        {
            int n = values.Length;
            var keys = new Keyframe[n];
            for (int i = 0; i < n; i++)
            {
                float t = curves.Time(i);
                float left = i > 0 ? (values[i] - values[i - 1]) / (t - curves.Time(i - 1)) : 0f;
                float right = i < n - 1 ? (values[i + 1] - values[i]) / (curves.Time(i + 1) - t) : left;
                if (i == 0) left = right;
                keys[i] = new Keyframe(t, values[i], left, right);
            }
            return keys;
        }

        static void CreateFolders(string folder)
        {
            var parts = folder.Replace('\\', '/').Split('/');
            string cur = parts[0];
            for (int i = 1; i < parts.Length; i++)
            {
                string next = cur + "/" + parts[i];
                if (!AssetDatabase.IsValidFolder(next)) AssetDatabase.CreateFolder(cur, parts[i]);
                cur = next;
            }
        }
    }
}
