using UnityEngine;

namespace EmoAnim.Unity
{
    /// <summary>
    /// Rotates the head (split with the neck) and the eye bones from the pose's head/eye angles.
    /// Angles are applied about the character's own axes (yaw about its up, pitch about its right,
    /// roll about its forward; see <see cref="CoordinateConversion.YawPitchRollToUnity"/>) on top of
    /// what the Animator produced this frame, so any bone orientation works (Mixamo, RPM, VRoid).
    /// Bones come from a Humanoid Animator, or set them by hand for Generic rigs.
    /// </summary>
    [AddComponentMenu("EmoAnim/EmoAnim Eye Head Driver")]
    [DefaultExecutionOrder(110)]
    public class EmoAnimEyeHeadDriver : MonoBehaviour
    {
        public MonoBehaviour source;
        [Tooltip("Humanoid Animator to take Head/Neck/LeftEye/RightEye from (optional).")]
        public Animator animator;
        [Tooltip("Character frame (its forward = +Z). Empty: the Animator's transform, or this transform.")]
        public Transform characterRoot;
        public Transform head, neck, leftEye, rightEye;
        [Range(0f, 2f)] public float headWeight = 1f;
        [Tooltip("Share of the head rotation given to the neck (0 = all head).")]
        [Range(0f, 1f)] public float neckShare = 0.4f;
        [Range(0f, 2f)] public float eyeWeight = 1f;
        [Tooltip("Flip signs if your rig disagrees (PoseFrame convention: +yaw = to the character's left, +pitch = down, +roll = top to the left shoulder).")]
        public bool invertYaw, invertPitch, invertRoll;

        IEmoAnimPoseSource m_Source;
        // Per bone (head, neck, left eye, right eye): the local rotation without us. When nothing else
        // (an Animator) rewrites the bone every frame, offsets must not accumulate: we restore this first.
        readonly Quaternion[] m_Base = new Quaternion[4];
        readonly Quaternion[] m_LastSet = new Quaternion[4];
        readonly bool[] m_Applied = new bool[4];

        void OnEnable() { Setup(); }

        /// <summary>Resolve the source and the bones (OnEnable does it; tools call it in edit mode).</summary>
        public void Setup()
        {
            m_Source = source as IEmoAnimPoseSource;
            if (m_Source == null) m_Source = GetComponentInParent<EmoAnimSpeaker>();
            if (animator == null) animator = GetComponentInParent<Animator>();
            if (animator != null && animator.isHuman)
            {
                if (head == null) head = animator.GetBoneTransform(HumanBodyBones.Head);
                if (neck == null) neck = animator.GetBoneTransform(HumanBodyBones.Neck);
                if (leftEye == null) leftEye = animator.GetBoneTransform(HumanBodyBones.LeftEye);
                if (rightEye == null) rightEye = animator.GetBoneTransform(HumanBodyBones.RightEye);
            }
            if (characterRoot == null) characterRoot = animator != null ? animator.transform : transform;
        }

        void LateUpdate()
        {
            if (m_Source == null) return;
            float w = m_Source.PoseWeight;
            if (w <= 0f) { RestoreBase(); return; }
            ApplyPose(m_Source.CurrentPose, w);
        }

        Transform Bone(int i) { return i == 0 ? head : i == 1 ? neck : i == 2 ? leftEye : rightEye; }

        void BeginBone(int i)
        {
            var t = Bone(i);
            if (t == null) return;
            var now = t.localRotation;
            if (m_Applied[i] && now == m_LastSet[i]) t.localRotation = m_Base[i];   // our own last write: undo it
            else m_Base[i] = now;                                                   // animated (or first time)
        }

        void EndBone(int i)
        {
            var t = Bone(i);
            if (t == null) return;
            m_LastSet[i] = t.localRotation;
            m_Applied[i] = true;
        }

        /// <summary>Idle: bones nobody else animates go back to their rotation before we drove them.</summary>
        public void RestoreBase()
        {
            for (int i = 0; i < 4; i++)
            {
                var t = Bone(i);
                if (t != null && m_Applied[i] && t.localRotation == m_LastSet[i]) t.localRotation = m_Base[i];
                m_Applied[i] = false;
            }
        }

        /// <summary>Rotate head/neck/eyes by the pose's angles scaled by <paramref name="w"/> (0..1).</summary>
        public void ApplyPose(PoseFrame p, float w)
        {
            if (characterRoot == null) Setup();
            for (int i = 0; i < 4; i++) BeginBone(i);
            var root = characterRoot.rotation;
            var eyeFrame = root;   // eye angles are relative to the head (Live Link Face / ARKit)
            if (p.HasHead && head != null)
            {
                float k = w * headWeight;
                float yaw = Sign(invertYaw) * p.HeadYaw * k, pitch = Sign(invertPitch) * p.HeadPitch * k, roll = Sign(invertRoll) * p.HeadRoll * k;
                if (neck != null && neckShare > 0f)
                {
                    Apply(neck, root, yaw * neckShare, pitch * neckShare, roll * neckShare);
                    Apply(head, root, yaw * (1 - neckShare), pitch * (1 - neckShare), roll * (1 - neckShare));
                }
                else Apply(head, root, yaw, pitch, roll);
                var h = CoordinateConversion.YawPitchRollToUnity(yaw, pitch, roll);
                eyeFrame = root * new Quaternion(h.x, h.y, h.z, h.w);
            }
            if (p.HasEyes)
            {
                float k = w * eyeWeight;
                if (leftEye != null) Apply(leftEye, eyeFrame, Sign(invertYaw) * p.LeftEyeYaw * k, Sign(invertPitch) * p.LeftEyePitch * k, 0);
                if (rightEye != null) Apply(rightEye, eyeFrame, Sign(invertYaw) * p.RightEyeYaw * k, Sign(invertPitch) * p.RightEyePitch * k, 0);
            }
            for (int i = 0; i < 4; i++) EndBone(i);
        }

        static float Sign(bool invert) { return invert ? -1f : 1f; }

        /// <summary>bone.rotation = frame * offset * inverse(frame) * bone.rotation (offset about the frame's axes:
        /// the character's for head/neck, the turned head's for the eyes).</summary>
        static void Apply(Transform bone, Quaternion root, float yaw, float pitch, float roll)
        {
            var q = CoordinateConversion.YawPitchRollToUnity(yaw, pitch, roll);
            var offset = new Quaternion(q.x, q.y, q.z, q.w);
            bone.rotation = root * offset * Quaternion.Inverse(root) * bone.rotation;
        }
    }
}
