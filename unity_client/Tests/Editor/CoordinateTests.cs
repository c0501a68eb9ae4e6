using System;
using NUnit.Framework;

namespace EmoAnim.Tests
{
    [TestFixture]
    public class CoordinateConversionTests
    {
        const float Eps = 1e-5f;

        static void Near(Vec3 e, Vec3 a, string m = null)
        {
            Assert.AreEqual(e.x, a.x, 1e-4, m); Assert.AreEqual(e.y, a.y, 1e-4, m); Assert.AreEqual(e.z, a.z, 1e-4, m);
        }

        static void SameRotation(Quat e, Quat a, string m = null)
        {
            Assert.Less(Quat.Angle(e, a), 1e-3, m + " expected " + e + " got " + a);
        }

        static Quat RandomQuat(Random r)
        {
            return new Quat((float)(r.NextDouble() * 2 - 1), (float)(r.NextDouble() * 2 - 1), (float)(r.NextDouble() * 2 - 1), (float)(r.NextDouble() * 2 - 1)).Normalized();
        }

        [Test]
        public void PositionsMirrorX()
        {
            Near(new Vec3(-1, 2, 3), CoordinateConversion.PositionToUnity(new Vec3(1, 2, 3)));
            // character's left is +X on the server, -X in Unity; up and forward unchanged
            Near(new Vec3(-0.09f, 0.72f, 0.1f), CoordinateConversion.PositionToUnity(new Vec3(0.09f, 0.72f, 0.1f)));
        }

        [Test]
        public void ConversionIsInvolutionAndHomomorphism()
        {
            var r = new Random(1);
            for (int i = 0; i < 200; i++)
            {
                var a = RandomQuat(r); var b = RandomQuat(r);
                var v = new Vec3((float)r.NextDouble(), (float)r.NextDouble(), (float)r.NextDouble());
                SameRotation(a, CoordinateConversion.RotationFromUnity(CoordinateConversion.RotationToUnity(a)));
                // R(a*b) = R(a) * R(b): local rotations can be converted joint by joint
                SameRotation(CoordinateConversion.RotationToUnity(a * b),
                             CoordinateConversion.RotationToUnity(a) * CoordinateConversion.RotationToUnity(b));
                // rotating the mirrored vector with the converted rotation = mirroring the rotated vector
                Near(CoordinateConversion.PositionToUnity(a.Rotate(v)),
                     CoordinateConversion.RotationToUnity(a).Rotate(CoordinateConversion.PositionToUnity(v)));
            }
        }

        [Test]
        public void TurningLeftStaysTurningLeft()
        {
            // Server (right-handed): +90 deg about +Y turns forward (+Z) to +X = the character's left.
            var q = Quat.AxisAngle(new Vec3(0, 1, 0), (float)(Math.PI / 2));
            Near(new Vec3(1, 0, 0), q.Rotate(new Vec3(0, 0, 1)));
            // Unity (left-handed): the same motion must turn forward to -X = the character's left.
            var u = CoordinateConversion.RotationToUnity(q);
            Near(new Vec3(-1, 0, 0), u.Rotate(new Vec3(0, 0, 1)));
            // Raising nothing else: up stays up.
            Near(new Vec3(0, 1, 0), u.Rotate(new Vec3(0, 1, 0)));
        }

        [Test]
        public void LeftArmDownConvertsToLeftArmDown()
        {
            // Server T-pose: left arm along +X. Rotating it -90 deg about +Z points it down (-Y).
            var q = Quat.AxisAngle(new Vec3(0, 0, 1), (float)(-Math.PI / 2));
            Near(new Vec3(0, -1, 0), q.Rotate(new Vec3(1, 0, 0)));
            // Unity T-pose: left arm along -X; the converted rotation must point it down too.
            Near(new Vec3(0, -1, 0), CoordinateConversion.RotationToUnity(q).Rotate(new Vec3(-1, 0, 0)));
        }

        [Test]
        public void YawPitchRollFollowLiveLinkFaceConvention()
        {
            float a = (float)(Math.PI / 2);
            // PoseFrame's angles (the wire's yaw negated by ProtocolClient): +yaw: forward turns to the
            // character's left (-X in Unity); +pitch looks down; +roll tilts the top to the left shoulder
            Near(new Vec3(-1, 0, 0), CoordinateConversion.YawPitchRollToUnity(a, 0, 0).Rotate(new Vec3(0, 0, 1)));
            // +pitch: looks down
            Near(new Vec3(0, -1, 0), CoordinateConversion.YawPitchRollToUnity(0, a, 0).Rotate(new Vec3(0, 0, 1)));
            // +roll: top of the head towards the character's left
            Near(new Vec3(-1, 0, 0), CoordinateConversion.YawPitchRollToUnity(0, 0, a).Rotate(new Vec3(0, 1, 0)));
            // small combined angles compose in order yaw, pitch, roll (Unity's Euler order Z, X, Y)
            var q = CoordinateConversion.YawPitchRollToUnity(0.2f, 0.1f, 0.05f);
            var expected = Quat.AxisAngle(new Vec3(0, 1, 0), -0.2f) * Quat.AxisAngle(new Vec3(1, 0, 0), 0.1f) * Quat.AxisAngle(new Vec3(0, 0, 1), 0.05f);
            SameRotation(expected, q);
        }

        [Test]
        public void LocalToGlobalChains()
        {
            var parents = new[] { -1, 0, 1 };
            var r = Quat.AxisAngle(new Vec3(0, 0, 1), 0.3f);
            var local = new[] { r, r, r };
            var global = new Quat[3];
            CoordinateConversion.LocalToGlobal(parents, local, global);
            SameRotation(Quat.AxisAngle(new Vec3(0, 0, 1), 0.9f), global[2]);
        }

        [Test]
        public void SlerpHalfwayAndShortestPath()
        {
            var a = Quat.Identity;
            var b = Quat.AxisAngle(new Vec3(0, 1, 0), 1.0f);
            SameRotation(Quat.AxisAngle(new Vec3(0, 1, 0), 0.5f), Quat.Slerp(a, b, 0.5f));
            var negB = new Quat(-b.x, -b.y, -b.z, -b.w);
            SameRotation(Quat.AxisAngle(new Vec3(0, 1, 0), 0.5f), Quat.Slerp(a, negB, 0.5f));
        }
    }

    [TestFixture]
    public class BodyRetargetTests
    {
        [Test]
        public void RestPoseKeepsBoneRest()
        {
            var rt = new BodyRetarget(new[] { -1, 0 });
            var g = rt.GlobalUnity(new[] { Quat.Identity, Quat.Identity });
            var rest = Quat.AxisAngle(new Vec3(1, 0, 0), 0.7f);    // any bone axis convention
            var character = Quat.AxisAngle(new Vec3(0, 1, 0), 2f); // character turned in the world
            var w = BodyRetarget.BoneWorld(character, g[1], rest);
            Assert.Less(Quat.Angle(character * rest, w), 1e-4);
        }

        [Test]
        public void ParentRotationReachesChildInUnitySpace()
        {
            // spine (0) -> left upper arm (1). Lower the arm by rotating the *spine* by -90 deg about +Z
            // (server), nothing local on the arm: the arm's world direction must still come out pointing
            // down in Unity.
            var rt = new BodyRetarget(new[] { -1, 0 });
            var g = rt.GlobalUnity(new[] { Quat.AxisAngle(new Vec3(0, 0, 1), (float)(-Math.PI / 2)), Quat.Identity });
            // Unity-side bone whose local +Y points along the arm (-X in character space at rest):
            var rest = Quat.AxisAngle(new Vec3(0, 0, 1), (float)(Math.PI / 2)); // maps +Y to -X
            var boneWorld = BodyRetarget.BoneWorld(Quat.Identity, g[1], rest);
            var dir = boneWorld.Rotate(new Vec3(0, 1, 0));
            Assert.AreEqual(0, dir.x, 1e-4); Assert.AreEqual(-1, dir.y, 1e-4); Assert.AreEqual(0, dir.z, 1e-4);
        }

        [Test]
        public void RejectsBadSkeletons()
        {
            Assert.Throws<ArgumentException>(() => new BodyRetarget(new[] { 1, -1 }));
            var rt = new BodyRetarget(new[] { -1 });
            Assert.Throws<ArgumentException>(() => rt.GlobalUnity(new Quat[2]));
        }
    }
}
