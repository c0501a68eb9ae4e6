using System;
using System.Collections.Generic;
using UnityEngine;

namespace EmoAnim.Unity
{
    /// <summary>
    /// Applies the server's skeleton poses (co-speech gestures; enable "body" on the speaker) to a
    /// Humanoid Animator (bones via HumanBodyBones) or to a transform hierarchy (bones found by name:
    /// Mixamo "mixamorig:LeftArm", Rigify "upper_arm.L", humanoid "LeftUpperArm"... see
    /// <see cref="HumanoidNames"/>). Server poses are right-handed; they are mirrored into Unity's
    /// left-handed space (x -> -x) and applied as rotations away from the character's rest pose
    /// (<see cref="BodyRetarget"/>). The character must be in its T-pose when this component is
    /// enabled (the rest pose is captured then) — Mixamo, Ready Player Me and VRM models import in T-pose.
    /// </summary>
    [AddComponentMenu("EmoAnim/EmoAnim Body Driver")]
    [DefaultExecutionOrder(105)]
    public class EmoAnimBodyDriver : MonoBehaviour
    {
        public MonoBehaviour source;
        [Tooltip("Humanoid Animator (preferred). Empty: found in parents/children.")]
        public Animator animator;
        [Tooltip("For Generic rigs: the root of the bone hierarchy (bones are matched by name).")]
        public Transform skeletonRoot;
        [Tooltip("Character frame (forward = +Z). Empty: the Animator's or this transform.")]
        public Transform characterRoot;
        [Range(0f, 1f)] public float weight = 1f;
        [Tooltip("Move the hips with the server's root position (scaled to the character's hip height).")]
        public bool applyRootPosition = false;
        [Tooltip("Leave the head and neck to EmoAnimEyeHeadDriver.")]
        public bool skipHeadAndNeck = true;

        IEmoAnimPoseSource m_Source;
        string[] m_BoundNames;
        BodyRetarget m_Retarget;
        Transform[] m_Bones;          // per server joint (null = not on the character)
        Quaternion[] m_RestInChar;    // bone rest rotation in character space
        // The bone's local rotation without us (what an Animator wrote this frame, else from before our
        // first write) and what we wrote last, so poses blend from it and nothing accumulates.
        Quaternion[] m_BaseLocal, m_LastLocal;
        bool[] m_Applied;
        Vector3 m_HipsBase, m_HipsLast;
        bool m_HipsApplied;
        readonly Dictionary<string, Transform> m_HumanoidBones = new Dictionary<string, Transform>();
        readonly Dictionary<string, Quaternion> m_RestByHumanoid = new Dictionary<string, Quaternion>();
        Transform m_Hips;
        float m_HipsHeight;
        float m_ServerHipsHeight = -1f;

        /// <summary>Joints of the current skeleton that found a bone.</summary>
        public int BoundJointCount { get; private set; }

        void OnEnable() { Setup(); }

        /// <summary>Resolve source and bones and capture the rest pose (OnEnable does it; tools call it in edit mode).</summary>
        public void Setup()
        {
            m_Source = source as IEmoAnimPoseSource;
            if (m_Source == null) m_Source = GetComponentInParent<EmoAnimSpeaker>();
            if (animator == null) animator = GetComponentInParent<Animator>();
            if (animator == null) animator = GetComponentInChildren<Animator>();
            if (characterRoot == null) characterRoot = animator != null ? animator.transform : transform;
            CaptureRest();
            m_BoundNames = null;
        }

        /// <summary>Record the bones and their rest rotations (call while the character is in T-pose).</summary>
        public void CaptureRest()
        {
            m_HumanoidBones.Clear();
            m_RestByHumanoid.Clear();
            var inv = Quaternion.Inverse(characterRoot.rotation);
            if (animator != null && animator.isHuman)
            {
                foreach (HumanBodyBones hb in Enum.GetValues(typeof(HumanBodyBones)))
                {
                    if (hb == HumanBodyBones.LastBone) continue;
                    var t = animator.GetBoneTransform(hb);
                    if (t != null) m_HumanoidBones[hb.ToString()] = t;
                }
            }
            else
            {
                var root = skeletonRoot != null ? skeletonRoot : characterRoot;
                foreach (var t in root.GetComponentsInChildren<Transform>())
                {
                    string h = HumanoidNames.ToHumanoid(t.name);
                    if (h != null && !m_HumanoidBones.ContainsKey(h)) m_HumanoidBones[h] = t;
                }
            }
            foreach (var kv in m_HumanoidBones) m_RestByHumanoid[kv.Key] = inv * kv.Value.rotation;
            m_HumanoidBones.TryGetValue("Hips", out m_Hips);
            if (m_Hips != null)
            {
                m_HipsHeight = characterRoot.InverseTransformPoint(m_Hips.position).y;
            }
        }

        void Bind(string[] names, int[] parents)
        {
            m_BoundNames = names;
            m_ServerHipsHeight = -1f;
            m_Retarget = new BodyRetarget(parents);
            m_Bones = new Transform[names.Length];
            m_RestInChar = new Quaternion[names.Length];
            m_BaseLocal = new Quaternion[names.Length];
            m_LastLocal = new Quaternion[names.Length];
            m_Applied = new bool[names.Length];
            BoundJointCount = 0;
            for (int i = 0; i < names.Length; i++)
            {
                string h = HumanoidNames.ToHumanoid(names[i]);
                if (h == null) continue;
                if (skipHeadAndNeck && (h == "Head" || h == "Neck")) continue;
                Transform t;
                if (!m_HumanoidBones.TryGetValue(h, out t)) continue;
                m_Bones[i] = t;
                m_RestInChar[i] = m_RestByHumanoid[h];
                BoundJointCount++;
            }
        }

        void LateUpdate()
        {
            if (m_Source == null) return;
            float w = m_Source.PoseWeight * weight;
            if (w <= 0f) { RestoreBase(); return; }
            ApplyPose(m_Source.CurrentPose, w, m_Source.JointNames, m_Source.JointParents);
        }

        /// <summary>Idle: bones nobody else animates go back to where they were before we drove them.</summary>
        public void RestoreBase()
        {
            if (m_Bones != null)
                for (int i = 0; i < m_Bones.Length; i++)
                {
                    var t = m_Bones[i];
                    if (t != null && m_Applied[i] && t.localRotation == m_LastLocal[i]) t.localRotation = m_BaseLocal[i];
                    m_Applied[i] = false;
                }
            if (m_HipsApplied && m_Hips != null && m_Hips.localPosition == m_HipsLast) m_Hips.localPosition = m_HipsBase;
            m_HipsApplied = false;
        }

        /// <summary>Bones this driver moves for the given skeleton (for tools such as the bake window).</summary>
        public IEnumerable<Transform> DrivenBones(string[] names, int[] parents)
        {
            if (!ReferenceEquals(names, m_BoundNames)) Bind(names, parents);
            foreach (var t in m_Bones) if (t != null) yield return t;
            if (applyRootPosition && m_Hips != null) yield return m_Hips;
        }

        /// <summary>Apply one pose with weight <paramref name="w"/> (0..1) for the skeleton <paramref name="names"/>/<paramref name="parents"/>.</summary>
        public void ApplyPose(PoseFrame p, float w, string[] names, int[] parents)
        {
            if (p.JointRotations == null || names == null || parents == null || names.Length != p.JointRotations.Length) return;
            if (!ReferenceEquals(names, m_BoundNames)) Bind(names, parents);
            var g = m_Retarget.GlobalUnity(p.JointRotations);
            var c = characterRoot.rotation;
            var cq = new Quat(c.x, c.y, c.z, c.w);
            for (int i = 0; i < m_Bones.Length; i++)
            {
                var t = m_Bones[i];
                if (t == null) continue;
                var now = t.localRotation;
                if (m_Applied[i] && now == m_LastLocal[i]) t.localRotation = m_BaseLocal[i];  // undo our last write
                else m_BaseLocal[i] = now;                                                  // animated, or first time
                var r = m_RestInChar[i];
                var q = BodyRetarget.BoneWorld(cq, g[i], new Quat(r.x, r.y, r.z, r.w));
                var target = new Quaternion(q.x, q.y, q.z, q.w);
                t.rotation = w >= 1f ? target : Quaternion.Slerp(t.rotation, target, w);
                m_LastLocal[i] = t.localRotation;
                m_Applied[i] = true;
            }
            if (applyRootPosition && p.HasRootPosition && m_Hips != null)
            {
                var u = CoordinateConversion.PositionToUnity(p.RootPosition);
                if (m_ServerHipsHeight < 0f) m_ServerHipsHeight = Mathf.Max(0.01f, u.y); // first frame ~ standing height
                float scale = m_HipsHeight > 0 ? m_HipsHeight / m_ServerHipsHeight : 1f;
                var world = characterRoot.TransformPoint(new Vector3(u.x * scale, u.y * scale, u.z * scale));
                var local = m_Hips.parent != null ? m_Hips.parent.InverseTransformPoint(world) : world;
                var nowPos = m_Hips.localPosition;
                if (!m_HipsApplied || nowPos != m_HipsLast) m_HipsBase = nowPos;
                m_Hips.localPosition = Vector3.Lerp(m_HipsBase, local, w);
                m_HipsLast = m_Hips.localPosition;
                m_HipsApplied = true;
            }
        }
    }
}
