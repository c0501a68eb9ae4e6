// Plain C# (no UnityEngine): small vector/quaternion types and the server -> Unity space conversion.
using System;

namespace EmoAnim
{
    /// <summary>Minimal 3-vector (the Unity layer converts it to UnityEngine.Vector3).</summary>
    public struct Vec3
    {
        public float x, y, z;
        public Vec3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
        public static Vec3 operator +(Vec3 a, Vec3 b) { return new Vec3(a.x + b.x, a.y + b.y, a.z + b.z); }
        public static Vec3 operator -(Vec3 a, Vec3 b) { return new Vec3(a.x - b.x, a.y - b.y, a.z - b.z); }
        public static Vec3 operator *(Vec3 a, float s) { return new Vec3(a.x * s, a.y * s, a.z * s); }
        public static Vec3 Lerp(Vec3 a, Vec3 b, float t) { return a + (b - a) * t; }
        public override string ToString() { return "(" + x.ToString("R") + ", " + y.ToString("R") + ", " + z.ToString("R") + ")"; }
    }

    /// <summary>Minimal quaternion (x, y, z, w), Hamilton product, same layout as UnityEngine.Quaternion.</summary>
    public struct Quat
    {
        public float x, y, z, w;
        public Quat(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
        public static readonly Quat Identity = new Quat(0, 0, 0, 1);

        public static Quat operator *(Quat a, Quat b)
        {
            return new Quat(
                a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
                a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
                a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
                a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z);
        }

        public Quat Conjugate() { return new Quat(-x, -y, -z, w); }

        public Quat Normalized()
        {
            double n = Math.Sqrt((double)x * x + (double)y * y + (double)z * z + (double)w * w);
            if (n < 1e-12) return Identity;
            float k = (float)(1.0 / n);
            return new Quat(x * k, y * k, z * k, w * k);
        }

        public static float Dot(Quat a, Quat b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }

        /// <summary>Rotate a vector (same handedness as the quaternion).</summary>
        public Vec3 Rotate(Vec3 v)
        {
            var p = this * new Quat(v.x, v.y, v.z, 0) * Conjugate();
            return new Vec3(p.x, p.y, p.z);
        }

        public static Quat AxisAngle(Vec3 axis, float radians)
        {
            double n = Math.Sqrt(axis.x * axis.x + axis.y * axis.y + axis.z * axis.z);
            double s = Math.Sin(radians * 0.5) / n;
            return new Quat((float)(axis.x * s), (float)(axis.y * s), (float)(axis.z * s), (float)Math.Cos(radians * 0.5));
        }

        /// <summary>Shortest-path spherical interpolation (falls back to nlerp when nearly equal).</summary>
        public static Quat Slerp(Quat a, Quat b, float t)
        {
            double dot = Dot(a, b);
            if (dot < 0) { b = new Quat(-b.x, -b.y, -b.z, -b.w); dot = -dot; }
            double ka, kb;
            if (dot > 0.9995)
            {
                ka = 1 - t; kb = t;
            }
            else
            {
                double th = Math.Acos(dot), s = Math.Sin(th);
                ka = Math.Sin((1 - t) * th) / s; kb = Math.Sin(t * th) / s;
            }
            return new Quat((float)(ka * a.x + kb * b.x), (float)(ka * a.y + kb * b.y),
                            (float)(ka * a.z + kb * b.z), (float)(ka * a.w + kb * b.w)).Normalized();
        }

        /// <summary>Angle between two rotations in radians (atan2 form: accurate for tiny angles).</summary>
        public static float Angle(Quat a, Quat b)
        {
            var d = a.Normalized().Conjugate() * b.Normalized();
            double v = Math.Sqrt((double)d.x * d.x + (double)d.y * d.y + (double)d.z * d.z);
            return (float)(2 * Math.Atan2(v, Math.Abs((double)d.w)));
        }

        public override string ToString() { return "(" + x.ToString("R") + ", " + y.ToString("R") + ", " + z.ToString("R") + ", " + w.ToString("R") + ")"; }
    }

    /// <summary>
    /// Server space -> Unity space.
    ///
    /// The server (like BVH, glTF and Blender's Y-up export) uses a <b>right-handed</b>, Y-up,
    /// metre space, character facing +Z, character's left on +X. Unity is <b>left-handed</b>, Y-up,
    /// metres, character facing +Z, character's left on -X. The conversion is the mirror
    /// <c>x -> -x</c> (the same one glTFast uses), so "forward" and "up" are unchanged:
    /// <list type="bullet">
    /// <item>position <c>(x, y, z) -> (-x, y, z)</c></item>
    /// <item>rotation <c>(x, y, z, w) -> (x, -y, -z, w)</c>: a mirror keeps the rotation axis
    /// component along the mirror normal and negates the others (rotation = axis-vector, a pseudo-vector,
    /// and the sense of rotation flips with handedness).</item>
    /// </list>
    /// Both maps are their own inverse. Composition is preserved: <c>R(a*b) = R(a)*R(b)</c>, so local
    /// rotations can be converted joint by joint, and <c>R(q).Rotate(P(v)) = P(q.Rotate(v))</c>.
    ///
    /// Head/eye Euler angles (radians, Live Link Face convention: +yaw turns to the character's
    /// left, +pitch looks down, +roll tilts the head towards the character's left shoulder) become Unity
    /// rotations about the character's own axes: yaw about up (negated: Unity's +Y turns right),
    /// pitch about the character's right axis (+X in Unity turns forward downwards), roll about forward.
    /// </summary>
    public static class CoordinateConversion
    {
        public static Vec3 PositionToUnity(Vec3 p) { return new Vec3(-p.x, p.y, p.z); }
        public static Quat RotationToUnity(Quat q) { return new Quat(q.x, -q.y, -q.z, q.w); }
        public static Vec3 PositionFromUnity(Vec3 p) { return PositionToUnity(p); }
        public static Quat RotationFromUnity(Quat q) { return RotationToUnity(q); }

        /// <summary>
        /// Head/eye (yaw, pitch, roll) in radians -> a rotation in Unity character space (left-handed,
        /// +Z forward, +Y up, +X the character's right). Order: yaw, then pitch, then roll (intrinsic),
        /// like Unity's <c>Quaternion.Euler(pitch, yaw, roll)</c> (Z, then X, then Y extrinsic).
        /// </summary>
        public static Quat YawPitchRollToUnity(float yaw, float pitch, float roll)
        {
            // Unity: Euler(x, y, z) = Ry(y) * Rx(x) * Rz(z); rotations are left-handed (clockwise looking
            // down the axis towards the origin... i.e. +Y turns +Z towards +X = to the character's right).
            var ry = Quat.AxisAngle(new Vec3(0, 1, 0), -yaw);   // +yaw = to the character's left = -Y in Unity
            var rx = Quat.AxisAngle(new Vec3(1, 0, 0), pitch);  // +pitch = look down = +X in Unity
            var rz = Quat.AxisAngle(new Vec3(0, 0, 1), roll);   // +roll = top towards character's left (-X) = +Z in Unity
            return ry * rx * rz;
        }

        /// <summary>
        /// Local joint rotations (server space, parent-relative) -> global (model-space) rotations.
        /// <paramref name="parents"/>[i] &lt; i, -1 for a root. Works in either handedness.
        /// </summary>
        public static void LocalToGlobal(int[] parents, Quat[] local, Quat[] global)
        {
            for (int i = 0; i < local.Length; i++)
            {
                int p = parents[i];
                global[i] = p < 0 ? local[i] : (global[p] * local[i]).Normalized();
            }
        }
    }
}
