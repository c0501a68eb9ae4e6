// Minimal stand-in for UnityEngine.dll so the package compiles and its component logic can run under
// Mono (mcs) outside Unity. Only the members the package uses, with the real signatures as documented
// at the URLs below (Unity 2021.3+ scripting API). Behaviour is the simplest that keeps the semantics
// the package relies on (e.g. blendshape weights are stored; transform rotations are hierarchical).
// This folder ends with '~' so Unity never imports it.
using System;
using System.Collections.Generic;

namespace UnityEngine
{
    // https://docs.unity3d.com/ScriptReference/Object.html
    public class Object
    {
        internal static readonly List<Object> s_All = new List<Object>();
        public string name { get; set; }
        public Object() { name = GetType().Name; lock (s_All) s_All.Add(this); }
        // https://docs.unity3d.com/ScriptReference/Object.FindObjectOfType.html
        public static T FindObjectOfType<T>() where T : Object
        {
            lock (s_All) { foreach (var o in s_All) { var t = o as T; if (t != null) return t; } }
            return null;
        }
        // https://docs.unity3d.com/ScriptReference/Object.FindFirstObjectByType.html
        public static T FindFirstObjectByType<T>() where T : Object { return FindObjectOfType<T>(); }
        public override string ToString() { return name; }
    }

    // https://docs.unity3d.com/ScriptReference/GameObject.html
    public sealed class GameObject : Object
    {
        internal readonly List<Component> m_Components = new List<Component>();
        public Transform transform { get; private set; }
        public GameObject() : this("GameObject") { }
        public GameObject(string name)
        {
            this.name = name;
            transform = new Transform();
            Attach(transform);
        }
        void Attach(Component c) { c.gameObject = this; c.name = name; m_Components.Add(c); }
        // https://docs.unity3d.com/ScriptReference/GameObject.AddComponent.html
        public T AddComponent<T>() where T : Component, new()
        {
            var c = new T();
            Attach(c);
            var mb = c as MonoBehaviour;
            if (mb != null) mb.StubInvoke("Awake");
            return c;
        }
        // https://docs.unity3d.com/ScriptReference/GameObject.GetComponent.html
        public T GetComponent<T>() where T : class
        {
            foreach (var c in m_Components) { var t = c as T; if (t != null) return t; }
            return null;
        }
        // https://docs.unity3d.com/ScriptReference/GameObject.GetComponentInChildren.html
        public T GetComponentInChildren<T>() where T : class { return transform.GetComponentInChildren<T>(); }
        // https://docs.unity3d.com/ScriptReference/GameObject.GetComponentsInChildren.html
        public T[] GetComponentsInChildren<T>() where T : class { return transform.GetComponentsInChildren<T>(); }
    }

    // https://docs.unity3d.com/ScriptReference/Component.html
    public class Component : Object
    {
        public GameObject gameObject { get; internal set; }
        public Transform transform { get { return gameObject != null ? gameObject.transform : null; } }
        // https://docs.unity3d.com/ScriptReference/Component.GetComponent.html
        public T GetComponent<T>() where T : class { return gameObject != null ? gameObject.GetComponent<T>() : null; }
        // https://docs.unity3d.com/ScriptReference/Component.GetComponentInParent.html
        public T GetComponentInParent<T>() where T : class
        {
            for (var t = transform; t != null; t = t.parent) { var c = t.gameObject.GetComponent<T>(); if (c != null) return c; }
            return null;
        }
        // https://docs.unity3d.com/ScriptReference/Component.GetComponentInChildren.html
        public T GetComponentInChildren<T>() where T : class
        {
            var all = GetComponentsInChildren<T>();
            return all.Length > 0 ? all[0] : null;
        }
        // https://docs.unity3d.com/ScriptReference/Component.GetComponentsInChildren.html
        public T[] GetComponentsInChildren<T>() where T : class
        {
            var list = new List<T>();
            Collect(transform, list);
            return list.ToArray();
        }
        static void Collect<T>(Transform t, List<T> list) where T : class
        {
            if (t == null) return;
            foreach (var c in t.gameObject.m_Components) { var x = c as T; if (x != null) list.Add(x); }
            foreach (var ch in t.m_Children) Collect(ch, list);
        }
    }

    // https://docs.unity3d.com/ScriptReference/Behaviour.html
    public class Behaviour : Component
    {
        // https://docs.unity3d.com/ScriptReference/Behaviour-enabled.html
        public bool enabled { get; set; }
        public Behaviour() { enabled = true; }
    }

    // https://docs.unity3d.com/ScriptReference/MonoBehaviour.html
    public class MonoBehaviour : Behaviour
    {
        /// <summary>Stub only: call a Unity message (Awake, OnEnable, Update, LateUpdate, ...) like the engine would.</summary>
        public void StubInvoke(string message)
        {
            var m = GetType().GetMethod(message, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic);
            if (m != null) m.Invoke(this, null);
        }
    }

    // https://docs.unity3d.com/ScriptReference/ScriptableObject.html
    public class ScriptableObject : Object
    {
        // https://docs.unity3d.com/ScriptReference/ScriptableObject.CreateInstance.html
        public static T CreateInstance<T>() where T : ScriptableObject, new() { return new T(); }
    }

    // https://docs.unity3d.com/ScriptReference/Transform.html
    public class Transform : Component
    {
        internal readonly List<Transform> m_Children = new List<Transform>();
        Transform m_Parent;
        // https://docs.unity3d.com/ScriptReference/Transform-parent.html (keeps the world rotation, like Unity)
        public Transform parent
        {
            get { return m_Parent; }
            set
            {
                var world = rotation;
                if (m_Parent != null) m_Parent.m_Children.Remove(this);
                m_Parent = value;
                if (value != null) value.m_Children.Add(this);
                rotation = world;
            }
        }
        Quaternion m_LocalRotation = Quaternion.identity;
        // https://docs.unity3d.com/ScriptReference/Transform-rotation.html (stub: hierarchical rotations)
        public Quaternion rotation
        {
            get { return m_Parent == null ? m_LocalRotation : m_Parent.rotation * m_LocalRotation; }
            set { m_LocalRotation = m_Parent == null ? value : Quaternion.Inverse(m_Parent.rotation) * value; }
        }
        // https://docs.unity3d.com/ScriptReference/Transform-localRotation.html
        public Quaternion localRotation
        {
            get { return m_LocalRotation; }
            set { m_LocalRotation = value; }
        }
        // https://docs.unity3d.com/ScriptReference/Transform-position.html (stub: stored, no hierarchy)
        public Vector3 position { get; set; }
        // https://docs.unity3d.com/ScriptReference/Transform-localPosition.html
        public Vector3 localPosition { get; set; }
        // https://docs.unity3d.com/ScriptReference/Transform.TransformPoint.html (stub: rotation + translation)
        public Vector3 TransformPoint(Vector3 p) { return rotation * p + position; }
        // https://docs.unity3d.com/ScriptReference/Transform.InverseTransformPoint.html
        public Vector3 InverseTransformPoint(Vector3 p) { return Quaternion.Inverse(rotation) * (p - position); }
    }

    // https://docs.unity3d.com/ScriptReference/Vector3.html
    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
        public static Vector3 operator +(Vector3 a, Vector3 b) { return new Vector3(a.x + b.x, a.y + b.y, a.z + b.z); }
        public static Vector3 operator -(Vector3 a, Vector3 b) { return new Vector3(a.x - b.x, a.y - b.y, a.z - b.z); }
        public static Vector3 operator *(Vector3 a, float d) { return new Vector3(a.x * d, a.y * d, a.z * d); }
        // https://docs.unity3d.com/ScriptReference/Vector3.Lerp.html
        public static Vector3 Lerp(Vector3 a, Vector3 b, float t) { t = Mathf.Clamp01(t); return a + (b - a) * t; }
        // https://docs.unity3d.com/ScriptReference/Vector3-operator_eq.html (approximate: |a-b|^2 < 1e-10)
        public static bool operator ==(Vector3 a, Vector3 b) { var d = a - b; return d.x * d.x + d.y * d.y + d.z * d.z < 1e-5f * 1e-5f; }
        public static bool operator !=(Vector3 a, Vector3 b) { return !(a == b); }
        public override bool Equals(object o) { return o is Vector3 && this == (Vector3)o; }
        public override int GetHashCode() { return x.GetHashCode() ^ y.GetHashCode() << 2 ^ z.GetHashCode() >> 2; }
        public override string ToString() { return "(" + x + ", " + y + ", " + z + ")"; }
    }

    // https://docs.unity3d.com/ScriptReference/Quaternion.html
    public struct Quaternion
    {
        public float x, y, z, w;
        public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
        public static Quaternion identity { get { return new Quaternion(0, 0, 0, 1); } }
        // https://docs.unity3d.com/ScriptReference/Quaternion-operator_multiply.html
        public static Quaternion operator *(Quaternion a, Quaternion b)
        {
            return new Quaternion(
                a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
                a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
                a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
                a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z);
        }
        public static Vector3 operator *(Quaternion q, Vector3 v)
        {
            var p = q * new Quaternion(v.x, v.y, v.z, 0) * Inverse(q);
            return new Vector3(p.x, p.y, p.z);
        }
        // https://docs.unity3d.com/ScriptReference/Quaternion-operator_eq.html (approximate: dot > 1 - 1e-6)
        public static bool operator ==(Quaternion a, Quaternion b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w > 1f - 1e-6f; }
        public static bool operator !=(Quaternion a, Quaternion b) { return !(a == b); }
        public override bool Equals(object o) { return o is Quaternion && this == (Quaternion)o; }
        public override int GetHashCode() { return x.GetHashCode() ^ y.GetHashCode() << 2 ^ z.GetHashCode() >> 2 ^ w.GetHashCode() >> 1; }
        // https://docs.unity3d.com/ScriptReference/Quaternion.Inverse.html
        public static Quaternion Inverse(Quaternion q) { return new Quaternion(-q.x, -q.y, -q.z, q.w); }
        // https://docs.unity3d.com/ScriptReference/Quaternion.Slerp.html
        public static Quaternion Slerp(Quaternion a, Quaternion b, float t)
        {
            var r = EmoAnimStubMath.Slerp(a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w, Mathf.Clamp01(t));
            return new Quaternion(r[0], r[1], r[2], r[3]);
        }
        // https://docs.unity3d.com/ScriptReference/Quaternion.AngleAxis.html
        public static Quaternion AngleAxis(float angle, Vector3 axis)
        {
            double n = Math.Sqrt(axis.x * axis.x + axis.y * axis.y + axis.z * axis.z);
            double h = angle * Math.PI / 360.0, s = Math.Sin(h) / n;
            return new Quaternion((float)(axis.x * s), (float)(axis.y * s), (float)(axis.z * s), (float)Math.Cos(h));
        }
        // https://docs.unity3d.com/ScriptReference/Quaternion.Euler.html  (Z, then X, then Y: q = Ry * Rx * Rz)
        public static Quaternion Euler(float x, float y, float z)
        {
            return AngleAxis(y, new Vector3(0, 1, 0)) * AngleAxis(x, new Vector3(1, 0, 0)) * AngleAxis(z, new Vector3(0, 0, 1));
        }
        public override string ToString() { return "(" + x + ", " + y + ", " + z + ", " + w + ")"; }
    }

    static class EmoAnimStubMath
    {
        public static float[] Slerp(float ax, float ay, float az, float aw, float bx, float by, float bz, float bw, float t)
        {
            double d = ax * bx + ay * by + az * bz + aw * bw;
            if (d < 0) { bx = -bx; by = -by; bz = -bz; bw = -bw; d = -d; }
            double ka = 1 - t, kb = t;
            if (d < 0.9995) { double th = Math.Acos(d), s = Math.Sin(th); ka = Math.Sin((1 - t) * th) / s; kb = Math.Sin(t * th) / s; }
            double x = ka * ax + kb * bx, y = ka * ay + kb * by, z = ka * az + kb * bz, w = ka * aw + kb * bw;
            double n = Math.Sqrt(x * x + y * y + z * z + w * w);
            return new[] { (float)(x / n), (float)(y / n), (float)(z / n), (float)(w / n) };
        }
    }

    // https://docs.unity3d.com/ScriptReference/Mathf.html
    public static class Mathf
    {
        public static float Clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }
        public static float Lerp(float a, float b, float t) { return a + (b - a) * Clamp01(t); }
        public static float Max(float a, float b) { return a > b ? a : b; }
        // https://docs.unity3d.com/ScriptReference/Mathf.MoveTowards.html
        public static float MoveTowards(float current, float target, float maxDelta)
        {
            if (Math.Abs(target - current) <= maxDelta) return target;
            return current + Math.Sign(target - current) * maxDelta;
        }
    }

    // https://docs.unity3d.com/ScriptReference/Debug.html
    public static class Debug
    {
        public static readonly List<string> StubLog = new List<string>();
        public static void Log(object m) { lock (StubLog) StubLog.Add("log: " + m); }
        public static void Log(object m, Object context) { Log(m); }
        public static void LogWarning(object m) { lock (StubLog) StubLog.Add("warning: " + m); }
        public static void LogWarning(object m, Object context) { LogWarning(m); }
        public static void LogError(object m) { lock (StubLog) StubLog.Add("error: " + m); }
        public static void LogError(object m, Object context) { LogError(m); }
        public static void LogException(Exception e) { LogError(e); }
    }

    // https://docs.unity3d.com/ScriptReference/Application.html
    public static class Application
    {
        // https://docs.unity3d.com/ScriptReference/Application-unityVersion.html
        public static string unityVersion { get { return "stub"; } }
        // https://docs.unity3d.com/ScriptReference/Application-dataPath.html
        public static string dataPath { get { return System.IO.Path.Combine(Environment.CurrentDirectory, "Assets"); } }
    }

    // https://docs.unity3d.com/ScriptReference/Time.html
    public static class Time
    {
        public static float StubDeltaTime = 1f / 60f;
        public static double StubTime;
        // https://docs.unity3d.com/ScriptReference/Time-deltaTime.html
        public static float deltaTime { get { return StubDeltaTime; } }
        // https://docs.unity3d.com/ScriptReference/Time-unscaledTimeAsDouble.html
        public static double unscaledTimeAsDouble { get { return StubTime; } }
    }

    // https://docs.unity3d.com/ScriptReference/AudioSettings.html
    public static class AudioSettings
    {
        public static double StubDspTime;
        // https://docs.unity3d.com/ScriptReference/AudioSettings-dspTime.html
        public static double dspTime { get { return StubDspTime; } }
    }

    // https://docs.unity3d.com/ScriptReference/AudioClip.html
    public sealed class AudioClip : Object
    {
        float[] m_Data = new float[0];
        // https://docs.unity3d.com/ScriptReference/AudioClip-samples.html
        public int samples { get; private set; }
        // https://docs.unity3d.com/ScriptReference/AudioClip-channels.html
        public int channels { get; private set; }
        // https://docs.unity3d.com/ScriptReference/AudioClip-frequency.html
        public int frequency { get; private set; }
        // https://docs.unity3d.com/ScriptReference/AudioClip-length.html
        public float length { get { return frequency > 0 ? (float)samples / frequency : 0; } }
        // https://docs.unity3d.com/ScriptReference/AudioClip.Create.html
        public static AudioClip Create(string name, int lengthSamples, int channels, int frequency, bool stream)
        {
            return new AudioClip { name = name, samples = lengthSamples, channels = channels, frequency = frequency, m_Data = new float[lengthSamples * channels] };
        }
        // https://docs.unity3d.com/ScriptReference/AudioClip.SetData.html
        public bool SetData(float[] data, int offsetSamples) { Array.Copy(data, 0, m_Data, offsetSamples * channels, Math.Min(data.Length, m_Data.Length - offsetSamples * channels)); return true; }
        internal void StubWrite(int index, float v) { m_Data[index] = v; }
        // https://docs.unity3d.com/ScriptReference/AudioClip.GetData.html (wraps around, like looping clips)
        public bool GetData(float[] data, int offsetSamples)
        {
            for (int i = 0; i < data.Length; i++) data[i] = m_Data.Length == 0 ? 0 : m_Data[(offsetSamples * channels + i) % m_Data.Length];
            return true;
        }
    }

    // https://docs.unity3d.com/ScriptReference/AudioSource.html
    public sealed class AudioSource : Behaviour
    {
        public AudioClip clip { get; set; }
        public double StubScheduledAt = double.NaN;
        // https://docs.unity3d.com/ScriptReference/AudioSource-isPlaying.html
        public bool isPlaying { get; private set; }
        // https://docs.unity3d.com/ScriptReference/AudioSource.PlayScheduled.html
        public void PlayScheduled(double time) { StubScheduledAt = time; isPlaying = true; }
        // https://docs.unity3d.com/ScriptReference/AudioSource.Stop.html
        public void Stop() { isPlaying = false; }
    }

    // https://docs.unity3d.com/ScriptReference/Microphone.html
    // Stub: "records" StubSource (mono, at the requested rate) in real time as Time.unscaledTimeAsDouble advances.
    public static class Microphone
    {
        public static float[] StubSource;
        static AudioClip s_Clip;
        static double s_Start;
        static int s_Written;

        // https://docs.unity3d.com/ScriptReference/Microphone.Start.html
        public static AudioClip Start(string deviceName, bool loop, int lengthSec, int frequency)
        {
            s_Clip = AudioClip.Create("mic", lengthSec * frequency, 1, frequency, false);
            s_Start = Time.unscaledTimeAsDouble;
            s_Written = 0;
            return s_Clip;
        }
        // https://docs.unity3d.com/ScriptReference/Microphone.End.html
        public static void End(string deviceName) { s_Clip = null; }
        // https://docs.unity3d.com/ScriptReference/Microphone.GetPosition.html
        public static int GetPosition(string deviceName)
        {
            if (s_Clip == null) return 0;
            int total = (int)((Time.unscaledTimeAsDouble - s_Start) * s_Clip.frequency);
            // after the source: silence, like a real microphone in a quiet room
            for (int i = s_Written; i < total; i++) s_Clip.StubWrite(i % s_Clip.samples, StubSource != null && i < StubSource.Length ? StubSource[i] : 0f);
            s_Written = Math.Max(s_Written, total);
            return total % s_Clip.samples;
        }
        public static int StubSamplesRecorded { get { return s_Written; } }
    }

    // https://docs.unity3d.com/ScriptReference/Mesh.html
    public sealed class Mesh : Object
    {
        public readonly List<string> StubBlendShapeNames = new List<string>();
        // https://docs.unity3d.com/ScriptReference/Mesh-blendShapeCount.html
        public int blendShapeCount { get { return StubBlendShapeNames.Count; } }
        // https://docs.unity3d.com/ScriptReference/Mesh.GetBlendShapeName.html
        public string GetBlendShapeName(int shapeIndex) { return StubBlendShapeNames[shapeIndex]; }
        // https://docs.unity3d.com/ScriptReference/Mesh.GetBlendShapeIndex.html
        public int GetBlendShapeIndex(string blendShapeName) { return StubBlendShapeNames.IndexOf(blendShapeName); }
    }

    // https://docs.unity3d.com/ScriptReference/Renderer.html
    public class Renderer : Component { }

    // https://docs.unity3d.com/ScriptReference/SkinnedMeshRenderer.html
    public class SkinnedMeshRenderer : Renderer
    {
        readonly Dictionary<int, float> m_Weights = new Dictionary<int, float>();
        // https://docs.unity3d.com/ScriptReference/SkinnedMeshRenderer-sharedMesh.html
        public Mesh sharedMesh { get; set; }
        // https://docs.unity3d.com/ScriptReference/SkinnedMeshRenderer.GetBlendShapeWeight.html
        public float GetBlendShapeWeight(int index) { float w; return m_Weights.TryGetValue(index, out w) ? w : 0f; }
        // https://docs.unity3d.com/ScriptReference/SkinnedMeshRenderer.SetBlendShapeWeight.html
        public void SetBlendShapeWeight(int index, float value) { m_Weights[index] = value; }
    }

    // https://docs.unity3d.com/ScriptReference/HumanBodyBones.html (same order and values as the engine)
    public enum HumanBodyBones
    {
        Hips = 0, LeftUpperLeg = 1, RightUpperLeg = 2, LeftLowerLeg = 3, RightLowerLeg = 4, LeftFoot = 5, RightFoot = 6,
        Spine = 7, Chest = 8, UpperChest = 54, Neck = 9, Head = 10, LeftShoulder = 11, RightShoulder = 12,
        LeftUpperArm = 13, RightUpperArm = 14, LeftLowerArm = 15, RightLowerArm = 16, LeftHand = 17, RightHand = 18,
        LeftToes = 19, RightToes = 20, LeftEye = 21, RightEye = 22, Jaw = 23,
        LeftThumbProximal = 24, LeftThumbIntermediate = 25, LeftThumbDistal = 26, LeftIndexProximal = 27,
        LeftIndexIntermediate = 28, LeftIndexDistal = 29, LeftMiddleProximal = 30, LeftMiddleIntermediate = 31,
        LeftMiddleDistal = 32, LeftRingProximal = 33, LeftRingIntermediate = 34, LeftRingDistal = 35,
        LeftLittleProximal = 36, LeftLittleIntermediate = 37, LeftLittleDistal = 38, RightThumbProximal = 39,
        RightThumbIntermediate = 40, RightThumbDistal = 41, RightIndexProximal = 42, RightIndexIntermediate = 43,
        RightIndexDistal = 44, RightMiddleProximal = 45, RightMiddleIntermediate = 46, RightMiddleDistal = 47,
        RightRingProximal = 48, RightRingIntermediate = 49, RightRingDistal = 50, RightLittleProximal = 51,
        RightLittleIntermediate = 52, RightLittleDistal = 53, LastBone = 55,
    }

    // https://docs.unity3d.com/ScriptReference/Animator.html
    public class Animator : Behaviour
    {
        public readonly Dictionary<HumanBodyBones, Transform> StubBones = new Dictionary<HumanBodyBones, Transform>();
        // https://docs.unity3d.com/ScriptReference/Animator-isHuman.html
        public bool isHuman { get { return StubBones.Count > 0; } }
        // https://docs.unity3d.com/ScriptReference/Animator.GetBoneTransform.html
        public Transform GetBoneTransform(HumanBodyBones humanBoneId) { Transform t; return StubBones.TryGetValue(humanBoneId, out t) ? t : null; }
        // https://docs.unity3d.com/ScriptReference/Animator-avatar.html
        public Avatar avatar { get; set; }
    }

    // https://docs.unity3d.com/ScriptReference/Avatar.html
    public class Avatar : Object { }

    // https://docs.unity3d.com/ScriptReference/HumanPose.html
    public struct HumanPose
    {
        public Vector3 bodyPosition;
        public Quaternion bodyRotation;
        public float[] muscles;
    }

    // https://docs.unity3d.com/ScriptReference/HumanPoseHandler.html
    public class HumanPoseHandler : IDisposable
    {
        public HumanPoseHandler(Avatar avatar, Transform root) { }
        // https://docs.unity3d.com/ScriptReference/HumanPoseHandler.GetHumanPose.html
        public void GetHumanPose(ref HumanPose humanPose) { humanPose.muscles = new float[HumanTrait.MuscleCount]; humanPose.bodyRotation = Quaternion.identity; }
        public void Dispose() { }
    }

    // https://docs.unity3d.com/ScriptReference/HumanTrait.html
    public static class HumanTrait
    {
        // https://docs.unity3d.com/ScriptReference/HumanTrait-MuscleCount.html
        public static int MuscleCount { get { return 95; } }
        // https://docs.unity3d.com/ScriptReference/HumanTrait-MuscleName.html
        public static string[] MuscleName
        {
            get { var n = new string[95]; for (int i = 0; i < n.Length; i++) n[i] = "Muscle " + i; n[0] = "Spine Front-Back"; n[55] = "Left Thumb 1 Stretched"; return n; }
        }
    }

    // https://docs.unity3d.com/ScriptReference/AnimationCurve.html
    public class AnimationCurve
    {
        public Keyframe[] keys;
        public AnimationCurve(params Keyframe[] keys) { this.keys = keys; }
        // https://docs.unity3d.com/ScriptReference/AnimationCurve.Evaluate.html (stub: linear between keys)
        public float Evaluate(float time)
        {
            if (keys == null || keys.Length == 0) return 0f;
            if (time <= keys[0].time) return keys[0].value;
            for (int i = 1; i < keys.Length; i++)
                if (time <= keys[i].time)
                {
                    float span = keys[i].time - keys[i - 1].time;
                    return span <= 0 ? keys[i].value : keys[i - 1].value + (time - keys[i - 1].time) / span * (keys[i].value - keys[i - 1].value);
                }
            return keys[keys.Length - 1].value;
        }
    }

    // https://docs.unity3d.com/ScriptReference/Keyframe.html
    public struct Keyframe
    {
        public float time, value, inTangent, outTangent;
        public Keyframe(float time, float value) { this.time = time; this.value = value; inTangent = outTangent = 0f; }
        // https://docs.unity3d.com/ScriptReference/Keyframe-ctor.html
        public Keyframe(float time, float value, float inTangent, float outTangent)
        { this.time = time; this.value = value; this.inTangent = inTangent; this.outTangent = outTangent; }
    }

    // https://docs.unity3d.com/ScriptReference/AnimationClip.html
    public sealed class AnimationClip : Object
    {
        // https://docs.unity3d.com/ScriptReference/AnimationClip-frameRate.html
        public float frameRate { get; set; }
        public readonly List<string> StubCurves = new List<string>();
        public readonly Dictionary<string, AnimationCurve> StubCurveData = new Dictionary<string, AnimationCurve>();
        public readonly Dictionary<string, Type> StubCurveTypes = new Dictionary<string, Type>();
        // https://docs.unity3d.com/ScriptReference/AnimationClip.SetCurve.html
        public void SetCurve(string relativePath, Type type, string propertyName, AnimationCurve curve)
        {
            string key = relativePath + "|" + type.Name + "|" + propertyName;
            if (!StubCurveData.ContainsKey(key)) StubCurves.Add(key);
            StubCurveTypes[key] = type;
            StubCurveData[key] = curve;
        }
    }

    // https://docs.unity3d.com/ScriptReference/Vector2.html
    public struct Vector2
    {
        public float x, y;
        public Vector2(float x, float y) { this.x = x; this.y = y; }
    }

    // https://docs.unity3d.com/ScriptReference/GUIContent.html
    public class GUIContent
    {
        public string text, tooltip;
        public GUIContent(string text) { this.text = text; }
        public GUIContent(string text, string tooltip) { this.text = text; this.tooltip = tooltip; }
    }

    // https://docs.unity3d.com/ScriptReference/GUIStyle.html
    public class GUIStyle { }

    // https://docs.unity3d.com/ScriptReference/GUI.html
    public static class GUI
    {
        // https://docs.unity3d.com/ScriptReference/GUI-enabled.html
        public static bool enabled { get; set; }
    }

    // https://docs.unity3d.com/ScriptReference/GUILayoutOption.html
    public sealed class GUILayoutOption { }

    // https://docs.unity3d.com/ScriptReference/Rect.html
    public struct Rect
    {
        public float x, y, width, height;
        public Rect(float x, float y, float width, float height) { this.x = x; this.y = y; this.width = width; this.height = height; }
    }

    // https://docs.unity3d.com/ScriptReference/GUILayout.html
    public static class GUILayout
    {
        // https://docs.unity3d.com/ScriptReference/GUILayout.BeginArea.html
        public static void BeginArea(Rect screenRect) { }
        public static void EndArea() { }
        // https://docs.unity3d.com/ScriptReference/GUILayout.BeginHorizontal.html
        public static void BeginHorizontal(params GUILayoutOption[] options) { }
        public static void EndHorizontal() { }
        // https://docs.unity3d.com/ScriptReference/GUILayout.HorizontalSlider.html
        public static float HorizontalSlider(float value, float leftValue, float rightValue, params GUILayoutOption[] options) { return value; }
        // https://docs.unity3d.com/ScriptReference/GUILayout.Button.html
        public static bool Button(string text, params GUILayoutOption[] options) { return false; }
        // https://docs.unity3d.com/ScriptReference/GUILayout.Width.html
        public static GUILayoutOption Width(float width) { return new GUILayoutOption(); }
        // https://docs.unity3d.com/ScriptReference/GUILayout.Label.html
        public static void Label(string text, params GUILayoutOption[] options) { }
    }

    // ---- attributes (https://docs.unity3d.com/ScriptReference/<Name>.html) ----
    [AttributeUsage(AttributeTargets.Field)] public sealed class SerializeField : Attribute { }
    [AttributeUsage(AttributeTargets.Field)] public class PropertyAttribute : Attribute { }
    public sealed class HeaderAttribute : PropertyAttribute { public readonly string header; public HeaderAttribute(string header) { this.header = header; } }
    public sealed class TooltipAttribute : PropertyAttribute { public readonly string tooltip; public TooltipAttribute(string tooltip) { this.tooltip = tooltip; } }
    public sealed class RangeAttribute : PropertyAttribute { public readonly float min, max; public RangeAttribute(float min, float max) { this.min = min; this.max = max; } }
    public sealed class TextAreaAttribute : PropertyAttribute { public TextAreaAttribute() { } }
    [AttributeUsage(AttributeTargets.Class)] public sealed class CreateAssetMenuAttribute : Attribute { public string menuName { get; set; } public string fileName { get; set; } public int order { get; set; } }
    [AttributeUsage(AttributeTargets.Class)] public sealed class AddComponentMenu : Attribute { public AddComponentMenu(string menuName) { } }
    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true)] public sealed class RequireComponent : Attribute { public RequireComponent(Type t) { } }
    [AttributeUsage(AttributeTargets.Class)] public sealed class DisallowMultipleComponent : Attribute { }
    [AttributeUsage(AttributeTargets.Class)] public sealed class DefaultExecutionOrder : Attribute { public DefaultExecutionOrder(int order) { } }
}
