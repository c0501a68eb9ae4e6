// Plain C# (no UnityEngine): one decoded animation frame in the server's space, plus interpolation.
using System;

namespace EmoAnim
{
    /// <summary>
    /// One animation frame, independent of the wire format: ARKit curves in Apple's order (0..1),
    /// head and eye Euler angles (radians), optional body pose (server space: right-handed, Y-up, metres).
    /// </summary>
    public class PoseFrame
    {
        public long Index;
        public double Time;                       // seconds from the start of the session's audio
        public readonly float[] Curves = new float[ArkitNames.Count];
        public float HeadYaw, HeadPitch, HeadRoll;
        public float LeftEyeYaw, LeftEyePitch, RightEyeYaw, RightEyePitch;
        public bool HasHead, HasEyes;
        /// <summary>Local joint rotations (x, y, z, w) in the session skeleton's joint order, or null.</summary>
        public Quat[] JointRotations;
        public Vec3 RootPosition;
        public bool HasRootPosition;

        public PoseFrame Clone()
        {
            var f = new PoseFrame();
            f.CopyFrom(this);
            return f;
        }

        public void CopyFrom(PoseFrame o)
        {
            Index = o.Index; Time = o.Time;
            Array.Copy(o.Curves, Curves, ArkitNames.Count);
            HeadYaw = o.HeadYaw; HeadPitch = o.HeadPitch; HeadRoll = o.HeadRoll;
            LeftEyeYaw = o.LeftEyeYaw; LeftEyePitch = o.LeftEyePitch; RightEyeYaw = o.RightEyeYaw; RightEyePitch = o.RightEyePitch;
            HasHead = o.HasHead; HasEyes = o.HasEyes;
            if (o.JointRotations == null) JointRotations = null;
            else
            {
                if (JointRotations == null || JointRotations.Length != o.JointRotations.Length) JointRotations = new Quat[o.JointRotations.Length];
                Array.Copy(o.JointRotations, JointRotations, o.JointRotations.Length);
            }
            RootPosition = o.RootPosition; HasRootPosition = o.HasRootPosition;
        }

        /// <summary>
        /// <paramref name="into"/> = a + (b - a) * t: curves and angles linearly, joints by slerp, root linearly.
        /// Body data missing on one side is taken from the other.
        /// </summary>
        public static void Interpolate(PoseFrame a, PoseFrame b, float t, PoseFrame into)
        {
            if (t <= 0f) { into.CopyFrom(a); return; }
            if (t >= 1f) { into.CopyFrom(b); return; }
            into.Index = a.Index;
            into.Time = a.Time + (b.Time - a.Time) * t;
            for (int i = 0; i < ArkitNames.Count; i++) into.Curves[i] = a.Curves[i] + (b.Curves[i] - a.Curves[i]) * t;
            into.HeadYaw = Lerp(a.HeadYaw, b.HeadYaw, t);
            into.HeadPitch = Lerp(a.HeadPitch, b.HeadPitch, t);
            into.HeadRoll = Lerp(a.HeadRoll, b.HeadRoll, t);
            into.LeftEyeYaw = Lerp(a.LeftEyeYaw, b.LeftEyeYaw, t);
            into.LeftEyePitch = Lerp(a.LeftEyePitch, b.LeftEyePitch, t);
            into.RightEyeYaw = Lerp(a.RightEyeYaw, b.RightEyeYaw, t);
            into.RightEyePitch = Lerp(a.RightEyePitch, b.RightEyePitch, t);
            into.HasHead = a.HasHead || b.HasHead;
            into.HasEyes = a.HasEyes || b.HasEyes;
            var ja = a.JointRotations; var jb = b.JointRotations;
            if (ja != null && jb != null && ja.Length == jb.Length)
            {
                if (into.JointRotations == null || into.JointRotations.Length != ja.Length) into.JointRotations = new Quat[ja.Length];
                for (int j = 0; j < ja.Length; j++) into.JointRotations[j] = Quat.Slerp(ja[j], jb[j], t);
            }
            else
            {
                var src = ja ?? jb;
                if (src == null) into.JointRotations = null;
                else
                {
                    if (into.JointRotations == null || into.JointRotations.Length != src.Length) into.JointRotations = new Quat[src.Length];
                    Array.Copy(src, into.JointRotations, src.Length);
                }
            }
            if (a.HasRootPosition && b.HasRootPosition) into.RootPosition = Vec3.Lerp(a.RootPosition, b.RootPosition, t);
            else into.RootPosition = a.HasRootPosition ? a.RootPosition : b.RootPosition;
            into.HasRootPosition = a.HasRootPosition || b.HasRootPosition;
        }

        static float Lerp(float a, float b, float t) { return a + (b - a) * t; }
    }
}
